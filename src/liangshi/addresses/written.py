"""Address text as people write it, normalised (`liangshi.addresses.parsing`): full-width and traditional
characters, separators and punctuation, lead-ins before the address, and Chinese numerals."""

from __future__ import annotations

import re
import unicodedata

# ---------------------------------------------------------------------------------------------------------
# Text normalisation and Chinese numerals
# ---------------------------------------------------------------------------------------------------------

_TRADITIONAL = str.maketrans(
    {
        "號": "号",
        "棟": "栋",
        "樓": "楼",
        "層": "层",
        "單": "单",
        "區": "区",
        "縣": "县",
        "鎮": "镇",
        "鄉": "乡",
        "門": "门",
        "—": "-",
        "–": "-",
        "‐": "-",
        "―": "-",
        "~": "-",
    }
)
_DROP = re.compile(r"[\s,，、。;；:：()（）\[\]【】\"“”'‘’·/|>＞_]+")
_PREFIX = re.compile(r"^(?:中华人民共和国|中国)")
_DIGIT_SEPARATOR = re.compile(r"(?<=\d)[_/](?=[A-Za-z]?\d)")
_LISTED = re.compile(r"(?<!\d)(?P<first>\d{1,5})(?:[、,，]\d{1,5})*[、,，](?P<last>\d{1,5})(?!\d)")
_DASH_AS_ONE = re.compile(r"(?<=\d)[一ー－](?=\d)")
_LETTER_O = re.compile(r"(?<=\d)[oO](?=\d)")
# A hyphen between two names is a separator (湖北-武汉-洪山区); between digits it is part of a number.
_NAME_HYPHEN = re.compile(r"(?<=[\u4e00-\u9fff])-+|-+(?=[\u4e00-\u9fff])")
# What people write before the address: a phone number, a lead-in phrase (我家的地址是, 收货地址).
_LEAD_PHONE = re.compile(r"^(?:\+?86)?(?:1\d{10}|0\d{2,3}-?\d{7,8})")
_LEAD_PHRASE = re.compile(
    r"^(?:我家|我的|我们家|家庭|家|现|现在|目前|户籍|居住|联系|收货|收件|寄送|送货|详细|通讯|通信)?"
    r"(?:的)?(?:住址|地址|住在|住|位于|在)(?:是|为|在)?"
)

_CN_DIGIT = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


def chinese_number(text: str) -> int | None:
    """`3` → 3, `三` → 3, `十二` → 12, `二十一` → 21, `一百零五` → 105, `五零一` → 501; None if not a number."""
    if text.isascii() and text.isdigit():
        return int(text)
    if not text or any(ch not in _CN_DIGIT and ch not in "十百" for ch in text):
        return None
    if "十" not in text and "百" not in text:
        return int("".join(str(_CN_DIGIT[ch]) for ch in text))
    total = 0
    current = 0
    for ch in text:
        if ch in _CN_DIGIT:
            current = _CN_DIGIT[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:  # 百
            total += (current or 1) * 100
            current = 0
    return total + current


def normalize_address_text(text: str) -> str:
    """NFKC (full-width to half-width), traditional plate words to simplified, drop spaces and punctuation."""
    value = unicodedata.normalize("NFKC", text).translate(_TRADITIONAL)
    value = _DIGIT_SEPARATOR.sub("-", value)  # 3_6_2101, 3/6/2101: building, unit and room
    value = _DASH_AS_ONE.sub("-", value)  # 8一5室: a dash typed as the numeral one
    value = _LETTER_O.sub("0", value)  # 3o7: a zero typed as the letter o
    value = _LISTED.sub(
        lambda m: f"{m['first']}-{m['last']}", value
    )  # 101、102号: listed, read as their span
    value = _DROP.sub("", value)
    value = _NAME_HYPHEN.sub("", value)
    return _PREFIX.sub("", value)
