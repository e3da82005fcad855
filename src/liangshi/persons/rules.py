"""Person rules: documents agree with the person, one head per household."""

from __future__ import annotations

import datetime as dt
import functools

from liangshi.common import idnumber
from liangshi.errors import ValidationFailed

HEAD = "02"  # GB/T 4761 户主
ID_KINDS = ("resident_id", "hmt_residence_permit", "foreign_pr_card")
# A person's main items (主项) and general items (一般项目) as the person page shows them and an inspection checks
# them: 一般项目齐全准确率 counts the general items, GENERAL_ITEMS of them expected for each person found.
MAIN_ITEMS = ("name", "sex", "birth_date", "ethnicity", "nationality", "hukou_region", "hukou_address")
GENERAL_ITEMS = ("education", "marital_status", "occupation", "workplace", "phone")


def check_document_agrees(
    doc_type: str, number: str, *, birth_date: dt.date | None, sex: str, today: dt.date
) -> None:
    """An ID-number document must agree with the person's birth date and sex (GB 11643: they are in it)."""
    if doc_type not in ID_KINDS or len(number) != 18:
        return
    check = idnumber.check_id_number(number, today=today)
    if not check.valid:
        return
    if birth_date is not None and check.birth_date != birth_date:
        raise ValidationFailed(
            "person.birth_date_mismatch",
            "出生日期与身份证号码不一致",
            "The birth date does not match the ID number",
            {"field": "birth_date", "from_id": check.birth_date.isoformat() if check.birth_date else None},
        )
    expected_sex = {"male": "1", "female": "2"}.get(check.sex or "")
    if sex in ("1", "2") and expected_sex and sex != expected_sex:
        raise ValidationFailed(
            "person.sex_mismatch",
            "性别与身份证号码不一致",
            "The sex does not match the ID number",
            {"field": "sex", "from_id": expected_sex},
        )


def birth_date_from_id(doc_type: str, number: str, today: dt.date) -> dt.date | None:
    """The birth date an ID number carries, if it is one."""
    if doc_type not in ID_KINDS or len(number) != 18:
        return None
    return idnumber.check_id_number(number, today=today).birth_date


# Surnames whose reading differs from the character's most common one (曾 zēng, not céng).
SURNAME_READINGS = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "区": "ou",
    "查": "zha",
    "仇": "qiu",
    "朴": "piao",
    "翟": "zhai",
    "乐": "yue",
    "缪": "miao",
    "覃": "qin",
    "盖": "ge",
    "召": "shao",
    "种": "chong",
    "员": "yun",
    "尉": "yu",
    "长": "zhang",
    "重": "chong",
    "沈": "shen",
    "秘": "bi",
}


@functools.lru_cache(maxsize=65536)  # bulk imports meet the same names many times
def name_keys(name: str) -> tuple[str, str]:
    """Search keys of a name: full pinyin and initials, lowercase, no tones or spaces (张三 → zhangsan, zs).

    Latin-script names keep their letters (John Smith → johnsmith, js).
    """
    # Imported here, not at the top: pypinyin's dictionaries take about a second to load; only name keys need them.
    from pypinyin import lazy_pinyin

    text = name.strip()
    if not text:
        return "", ""
    syllables = lazy_pinyin(text)
    if text[0] in SURNAME_READINGS and syllables:
        syllables[0] = SURNAME_READINGS[text[0]]
    words: list[str] = []
    for chunk in syllables:
        words.extend(
            w for w in "".join(c if c.isalnum() else " " for c in chunk.lower()).split() if w.isascii()
        )
    return "".join(words)[:200], "".join(w[0] for w in words)[:50]


def search_key(text: str) -> str | None:
    """A typed query as a pinyin key (letters only, lowercase, no spaces), or None when it is not one."""
    value = "".join(text.split()).lower()
    if value and value.isascii() and value.isalpha():
        return value
    return None


# ---- forgiving search: the query's parts and the pinyin keys it may have been meant as ---------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Hubei speech merges these (linkage.normalise.DIALECT_FOLDS); a syllable is tried with each written form.
_INITIAL_SWAPS = (("huang", "wang"), ("hu", "fu"), ("n", "l"))
_FINAL_SWAPS = (("eng", "en"), ("ing", "in"))


