"""Door-plate numbering rules engine: gaps, duplicates, wrong-side and out-of-order numbers; proposals.

Pure functions over plain dataclasses (no database), so the database-backed service can reuse them.

Rules (see DOMAIN.md, "Door-plate numbering"): numbers run per named street, odd on one side and even on the
other, rising from the street's start. For each street:

* **missing** (per parity): plain numbers of that parity between the lowest and the highest plain number of
  that parity on the street that no plate carries and that are not reserved. Sub-numbers (`12-1`, `16附1`)
  never fill a gap.
* **duplicates**: a number (base and sub-number) carried by more than one plate.
* **parity violations**: a plain number whose declared side contradicts its parity (`14` declared `odd`).
  A plate without a declared side is put on the side of its parity, so it cannot be a violation; a
  sub-number belongs to its base's side and is never parity-checked.
* **order violations**: along one side, numbers must rise with chainage (metres from the street's start).
  Plates with a known chainage are sorted by it; the longest non-decreasing run of numbers is kept and every
  other plate is reported. Equal numbers (duplicates) are not order violations.

Everything is O(n log n) per street.
"""

from __future__ import annotations

import csv
import io
import math
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from liangshi.addresses.rules import (
    NUMBERING_STYLES,
    parse_plate_number,
    parse_plate_side,
    plate_key,
    render_plate_number,
)
from liangshi.common.text import clean_text
from liangshi.errors import ValidationFailed

__all__ = [
    "MAX_CHAINAGE_M",
    "LineError",
    "PlateEntry",
    "Proposal",
    "StreetReport",
    "analyse_plates",
    "analyse_street",
    "group_by_street",
    "make_entry",
    "parse_chainage",
    "propose_number",
    "read_plates_csv",
    "sort_key",
]

#: Chainage is metres from the street's start; no street is longer than 100 km.
MAX_CHAINAGE_M = 100_000.0


@dataclass(frozen=True, slots=True)
class PlateEntry:
    """One door plate on a street: the number as written, parsed, its side (`odd`/`even`) and chainage."""

    street: str
    raw_number: str
    base: int
    sub: int | None
    side: str | None = None
    chainage_m: float | None = None
    line: int | None = None

    @property
    def key(self) -> str:
        """The normalised number (`12`, `12-1`)."""
        return plate_key(self.base, self.sub)


def sort_key(base: int, sub: int | None) -> tuple[int, int]:
    """Numbers ascending by base, then sub-number (the plain number first)."""
    return base, 0 if sub is None else sub


def _key_order(key: str) -> tuple[int, int]:
    """Sort order of a normalised number string."""
    base, _, sub = key.partition("-")
    return int(base), int(sub) if sub else 0


def parse_chainage(text: str, *, field: str = "chainage_m") -> float | None:
    """Read a chainage in metres (empty means unknown); refuse non-numbers, negatives and > 100 km."""
    value = text.strip()
    if not value:
        return None
    try:
        metres = float(value)
    except ValueError:
        metres = math.nan
    if math.isnan(metres) or math.isinf(metres):
        raise ValidationFailed(
            "plate.chainage_invalid",
            f"里程“{text}”不是数字（单位：米）",
            f"Chainage {text!r} is not a number (metres)",
            {"field": field, "input": text},
        )
    if metres < 0 or metres > MAX_CHAINAGE_M:
        raise ValidationFailed(
            "plate.chainage_out_of_range",
            f"里程{value}米超出范围（0至{MAX_CHAINAGE_M:.0f}米）",
            f"Chainage {value} m is out of range (0 to {MAX_CHAINAGE_M:.0f} m)",
            {"field": field, "input": text},
        )
    return metres


def make_entry(
    street: str,
    number: str,
    side: str | None = None,
    chainage_m: float | str | None = None,
    *,
    line: int | None = None,
) -> PlateEntry:
    """Build an entry from values as written (`12号`, `１２`, `16附1`; side `odd`/`单`; chainage metres)."""
    base, sub = parse_plate_number(number)
    parsed_side = parse_plate_side(side) if side is not None else None
    if isinstance(chainage_m, str):
        metres = parse_chainage(chainage_m)
    elif chainage_m is not None:
        metres = parse_chainage(repr(float(chainage_m)))
    else:
        metres = None
    return PlateEntry(street, number, base, sub, parsed_side, metres, line)


