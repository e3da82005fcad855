"""Stage 1, normalise: turn what a department wrote into comparable values and blocking keys.

- names: NFKC (full-width to half-width), spaces and punctuation dropped, traditional to simplified with
  OpenCC (``t2s``), pinyin keys with pypinyin where the surname takes its surname reading (单 shan, 曾 zeng;
  see :mod:`liangshi.linkage.surnames`), and a dialect key: the pinyin with the mergers of Hubei speech folded
  (:data:`DIALECT_FOLDS`); Latin-script names are lower-cased and tokenised;
- sex codes 男/女/male/female/M/F/1/2 to ``M``/``F``;
- birth dates in every common written form (``1990-01-02``, ``19900102``, ``1990年1月2日``, ``1990/1/2``,
  ``1990.1.2``, ``一九九〇年一月二日``) to ``YYYY-MM-DD``;
- ID numbers through :mod:`liangshi.common.idnumber` (15-digit numbers upgraded to 18), with the ID's own
  birth-date and sex segments checked against the record's birth date and sex (``id_ok``);
- phones: mainland mobiles fast-pathed, everything else through :mod:`liangshi.common.phone`;
- addresses: the name treatment without pinyin.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from liangshi.common.idnumber import check_id_number, normalize_id_text
from liangshi.common.phone import normalize_phone
from liangshi.errors import LiangshiError
from liangshi.linkage.records import LinkRecord
from liangshi.linkage.surnames import COMPOUND_SURNAMES, SURNAME_READINGS

if TYPE_CHECKING:
    import pandas

__all__ = [
    "COLUMNS",
    "DIALECT_FOLDS",
    "NormName",
    "NormRecord",
    "fold_dialect",
    "normalise_birth_date",
    "normalise_frame",
    "normalise_id",
    "normalise_name",
    "normalise_phone",
    "normalise_record",
    "normalise_sex",
    "normalise_text",
    "records_from_frame",
    "to_simplified",
]

_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff]")
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)
_LATIN_TOKENS = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def _converter() -> Any:
    # Imported here, not at the top: OpenCC's dictionaries load only when a name is first converted.
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=200_000)
def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese (OpenCC ``t2s``)."""
    return str(_converter().convert(text))


def normalise_text(text: str | None) -> str | None:
    """NFKC, lower-case, simplified, with whitespace and punctuation removed; None when nothing is left."""
    if text is None:
        return None
    value = _DROP.sub("", unicodedata.normalize("NFKC", text).lower())
    if not value:
        return None
    return to_simplified(value) if _CJK.search(value) else value


@dataclass(frozen=True)
class NormName:
    """A normalised name: as written, simplified, pinyin (surname reading), surname/given pinyin."""

    written: str
    simplified: str
    pinyin: str
    surname: str
    surname_pinyin: str
    given_pinyin: str
    sorted_tokens: str
    #: The pinyin with the dialect mergers folded (:func:`fold_dialect`); None for Latin-script names.
    dialect: str | None = None


#: The sound mergers of Hubei speech (Ezhou; Southwestern and Jiang–Huai Mandarin) that make a clerk write a
#: spoken name with a near-homophone, as (part of the syllable, written, folded to), on toneless pinyin
#: syllables. At most one ``initial`` rule applies to a syllable (the first that matches its start), then at
#: most one ``final`` rule (the first that matches its end).
DIALECT_FOLDS: tuple[tuple[str, str, str], ...] = (
    ("initial", "huang", "wang"),  # 黄/王 huang/wang (before h/f: 黄 is not read fang)
    ("initial", "hu", "fu"),  # h/f before u: 胡/傅 hu/fu, 湖/福 (hua/fa 华/发 is not folded)
    ("initial", "n", "l"),  # n/l: 刘/牛 liu/niu, 兰/南 lan/nan
    ("final", "eng", "en"),  # back/front nasal: 陈/程 chen/cheng, 文/翁
    ("final", "ing", "in"),  # back/front nasal: 林/玲 lin/ling, 民/明
)


@lru_cache(maxsize=4096)
def _fold_syllable(syllable: str) -> str:
    for part in ("initial", "final"):
        for where, written, folded in DIALECT_FOLDS:
            if where != part:
                continue
            if part == "initial" and syllable.startswith(written):
                syllable = folded + syllable[len(written) :]
                break
            if part == "final" and syllable.endswith(written):
                syllable = syllable[: -len(written)] + folded
                break
    return syllable


def fold_dialect(syllables: Iterable[str]) -> str:
    """The toneless pinyin syllables of a name, joined, with :data:`DIALECT_FOLDS` applied to each.

    ``fold_dialect(["niu", "wei"]) == fold_dialect(["liu", "wei"]) == "liuwei"``.
    """
    return "".join(_fold_syllable(s) for s in syllables)


@lru_cache(maxsize=1)
def _pinyin() -> Any:
    # Imported here, not at the top: pypinyin's dictionaries take about a second to load; only name keys need them.
    from pypinyin import lazy_pinyin

    return lazy_pinyin


@lru_cache(maxsize=50_000)
def _char_pinyin(char: str) -> str:
    """The everyday reading of one character (pypinyin), cached: a name is read character by character."""
    return "".join(_pinyin()(char))


