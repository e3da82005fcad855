"""Surname readings: characters whose reading as a surname differs from their everyday reading.

GB/T 28039-2011 (汉语拼音 rules for Chinese personal names) spells a surname with its surname reading
(单 Shàn, not dān). pypinyin 0.55 has no surname mode (its ``lazy_pinyin("单")`` is ``dan``), so this
table gives the surname reading of the common polyphonic surnames and the compound surnames, after the
surname lists of 《百家姓》 and the readings in 《现代汉语词典》 (7th ed.). Every reading here is one of
pypinyin's own heteronym readings of that character (``pypinyin.pinyin(ch, heteronym=True)``), which a test
checks, so the table only chooses among readings pypinyin already knows.
"""

from __future__ import annotations

__all__ = ["COMPOUND_SURNAMES", "SURNAME_READINGS"]

#: Single-character surnames whose surname reading is not pypinyin's default reading.
SURNAME_READINGS: dict[str, str] = {
    "单": "shan",
    "曾": "zeng",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "朴": "piao",
    "查": "zha",
    "乐": "yue",
    "盖": "ge",
    "缪": "miao",
    "翟": "zhai",
    "覃": "qin",
    "尉": "wei",
    "员": "yun",
    "句": "gou",
    "种": "chong",
    "折": "she",
    "阚": "kan",
    "宿": "su",
    "召": "shao",
    "秘": "bi",
    "牟": "mou",
    "繁": "po",
    "祭": "zhai",
    "冼": "xian",
    "隗": "wei",
    "眭": "sui",
    "薄": "bo",
    "柏": "bai",
    "殷": "yin",
    "郇": "huan",
    "朝": "chao",
    "都": "du",
    "重": "chong",
    "沈": "shen",
    "任": "ren",
    "能": "nai",
    "那": "na",
}

#: Compound surnames and their readings (checked before the single-character table).
COMPOUND_SURNAMES: dict[str, str] = {
    "欧阳": "ouyang",
    "司马": "sima",
    "诸葛": "zhuge",
    "上官": "shangguan",
    "东方": "dongfang",
    "夏侯": "xiahou",
    "公孙": "gongsun",
    "慕容": "murong",
    "宇文": "yuwen",
    "皇甫": "huangfu",
    "令狐": "linghu",
    "尉迟": "yuchi",
    "长孙": "zhangsun",
    "万俟": "moqi",
    "单于": "chanyu",
    "澹台": "tantai",
    "司徒": "situ",
    "司空": "sikong",
    "端木": "duanmu",
    "轩辕": "xuanyuan",
    "呼延": "huyan",
    "南宫": "nangong",
    "西门": "ximen",
    "闻人": "wenren",
}