@dataclass(frozen=True)
class StreetReport:
    """The defects found on one street; all lists sorted ascending (by base, then sub-number)."""

    street: str
    missing_odd: list[int] = field(default_factory=list)
    missing_even: list[int] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    parity_violations: list[str] = field(default_factory=list)
    order_violations: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Whether the street has no defect at all."""
        return not (
            self.missing_odd
            or self.missing_even
            or self.duplicates
            or self.parity_violations
            or self.order_violations
        )

    def to_json(self) -> dict[str, list[int] | list[str]]:
        """Exactly the five keys: missing_odd, missing_even, duplicates, parity_violations, order_violations."""
        return {
            "missing_odd": self.missing_odd,
            "missing_even": self.missing_even,
            "duplicates": self.duplicates,
            "parity_violations": self.parity_violations,
            "order_violations": self.order_violations,
        }


def _parity(base: int) -> str:
    return "odd" if base % 2 else "even"


def _effective_sides(entries: Sequence[PlateEntry]) -> list[str]:
    """The side of each plate: declared, else its parity; a sub-number takes its base plate's side."""
    base_side: dict[int, str] = {}
    for e in entries:
        if e.sub is None and e.base not in base_side:
            base_side[e.base] = e.side or _parity(e.base)
    sides: list[str] = []
    for e in entries:
        if e.sub is None:
            sides.append(e.side or _parity(e.base))
        else:
            sides.append(base_side.get(e.base) or e.side or _parity(e.base))
    return sides


def _missing(present: set[int], parity: int, reserved: Collection[int]) -> list[int]:
    numbers = [n for n in present if n % 2 == parity]
    if len(numbers) < 2:
        return []
    lo, hi = min(numbers), max(numbers)
    return [n for n in range(lo, hi + 1, 2) if n not in present and n not in reserved]


def _out_of_order(items: list[tuple[float, tuple[int, int], int]]) -> list[int]:
    """Plates outside the longest non-decreasing run of numbers when sorted by chainage."""
    items.sort(key=lambda t: (t[0], t[1]))
    n = len(items)
    tails: list[tuple[int, int]] = []  # smallest tail key of a run of each length
    tail_idx: list[int] = []
    prev = [-1] * n
    for i, (_, key, _) in enumerate(items):
        pos = bisect_right(tails, key)
        if pos == len(tails):
            tails.append(key)
            tail_idx.append(i)
        else:
            tails[pos] = key
            tail_idx[pos] = i
        prev[i] = tail_idx[pos - 1] if pos else -1
    keep: set[int] = set()
    i = tail_idx[-1] if tail_idx else -1
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return [items[j][2] for j in range(n) if j not in keep]


def analyse_street(
    street: str, entries: Sequence[PlateEntry], *, reserved: Collection[int] = ()
) -> StreetReport:
    """Find the defects of one street's plates (all entries must belong to `street`)."""
    reserved_set = set(reserved)
    present: set[int] = set()
    counts: dict[tuple[int, int | None], int] = defaultdict(int)
    parity_bad: set[str] = set()
    for e in entries:
        counts[(e.base, e.sub)] += 1
        if e.sub is None:
            present.add(e.base)
            if e.side is not None and (e.side == "odd") != (e.base % 2 == 1):
                parity_bad.add(str(e.base))
    by_side: dict[str, list[tuple[float, tuple[int, int], int]]] = defaultdict(list)
    for i, (e, side) in enumerate(zip(entries, _effective_sides(entries), strict=True)):
        if e.chainage_m is not None:
            by_side[side].append((e.chainage_m, (e.base, e.sub or 0), i))
    order_bad: set[str] = set()
    for items in by_side.values():
        order_bad.update(entries[i].key for i in _out_of_order(items))
    duplicates = sorted((k for k, c in counts.items() if c > 1), key=lambda k: sort_key(*k))
    return StreetReport(
        street=street,
        missing_odd=_missing(present, 1, reserved_set),
        missing_even=_missing(present, 0, reserved_set),
        duplicates=[plate_key(*k) for k in duplicates],
        parity_violations=sorted(parity_bad, key=_key_order),
        order_violations=sorted(order_bad, key=_key_order),
    )


def group_by_street(entries: Iterable[PlateEntry]) -> dict[str, list[PlateEntry]]:
    """Entries per street, streets in order of first appearance."""
    streets: dict[str, list[PlateEntry]] = {}
    for e in entries:
        streets.setdefault(e.street, []).append(e)
    return streets