@lru_cache(maxsize=64)
def _compound_syllables(surname: str, reading: str) -> tuple[str, ...]:
    """The two syllables of a compound surname's reading (split where both halves are readings of their
    characters), e.g. 令狐 linghu -> (ling, hu); the whole reading if no split fits."""
    # Imported here, not at the top: pypinyin's dictionaries take about a second to load; only name keys need them.
    from pypinyin import Style, pinyin

    first, second = (set(pinyin(ch, style=Style.NORMAL, heteronym=True)[0]) for ch in surname)
    for i in range(1, len(reading)):
        if reading[:i] in first and reading[i:] in second:
            return reading[:i], reading[i:]
    return (reading,)


def _split_surname(name: str) -> tuple[str, str]:
    """(surname, given name) of a simplified Chinese name: compound surnames first, else one character."""
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


@lru_cache(maxsize=500_000)
def normalise_name(text: str | None) -> NormName | None:
    """Normalise a person's name; None when empty."""
    if text is None:
        return None
    nfkc = unicodedata.normalize("NFKC", text).lower().strip()
    if _CJK.search(nfkc):
        written = _DROP.sub("", nfkc)
        simplified = to_simplified(written)
        surname, given = _split_surname(simplified)
        surname_syllables: tuple[str, ...]
        if surname in COMPOUND_SURNAMES:
            surname_syllables = _compound_syllables(surname, COMPOUND_SURNAMES[surname])
        elif surname in SURNAME_READINGS:
            surname_syllables = (SURNAME_READINGS[surname],)
        else:
            surname_syllables = tuple(_char_pinyin(ch) for ch in surname)
        given_syllables = [_char_pinyin(ch) for ch in given]
        surname_py = "".join(surname_syllables)
        given_py = "".join(given_syllables)
        pinyin = surname_py + given_py
        dialect = fold_dialect([*surname_syllables, *given_syllables])
        return NormName(written, simplified, pinyin, surname, surname_py, given_py, pinyin, dialect)
    tokens = _LATIN_TOKENS.findall(unicodedata.normalize("NFKD", nfkc).encode("ascii", "ignore").decode())
    if not tokens:
        return None
    joined = "".join(tokens)
    surname = tokens[-1]
    given = "".join(tokens[:-1])
    return NormName(joined, joined, joined, surname, surname, given, "".join(sorted(tokens)))


_SEX = {
    "男": "M",
    "男性": "M",
    "m": "M",
    "male": "M",
    "1": "M",
    "女": "F",
    "女性": "F",
    "f": "F",
    "female": "F",
    "2": "F",
}


def normalise_sex(text: str | None) -> str | None:
    """男/女/male/female/M/F/1/2 (GB/T 2261.1) to ``M``/``F``; anything else (0, 9, unknown) to None."""
    if text is None:
        return None
    return _SEX.get(unicodedata.normalize("NFKC", text).strip().lower())


_CN_DIGITS = str.maketrans("〇零○Ｏ一二三四五六七八九", "0000123456789")
_CN_TENS = re.compile("([一二三])?十([一二三四五六七八九])?")
_YMD = re.compile(r"(\d{4})\D+(\d{1,2})\D+(\d{1,2})\D*")
_YMD8 = re.compile(r"(\d{4})(\d{2})(\d{2})")


def _cn_tens(match: re.Match[str]) -> str:
    tens = "一二三".index(match.group(1)) + 1 if match.group(1) else 1
    units = "一二三四五六七八九".index(match.group(2)) + 1 if match.group(2) else 0
    return str(tens * 10 + units)


def normalise_birth_date(text: str | None) -> str | None:
    """A birth date in any common written form to ``YYYY-MM-DD`` (components kept even if not a real date)."""
    if text is None:
        return None
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    value = _CN_TENS.sub(_cn_tens, value).translate(_CN_DIGITS)
    match = _YMD.fullmatch(value) or _YMD8.fullmatch(value)
    if match is None:
        # a datetime such as "1990-01-02 00:00:00" or "1990-01-02T00:00"
        head = re.match(r"(\d{4}\D\d{1,2}\D\d{1,2})[ T]", value)
        match = _YMD.fullmatch(head.group(1)) if head else None
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1800 <= year <= 2200 and 1 <= month <= 31 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


@dataclass(frozen=True)
class NormId:
    """A normalised ID number: the text, whether it is a valid GB 11643 number, and its segments."""

    number: str
    valid: bool
    birth_date: str | None
    sex: str | None


def normalise_id(text: str | None, *, today: dt.date) -> NormId | None:
    """Normalise an ID number (15-digit numbers upgraded); invalid numbers keep their cleaned text."""
    if text is None:
        return None
    cleaned = normalize_id_text(text)
    if not cleaned:
        return None
    verdict = check_id_number(cleaned, today=today)
    if verdict.valid and verdict.normalized is not None and verdict.birth_date is not None:
        return NormId(
            verdict.normalized,
            True,
            verdict.birth_date.isoformat(),
            "M" if verdict.sex == "male" else "F",
        )
    birth = sex = None
    if len(cleaned) == 18 and cleaned[:17].isdigit():
        birth = normalise_birth_date(cleaned[6:14])
        sex = "M" if int(cleaned[16]) % 2 else "F"
    return NormId(cleaned, False, birth, sex)