def query_parts(text: str) -> tuple[str, str | None]:
    """A typed query split into the name and an ID-number suffix (3 to 6 trailing digits or X typed beside the
    name, in either order): `张伟 1234` -> (`张伟`, `1234`)."""
    name_parts: list[str] = []
    suffix: str | None = None
    for token in text.split():
        compact = token.upper()
        if 3 <= len(compact) <= 6 and compact.rstrip("X").isdigit() and compact.count("X") <= 1:
            suffix = compact
        else:
            name_parts.append(token)
    return "".join(name_parts), suffix


def syllables(name: str) -> list[str]:
    """The toneless pinyin syllables of a name as its search key reads them (surname readings applied)."""
    # Imported here, not at the top: pypinyin's dictionaries take about a second to load; only name keys need them.
    from pypinyin import lazy_pinyin

    text = name.strip()
    out = [s.lower() for s in lazy_pinyin(text) if s.isascii() and s.isalpha()]
    if text and text[0] in SURNAME_READINGS and out:
        out[0] = SURNAME_READINGS[text[0]]
    return out


def _syllable_forms(syllable: str) -> set[str]:
    forms = {syllable}
    for a, b in _INITIAL_SWAPS:
        for x, y in ((a, b), (b, a)):
            if syllable.startswith(x):
                forms.add(y + syllable[len(x) :])
                break
    for form in list(forms):
        for a, b in _FINAL_SWAPS:
            for x, y in ((a, b), (b, a)):
                if (
                    form.endswith(x)
                    and not (x == "en" and form.endswith("eng"))
                    and not (x == "in" and form.endswith("ing"))
                ):
                    forms.add(form[: -len(x)] + y)
    return forms


def dialect_keys(syllables_: list[str], limit: int = 256) -> set[str]:
    """Every search key a name read with Hubei's mergers may be written as (h/f, huang/wang, n/l, en/eng,
    in/ing), e.g. 胡 hu -> {hu, fu}; at most `limit` keys."""
    keys = {""}
    for syllable in syllables_:
        keys = {k + f for k in keys for f in _syllable_forms(syllable)}
        if len(keys) > limit:
            return set(sorted(keys)[:limit])
    return keys


def one_edit_keys(key: str) -> set[str]:
    """Every key one edit from `key` (a letter dropped, added, replaced, or two neighbours swapped): a pinyin typo."""
    if len(key) < 4:
        return set()
    splits = [(key[:i], key[i:]) for i in range(len(key) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    out |= {a + c + b for a, b in splits for c in _LETTERS}
    out.discard(key)
    return out


# Neighbouring keys on a QWERTY keyboard (the pinyin input methods' layout): a letter struck for its neighbour.
_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEIGHBOURS: dict[str, set[str]] = {c: set() for c in _LETTERS}
for _r, _row in enumerate(_ROWS):
    for _i, _c in enumerate(_row):
        for _dr in (-1, 0, 1):
            if 0 <= _r + _dr < len(_ROWS):
                _other = _ROWS[_r + _dr]
                # The row below sits half a key to the right: its neighbours are at i-1 and i (above: i, i+1).
                span = {0: (_i - 1, _i + 1), 1: (_i - 1, _i), -1: (_i, _i + 1)}[_dr]
                _NEIGHBOURS[_c] |= {_other[j] for j in range(span[0], span[1] + 1) if 0 <= j < len(_other)}
        _NEIGHBOURS[_c].discard(_c)


def likely_typo_keys(key: str) -> set[str]:
    """The keys one edit from `key` that a typist most often means (a noisy-channel ranking of one_edit_keys):
    the query with a letter dropped (a letter missing, as in zhangwi, or the g of ang/eng/ing, the h of
    zh/ch/sh), two neighbours swapped, a letter struck for its keyboard neighbour, or a letter struck twice or
    beside its neighbour. A letter replaced by any letter far from it, or added anywhere, is less likely."""
    if len(key) < 4:
        return set()
    splits = [(key[:i], key[i:]) for i in range(len(key) + 1)]
    out = {a + c + b for a, b in splits for c in _LETTERS}  # the query dropped a letter of the name
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _NEIGHBOURS.get(b[0], set())}
    for i, ch in enumerate(key):  # a letter struck twice, or beside its neighbour, is one too many
        near = {key[i - 1] if i else "", key[i + 1] if i + 1 < len(key) else ""}
        if near & ({ch} | _NEIGHBOURS.get(ch, set())):
            out.add(key[:i] + key[i + 1 :])
    out.discard(key)
    return out


def within_one_edit(a: str, b: str) -> bool:
    """Whether two keys are equal or one edit apart (the Damerau kind: an adjacent swap counts as one)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    return b in one_edit_keys(a) if len(a) >= 4 else False
