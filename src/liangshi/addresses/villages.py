"""Villages and natural villages as people write them, for the address parser (`liangshi.addresses.parsing`):
by their shape, when the statistics bureau's list (the gazetteer) does not have them.

- a natural village written after its township and before a door number or a group, without 村: 莫家埭153号,
  王家里914号, 崔梁庄 (last), 和睦桥12组 — a name ending in a village word (庄, 埭, 湾, 宅, 坞, 岙, …, or X家X);
- a village's office written after its name: 协议村村委会, 姜家汇村委会, 大秦庄村委;
- a township or a zone written before the village, glued onto it by the village pattern: 龙溪乡百乐村 (the
  township 龙溪乡, the village 百乐村), 长城工业区陈园村 (a zone, then the village);
- a known village's short name that cuts a longer village's name (荆山 of 荆山岭社区, 协塘 of 协塘家自然村).
"""

from __future__ import annotations

import re

from liangshi.addresses.street_patterns import CN_NUM

__all__ = ["cuts_village", "natural_village", "split_village", "village_office_end"]

_CJK = "\u4e00-\u9fff"
_VILLAGE_WORD = rf"(?:[{_CJK}]家[{_CJK}]|[{_CJK}]{{1,3}}(?:庄|埭|湾|宅|坞|岙|畈|垟|浜|寨|屯|圩|洼|坳|家))"
_AFTER_VILLAGE = (
    rf"(?=\d{{1,5}}(?:-\d{{1,4}})*(?:号(?![楼栋幢院])|(?![\d号楼层栋幢单元室]))"
    rf"|第?(?:\d{{1,3}}|{CN_NUM})(?:村民小组|小组|组)|$)"
)
_NATURAL = re.compile(
    rf"(?:{_VILLAGE_WORD}|[{_CJK}]{{2,4}}?(?=第?(?:\d{{1,3}}|{CN_NUM})(?:村民小组|小组|组)))"
    rf"{_AFTER_VILLAGE}"
)
_NOT_VILLAGE = re.compile(
    r"(?:路|街|道|巷|弄|胡同|大厦|广场|花园|家园|人家|公寓|小区|中心|市场|公司|厂|店|镇|乡|县|区|市|组|园|苑|城)"
)
# after a village's 村: its committee (村民委员会, 村委会, 村委, or 委会 and 委 completing 村委会 and 村委)
_OFFICE_AFTER = re.compile(r"(?:村民委员会|村委会|村委|委员会|委会|委)")
_PREFIX = re.compile(
    rf"^(?P<pre>[{_CJK}]*?(?:街道|镇|乡|县|工业园区|工业区|开发区|园区))"
    rf"(?P<village>(?:(?!街道|镇|乡|县|工业|园区|开发区)[{_CJK}A-Za-z\d]){{2,8}}(?:村|社区))$"
)
_TOWN_END = re.compile(r"(?:街道|镇|乡)$")


def natural_village(text: str, pos: int) -> int:
    """The end of a natural village written at `pos` by its shape (before a door number or a group, or last),
    or -1."""
    m = _NATURAL.match(text, pos)
    if m is None or len(m.group()) < 2 or _NOT_VILLAGE.search(m.group()):
        return -1
    return m.end()


def village_office_end(text: str, end: int) -> int:
    """The end of a village's name read to `end` (…村), its office's word included (协议村村委会, 大秦庄村委)."""
    if not text[:end].endswith("村"):
        return end
    m = _OFFICE_AFTER.match(text, end)
    return m.end() if m else end


def split_village(name: str) -> tuple[str | None, str | None, str]:
    """A village's name read by its pattern, split where a township or a zone was written before it: (the
    township, the zone, the village). 龙溪乡百乐村 → (龙溪乡, None, 百乐村); 长城工业区陈园村 → (None, 长城工业区,
    陈园村); 拉沽族自治县富东乡邦崴村 → (富东乡, None, 邦崴村)."""
    m = _PREFIX.match(name)
    if m is None:
        return None, None, name
    pre, village = m.group("pre"), m.group("village")
    pre = re.split(r"县", pre)[-1]
    if not pre:
        return None, None, village
    if _TOWN_END.search(pre):
        return (pre, None, village) if len(pre) >= 2 else (None, None, name)
    return None, pre, village


_VILLAGE_END = re.compile(r"(?:自然村|社区|村)$")


def cuts_village(written: str, full: str, longer: str) -> bool:
    """Whether a known village's short name (`written` for `full`) cuts the village name `longer` read by its
    pattern at the same place: one character only before the longer name's suffix (荆山 of 荆山岭社区, 协塘 of
    协塘家自然村), no division word in it. Not when a whole name follows (布政张家潭村: the village 布政, then
    its natural village)."""
    if written == full or not longer.startswith(written):
        return False
    rest = _VILLAGE_END.sub("", longer[len(written) :])
    return len(rest) == 1 and not re.search(r"[省市县区乡镇]", rest)