@lru_cache(maxsize=1)
def _digits() -> re.Pattern[str]:
    return re.compile(r"\D+")


def normalise_phone(text: str | None) -> str | None:
    """Phones to E.164 (mainland mobiles fast-pathed); unparseable ones to their digits (>= 7) or None."""
    if text is None:
        return None
    value = unicodedata.normalize("NFKC", text).strip()
    digits = _digits().sub("", value)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    elif len(digits) == 15 and digits.startswith("0086"):
        digits = digits[4:]
    if len(digits) == 11 and digits[0] == "1":
        return "+86" + digits
    if not digits:
        return None
    try:
        return normalize_phone(value)
    except LiangshiError:
        return digits if len(digits) >= 7 else None


@dataclass(frozen=True)
class NormRecord:
    """One record after normalisation: the columns the comparisons and blocking rules read."""

    unique_id: str
    source: str
    person_id: int | None
    name_w: str | None
    name_s: str | None
    name_py: str | None
    surname_s: str | None
    surname_py: str | None
    given_py: str | None
    name_sorted: str | None
    name_dialect: str | None
    sex: str | None
    dob: str | None
    id: str | None
    id_valid: bool
    id_ok: bool
    phone: str | None
    addr: str | None


#: Column names of a normalised frame, in order.
COLUMNS: tuple[str, ...] = tuple(NormRecord.__dataclass_fields__)


def _blank(value: str | None) -> str | None:
    if value is None:
        return None
    value = str(value)
    return value if value.strip() else None


def normalise_record(record: LinkRecord, *, today: dt.date) -> NormRecord:
    """Normalise one record; an ID number is valid only if its birth date is not after `today`."""
    name = normalise_name(_blank(record.name))
    sex = normalise_sex(_blank(record.sex))
    dob = normalise_birth_date(_blank(record.birth_date))
    ident = normalise_id(_blank(record.id_number), today=today)
    id_ok = False
    if ident is not None and ident.valid:
        # The ID's own birth-date and sex segments must agree with what the record says.
        id_ok = (dob is None or dob == ident.birth_date) and (sex is None or sex == ident.sex)
        # A record without a birth date or sex takes them from its valid ID number.
        dob = dob or ident.birth_date
        sex = sex or ident.sex
    return NormRecord(
        unique_id=record.record_id,
        source=record.source or "",
        person_id=record.person_id,
        name_w=name.written if name else None,
        name_s=name.simplified if name else None,
        name_py=name.pinyin if name else None,
        surname_s=name.surname if name else None,
        surname_py=name.surname_pinyin if name else None,
        given_py=(name.given_pinyin or None) if name else None,
        name_sorted=name.sorted_tokens if name else None,
        name_dialect=name.dialect if name else None,
        sex=sex,
        dob=dob,
        id=ident.number if ident else None,
        id_valid=bool(ident and ident.valid),
        id_ok=id_ok,
        phone=normalise_phone(_blank(record.phone)),
        addr=normalise_text(_blank(record.address)),
    )


def normalise_frame(records: Iterable[LinkRecord], *, today: dt.date) -> pandas.DataFrame:
    """Normalise records into a DataFrame with :data:`COLUMNS` (``unique_id`` is the record id)."""
    # Imported here, not at the top: pandas takes about a second to load; only the linkage engine's frames need it.
    import pandas as pd

    rows = [normalise_record(r, today=today) for r in records]
    frame = pd.DataFrame([tuple(r.__dict__.values()) for r in rows], columns=list(COLUMNS))
    frame["person_id"] = frame["person_id"].astype("Int64")
    frame["id_valid"] = frame["id_valid"].astype(bool)
    frame["id_ok"] = frame["id_ok"].astype(bool)
    return frame


_RECORD_FIELDS = ("record_id", "source", "name", "sex", "birth_date", "id_number", "phone", "address")


def records_from_frame(frame: pandas.DataFrame) -> list[LinkRecord]:
    """LinkRecords from a DataFrame with LinkRecord columns (missing columns are empty)."""
    columns: dict[str, Sequence[Any]] = {}
    n = len(frame)
    for name in (*_RECORD_FIELDS, "person_id"):
        columns[name] = frame[name].tolist() if name in frame.columns else [None] * n
    out: list[LinkRecord] = []
    for i in range(n):
        values = {k: columns[k][i] for k in _RECORD_FIELDS}
        clean = {k: (None if v is None or v != v else str(v)) for k, v in values.items()}
        pid = columns["person_id"][i]
        out.append(
            LinkRecord(
                record_id=str(clean["record_id"]),
                source=clean["source"] or "",
                name=clean["name"],
                sex=clean["sex"],
                birth_date=clean["birth_date"],
                id_number=clean["id_number"],
                phone=clean["phone"],
                address=clean["address"],
                person_id=None if pid is None or pid != pid else int(pid),
            )
        )
    return out
