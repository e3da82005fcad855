"""Validators for free text and person names entering the registry."""

from __future__ import annotations

import re
import unicodedata

from liangshi.errors import ValidationFailed

__all__ = ["FORBIDDEN_SEQUENCES", "NAME_MAX_LEN", "clean_person_name", "clean_text", "halfwidth_alnum"]

#: Sequences refused in free text (markup and SQL-comment fragments), checked in this order.
FORBIDDEN_SEQUENCES: tuple[str, ...] = ("<", ">", ";", "\\", "--", "/*")
NAME_MAX_LEN = 50

# Full-width digits and Latin letters only; full-width punctuation (，！？：；（）)
# is Chinese punctuation and stays.
_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})


def halfwidth_alnum(value: str) -> str:
    """Turn full-width digits and letters into ASCII and U+3000 into a space; leave everything else."""
    value = _FULLWIDTH_ALNUM.sub(lambda m: chr(ord(m.group()) - 0xFEE0), value)
    return value.replace("\u3000", " ")


def _char_label(ch: str) -> str:
    """A printable label for a refused character (``U+0007`` for invisible ones)."""
    return ch if ch.isprintable() and not ch.isspace() else f"U+{ord(ch):04X}"


def clean_text(value: str, *, field: str, max_len: int, multiline: bool = False) -> str:
    """Strip and half-width free text; refuse control characters, markup/SQL fragments, empty, too long."""
    text = halfwidth_alnum(value)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.strip()
    if not text:
        raise ValidationFailed(
            "text.empty",
            f"字段“{field}”不能为空",
            f"Field {field!r} must not be empty",
            {"field": field},
        )
    for ch in text:
        if (multiline and ch in "\n\t") or unicodedata.category(ch) not in _REFUSED_CATEGORIES:
            continue
        label = _char_label(ch)
        raise ValidationFailed(
            "text.forbidden",
            f"字段“{field}”含有不允许的字符：{f'控制字符 {label}'}",
            f"Field {field!r} contains a forbidden character: {f'control character {label}'}",
            {"field": field, "char": label},
        )
    for seq in FORBIDDEN_SEQUENCES:
        if seq in text:
            raise ValidationFailed(
                "text.forbidden",
                f"字段“{field}”含有不允许的字符：{f'“{seq}”'}",
                f"Field {field!r} contains a forbidden character: {seq!r}",
                {"field": field, "char": seq},
            )
    if len(text) > max_len:
        raise ValidationFailed(
            "text.too_long",
            f"字段“{field}”过长：最多{max_len}个字符，实际{len(text)}个",
            f"Field {field!r} is too long: at most {max_len} characters, got {len(text)}",
            {"field": field, "max_len": max_len, "length": len(text)},
        )
    return text


# Middle dots seen in transliterated names (·, ・, •, ･, ‧, ∙, ⋅) all become U+00B7.
_MIDDLE_DOTS = re.compile("[\u00b7\u30fb\u2022\uff65\u2027\u2219\u22c5]")
_APOSTROPHES = re.compile("[\u2019\u2018\u02bc\uff07]")
_HYPHENS = re.compile("[\u2010\u2011\u2012\u2013\uff0d]")
_SPACES = re.compile(r"\s+")
_SEPARATORS = frozenset(" ·-'")


def _is_ideograph(ch: str) -> bool:
    """CJK unified/compatibility ideographs in any plane, and 〇."""
    cp = ord(ch)
    return (
        0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3FFFF
        or cp == 0x3007
    )


def _is_latin_letter(ch: str) -> bool:
    """A Latin letter, accented ones included (José, Müller, Nguyễn)."""
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")


def clean_person_name(value: str, *, field: str = "name") -> str:
    """Normalise a person's name (CJK, Latin, space, middle dot, hyphen, apostrophe; 1–50 chars) or refuse."""
    text = halfwidth_alnum(value)
    text = unicodedata.normalize("NFC", text)
    text = _MIDDLE_DOTS.sub("\u00b7", text)
    text = _APOSTROPHES.sub("'", text)
    text = _HYPHENS.sub("-", text)
    text = _SPACES.sub(" ", text).strip()
    ok = (
        1 <= len(text) <= NAME_MAX_LEN
        and all(_is_ideograph(ch) or _is_latin_letter(ch) or ch in _SEPARATORS for ch in text)
        and text[0] not in _SEPARATORS
        and text[-1] not in _SEPARATORS
    )
    if not ok:
        raise ValidationFailed(
            "name.invalid",
            f"姓名“{value}”无效：只能包含汉字、拉丁字母、空格、间隔号（·）、连字符和撇号，"
            f"长度1至{NAME_MAX_LEN}个字符",
            f"Name {value!r} is invalid: only CJK characters, Latin letters, spaces, middle dot (·), "
            f"hyphen and apostrophe, 1 to {NAME_MAX_LEN} characters",
            {"field": field, "input": value},
        )
    return text