def analyse_plates(
    entries: Iterable[PlateEntry], *, reserved: Mapping[str, Collection[int]] | None = None
) -> dict[str, StreetReport]:
    """Analyse every street; the result has one report per street, in order of first appearance."""
    reserved = reserved or {}
    return {
        street: analyse_street(street, plates, reserved=reserved.get(street, ()))
        for street, plates in group_by_street(entries).items()
    }


# ---------------------------------------------------------------------------------------------------------
# Proposing a number for a new door
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposal:
    """A proposed number: `reason` is `reserved` (a free reserved number), `free` or `sub_number`."""

    street: str
    base: int
    sub: int | None
    text: str
    reason: str

    @property
    def key(self) -> str:
        """The normalised number (`14`, `12-1`)."""
        return plate_key(self.base, self.sub)

    def to_json(self) -> dict[str, str | int | None]:
        return {
            "street": self.street,
            "number": self.text,
            "normalized": self.key,
            "base": self.base,
            "sub": self.sub,
            "reason": self.reason,
        }


def _find(plates: Sequence[PlateEntry], number: tuple[int, int | None], written: str) -> PlateEntry:
    for e in plates:
        if (e.base, e.sub) == number:
            return e
    raise ValidationFailed(
        "plate.neighbour_not_found",
        f"该街路巷没有门牌“{written}”",
        f"The street has no plate {written!r}",
        {"field": "between", "input": written},
    )


def propose_number(
    entries: Iterable[PlateEntry],
    street: str,
    lower: str,
    upper: str,
    *,
    reserved: Collection[int] = (),
    style: str = "dash",
) -> Proposal:
    """Propose a number for a new door between two existing plates of `street`.

    A free number of the neighbours' parity strictly between them, reserved numbers first (lowest first);
    otherwise the next free sub-number of the lower neighbour, rendered in the street's style.
    """
    if style not in NUMBERING_STYLES:
        raise ValidationFailed(
            "plate.style_invalid",
            f"编号样式“{style}”无效：应为 {'/'.join(NUMBERING_STYLES)}",
            f"Invalid numbering style {style!r}: expected one of {', '.join(NUMBERING_STYLES)}",
            {"field": "style", "input": style, "allowed": list(NUMBERING_STYLES)},
        )
    plates = [e for e in entries if e.street == street]
    if not plates:
        raise ValidationFailed(
            "plate.street_not_found",
            f"没有街路巷“{street}”的门牌",
            f"No plates on street {street!r}",
            {"field": "street", "input": street},
        )
    a = parse_plate_number(lower, field="between")
    b = parse_plate_number(upper, field="between")
    if sort_key(*b) < sort_key(*a):
        a, b, lower, upper = b, a, upper, lower
    low = _find(plates, a, lower)
    high = _find(plates, b, upper)
    sides = dict(zip(((e.base, e.sub) for e in plates), _effective_sides(plates), strict=True))
    side = sides[(low.base, low.sub)]
    if side != sides[(high.base, high.sub)]:
        raise ValidationFailed(
            "plate.neighbours_on_different_sides",
            f"门牌“{lower}”和“{upper}”不在街路巷的同一侧",
            f"Plates {lower!r} and {upper!r} are not on the same side of the street",
            {"field": "between", "input": [lower, upper]},
        )
    parity = 1 if side == "odd" else 0
    used = {e.base for e in plates if e.sub is None}
    free = [n for n in range(low.base + 1, high.base) if n % 2 == parity and n not in used]
    reserved_free = [n for n in free if n in set(reserved)]
    if reserved_free:
        n = reserved_free[0]
        return Proposal(street, n, None, render_plate_number(n, None, style), "reserved")
    if free:
        return Proposal(street, free[0], None, render_plate_number(free[0], None, style), "free")
    if low.sub is not None and high.base == low.base:
        raise ValidationFailed(
            "plate.no_number_between",
            f"门牌“{lower}”和“{upper}”之间没有可用的号码",
            f"No number is available between {lower!r} and {upper!r}",
            {"field": "between", "input": [lower, upper]},
        )
    sub = max((e.sub for e in plates if e.base == low.base and e.sub is not None), default=0) + 1
    return Proposal(street, low.base, sub, render_plate_number(low.base, sub, style), "sub_number")


# ---------------------------------------------------------------------------------------------------------
# Reading a plates CSV (street, number[, side][, chainage_m])
# ---------------------------------------------------------------------------------------------------------

