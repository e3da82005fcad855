"""Numbers written with dashes below the road, read by their shape and what stands before them
(`liangshi.addresses.parsing`).

    >>> four_parts("2-6-5-1187", 0)
    ({'building': '2', 'unit': '6', 'floor': '5', 'room': '1187'}, 10)
    >>> number_range("605-606室", 0)
    ('605-606', '室', 8)

- four parts (`2-6-5-1187`): building, unit, floor and room;
- a range (`605-606室`, `1077-1083`): two numbers of the same length, the second a little greater — one room or
  door plate spanning several, kept whole;
- after a building (`3栋2-501`, `152栋-7-1013`): unit and room;
- after the name of an estate or a building (`景阳花园192-11号`, `东方大厦东座146-6`), a number and a short second
  one: building and unit (a door number is written after its road: `解放南路10-7号`).
"""

from __future__ import annotations

import re

__all__ = ["after_building", "after_estate", "four_parts", "number_range"]

_FOUR = re.compile(
    r"(?P<b>[A-Za-z]?\d{1,4})-(?P<u>\d{1,2})-(?P<f>\d{1,2})-(?P<r>[A-Za-z]?\d{3,4})(?:室|号)?(?![\d\-])"
)
_RANGE = re.compile(r"(?P<a>\d{2,5})-(?P<b>\d{2,5})(?P<w>室|号|房)?(?![\d\-])")
# The most plates or rooms one range may span.
_RANGE_SPAN = 20
_UNIT_ROOM = re.compile(r"-?(?P<u>\d{1,2}|[A-Za-z])-(?P<r>[A-Za-z]?\d{3,4})(?:室|号|房)?(?![\d\-])")
_PAIR = re.compile(r"(?P<b>[A-Za-z]?\d{1,4})-(?P<u>\d{1,2})号?(?![\d\-])")
# The end of an estate's, a compound's or a building's name.
_ESTATE_END = re.compile(
    r"(?:小区|花园|公寓|苑|园|庭|大厦|大楼|新村|家园|山庄|广场|中心|城|居|座|湾|府|阁|轩|邸)$"
)


def four_parts(text: str, pos: int) -> tuple[dict[str, str], int] | None:
    """Building, unit, floor and room written `2-6-5-1187` at `pos`, and the end; or None."""
    m = _FOUR.match(text, pos)
    if m is None:
        return None
    fields = {"building": m["b"].upper(), "unit": m["u"], "floor": m["f"], "room": m["r"].upper()}
    return fields, m.end()


def number_range(text: str, pos: int) -> tuple[str, str, int] | None:
    """A range of plates or rooms at `pos` (`605-606室`): its text, the word after it (室, 号, 房 or ''), the end."""
    m = _RANGE.match(text, pos)
    if m is None or len(m["a"]) != len(m["b"]):
        return None
    low, high = int(m["a"]), int(m["b"])
    if not 0 < high - low <= _RANGE_SPAN:
        return None
    return f"{m['a']}-{m['b']}", m["w"] or "", m.end()


def after_building(text: str, pos: int) -> tuple[dict[str, str], int] | None:
    """Unit and room written `2-501` (or `-7-1013`) right after a building, and the end; or None."""
    m = _UNIT_ROOM.match(text, pos)
    if m is None:
        return None
    return {"unit": m["u"].upper(), "room": m["r"].upper()}, m.end()


def after_estate(text: str, pos: int) -> tuple[dict[str, str], int] | None:
    """Building and unit written `192-11` right after an estate's or building's name, and the end; or None."""
    if not _ESTATE_END.search(text, max(0, pos - 2), pos):
        return None
    m = _PAIR.match(text, pos)
    if m is None:
        return None
    return {"building": m["b"].upper(), "unit": m["u"]}, m.end()
