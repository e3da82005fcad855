"""How alike a written road name is to a street's name: the pure half of ranked address matching.

    >>> road_likeness("花圆路", "花园路")
    (0.85, 'homophone')
    >>> road_likeness("经3路", "经三路")
    (0.95, 'numerals')

Kinds, best first: the same name (`exact`); the same name with its numbers written the other way (`numerals`,
经3路 / 经三路); the same sound (`homophone`: each character the same or sharing a reading, by pypinyin without tones,
heteronyms included: 花圆路 / 花园路, 长星路 / 长兴路); one character
changed, added or left out in a name of three or more (`typo`); the same name without its road word
(`suffix`, 滨湖南 / 滨湖南路). Anything further is not a candidate.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin

__all__ = ["KIND_SCORES", "road_likeness"]

KIND_SCORES: dict[str, float] = {
    "exact": 1.0,
    "numerals": 0.95,
    "homophone": 0.85,
    "homophone_reading": 0.8,
    "suffix": 0.8,
    "typo": 0.75,
}
_DIGITS = str.maketrans("0123456789", "零一二三四五六七八九")
_ROAD_WORDS = ("大道", "大街", "胡同", "路", "街", "巷", "道", "弄", "里")


@lru_cache(maxsize=8192)
def _readings(ch: str) -> frozenset[str]:
    """Every reading of a character, without tones (长 is chang and zhang)."""
    return frozenset(pinyin(ch, style=Style.NORMAL, heteronym=True)[0])


def _sounds_alike(a: str, b: str) -> bool:
    """Same length and, character by character, the same character or one reading in common."""
    return len(a) == len(b) and all(x == y or _readings(x) & _readings(y) for x, y in zip(a, b, strict=True))


def _numerals(name: str) -> str:
    """Arabic digits written as Chinese ones, digit by digit (经3路 → 经三路; 10 → 一零, compared alike)."""
    return name.translate(_DIGITS)


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether one substitution, insertion or deletion turns `a` into `b`."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _stem(name: str) -> str:
    for word in _ROAD_WORDS:
        if name.endswith(word) and len(name) > len(word) + 1:
            return name[: -len(word)]
    return name


def road_likeness(written: str, name: str) -> tuple[float, str] | None:
    """(score, kind) of a street `name` for a `written` road, or None if it is not a candidate."""
    if not written or not name:
        return None
    if written == name:
        return KIND_SCORES["exact"], "exact"
    if _numerals(written) == _numerals(name):
        return KIND_SCORES["numerals"], "numerals"
    a, b = _numerals(written), _numerals(name)
    if len(a) == len(b) and lazy_pinyin(a) == lazy_pinyin(b):
        return KIND_SCORES["homophone"], "homophone"
    if _sounds_alike(a, b):  # alike only in a character's other reading (长 zhang/chang): a little less sure
        return KIND_SCORES["homophone_reading"], "homophone_reading"
    if (_stem(a) == a) != (_stem(b) == b) and _stem(a) == _stem(b) and len(_stem(a)) >= 2:
        return KIND_SCORES["suffix"], "suffix"  # one written without its road word; 解放路 is not 解放大道
    if min(len(a), len(b)) >= 3 and _one_edit_apart(a, b) and not _differs_in_a_bearing(a, b):
        return KIND_SCORES["typo"], "typo"
    return None


_BEARINGS = set("东南西北中上下前后") | set("零一二三四五六七八九十")


def _differs_in_a_bearing(a: str, b: str) -> bool:
    """滨湖北路 and 滨湖南路 are two roads, not a typo: the changed character is a bearing or a numeral."""
    if len(a) != len(b):
        return False
    return any(x != y and (x in _BEARINGS or y in _BEARINGS) for x, y in zip(a, b, strict=True))