REQUIRED_COLUMNS = ("street", "number")
OPTIONAL_COLUMNS = ("side", "chainage_m")


@dataclass(frozen=True)
class LineError:
    """One input error: the line (1 = header), the field, and the error with its code and messages."""

    line: int
    field: str
    error: ValidationFailed

    def __str__(self) -> str:
        e = self.error
        return f"line {self.line}, field {self.field}: {e.code}: {e.message_zh} / {e.message_en}"


def _file_error(code: str, zh: str, en: str, field: str = "file", line: int = 1) -> LineError:
    return LineError(line, field, ValidationFailed(code, zh, en, {"field": field, "line": line}))


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode_csv_bytes(data: bytes) -> str | LineError:
    """Decode UTF-8 (with or without BOM) or GB18030; anything else is an encoding error."""
    text: str | None = None
    if b"\x00" not in data:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    if text is None or _CONTROL.search(text):
        return _file_error(
            "csv.encoding",
            "文件编码无法识别：应为 UTF-8、带 BOM 的 UTF-8 或 GB18030",
            "Cannot decode the file: expected UTF-8, UTF-8 with BOM, or GB18030",
        )
    return text


def _cell(row: list[str], index: int | None) -> str:
    if index is None or index >= len(row):
        return ""
    return row[index]


def read_plates_csv(data: bytes) -> tuple[list[PlateEntry], list[LineError]]:
    """Read a plates CSV; return the entries and every error found (per line and field)."""
    text = decode_csv_bytes(data)
    if isinstance(text, LineError):
        return [], [text]
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower() for cell in row]
            break
    if header is None:
        return [], [
            _file_error("csv.empty", "文件为空或没有门牌记录", "The file is empty or has no plate rows")
        ]
    header_line = reader.line_num
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return [], [
            _file_error(
                "csv.column_missing",
                f"缺少必需的列“{c}”（需要 street, number，可选 side, chainage_m）",
                f"Missing required column {c!r} (need street, number; optional side, chainage_m)",
                field=c,
                line=header_line,
            )
            for c in missing
        ]
    i_street, i_number = header.index("street"), header.index("number")
    i_side = header.index("side") if "side" in header else None
    i_chainage = header.index("chainage_m") if "chainage_m" in header else None
    entries: list[PlateEntry] = []
    errors: list[LineError] = []
    # Streets and sides repeat on every row: validate each distinct value once.
    streets: dict[str, str | ValidationFailed] = {}
    sides: dict[str, str | ValidationFailed | None] = {"": None}
    for row in reader:
        if not any(row):
            continue
        line = reader.line_num
        row_errors: list[LineError] = []
        raw_street = _cell(row, i_street)
        street = streets.get(raw_street)
        if street is None:
            try:
                street = clean_text(raw_street, field="street", max_len=100)
            except ValidationFailed as exc:
                street = exc
            streets[raw_street] = street
        if isinstance(street, ValidationFailed):
            row_errors.append(LineError(line, "street", street))
        raw = _cell(row, i_number).strip()
        base, sub = 0, None
        try:
            if raw.isascii() and raw.isdigit() and raw[0] != "0" and len(raw) <= 5:
                base = int(raw)  # the common case, without the regex machinery
            else:
                base, sub = parse_plate_number(raw)
        except ValidationFailed as exc:
            row_errors.append(LineError(line, "number", exc))
        raw_side = _cell(row, i_side)
        if raw_side in sides:
            side = sides[raw_side]
        else:
            try:
                side = parse_plate_side(raw_side)
            except ValidationFailed as exc:
                side = exc
            sides[raw_side] = side
        if isinstance(side, ValidationFailed):
            row_errors.append(LineError(line, "side", side))
        chainage: float | None = None
        try:
            chainage = parse_chainage(_cell(row, i_chainage))
        except ValidationFailed as exc:
            row_errors.append(LineError(line, "chainage_m", exc))
        if row_errors:
            errors.extend(row_errors)
        elif isinstance(street, str) and not isinstance(side, ValidationFailed):
            entries.append(PlateEntry(street, raw, base, sub, side, chainage, line))
    if not entries and not errors:
        errors.append(
            _file_error(
                "csv.empty",
                "文件为空或没有门牌记录",
                "The file is empty or has no plate rows",
                line=header_line,
            )
        )
    return entries, errors
