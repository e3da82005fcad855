"""Duplicate numbers and 一号多址 (issue 15, stop 29): extra rows of the police plates file that carry a number
another plate of the same street (a village: of the same village) holds already, as such rows reach a register.

- ``duplicate_number`` (`plate.duplicate_number`): legacy data — the same door surveyed twice, the second record a
  metre further along the street (or a metre east of the village house), both kept. The police buildings file names
  buildings by (community, street, number) and cannot say which of two records of one number they stand at, so the
  importer puts them on the first: the second record is an installed plate with nothing on it, which
  `plate.no_building` finds as well (the housing file names dwellings at the number) — its truth row is written in
  ``plate_no_building`` too, with the dwellings named.
- ``one_number_many_places`` (`address.one_number_many_places`): a door on a street that crosses into the next
  community of the district, registered by that community too (a metre along the street, with a building of the
  same label and no dwellings): one number held in two communities. Both plates are in the truth, each with the
  other community.

Drawn only when asked for (``DefectRates.duplicate_number`` / ``one_number_many_places``), from each community's
generator of its own (``Random(f"{seed}:{code}:numbers")``), after every other row of the community is written,
so the other kinds draw and write exactly as without them; the rows are appended to ``police_plates`` (and
``police_buildings``) after the community's own, so the first plate of a number is the one the files name.
"""

from __future__ import annotations

import random

import liangshi.synth.rules as R
from liangshi.synth.generate.columns import date_cell
from liangshi.synth.generate.community import Community, Plate
from liangshi.synth.generate.more import MorePlan, moved_to

__all__ = ["write_numbers"]

# How far along the street (metres) the second record of a number stands from the first.
_ALONG_M = 1.0


def _plain(c: Community, more: MorePlan | None) -> list[Plate]:
    """The community's plates no other plate kind touches: listed, installed, on the right side and in order,
    at their own point, with a building and at least one dwelling the housing file writes at their number."""
    swapped = {id(a) for a, b in c.out_of_order} | {id(b) for a, b in c.out_of_order}
    twins: set[int] = set()
    if more is not None:
        twins = (
            set(more.point_of) | {id(q) for q in more.point_of.values()} | set(more.shared) | set(more.empty)
        )
    return [
        p
        for p in c.plates
        if not p.missing
        and p.status == "installed"
        and not p.wrong_side
        and id(p) not in swapped
        and id(p) not in twins
        and any(moved_to(more, d) is None for b in p.buildings for d in b.dwellings)
    ]


def _room_ahead(p: Plate) -> bool:
    """Whether the next plate on the same side stands further than twice the step (so the order holds)."""
    if p.street is None or p.chainage is None:
        return True
    ahead = [
        q.chainage
        for q in p.street.plates
        if q.side == p.side and q.chainage is not None and q.chainage > p.chainage and q is not p
    ]
    return not ahead or min(ahead) - p.chainage > 2 * _ALONG_M


def _second_record(p: Plate) -> tuple[str, str, str]:
    """Lon, lat and chainage cells of a second record of the plate: a metre along its street (east in a village)."""
    bearing = p.street.bearing if p.street is not None else 90
    lon, lat = R.offset(p.lon, p.lat, bearing, _ALONG_M)
    chainage = "" if p.chainage is None else f"{p.chainage + _ALONG_M:.1f}"
    return f"{lon:.6f}", f"{lat:.6f}", chainage


def _plate_row(code: str, p: Plate) -> list[str]:
    lon, lat, chainage = _second_record(p)
    return [
        code,
        p.street_name(),
        p.number(),
        "door",
        "installed",
        lon,
        lat,
        chainage,
        date_cell(R.PLACES_SINCE),
    ]


def _building_row(code: str, p: Plate) -> list[str]:
    """The first building of the plate, as the other community registers it at its record of the number."""
    b = p.buildings[0]
    units = "" if b.units is None else str(b.units)
    return [
        code,
        p.street_name(),
        p.number(),
        b.label,
        str(b.floors),
        str(b.floors_below),
        units,
        b.use,
        b.structure,
        str(b.year),
        date_cell(R.PLACES_SINCE),
    ]


def write_numbers(c: Community, more: MorePlan | None) -> None:
    """Append the community's second records of numbers (both kinds), if asked for, and their truth."""
    rates = c.city.rates
    if rates.duplicate_number <= 0 and rates.one_number_many_places <= 0:
        return
    out = c.city.out
    f, t = out.files, out.truth
    rng = random.Random(f"{c.city.seed}:{c.code}:numbers")
    plain = [p for p in _plain(c, more) if _room_ahead(p)]
    if rates.duplicate_number > 0:
        out.bases["duplicate_number"] += len(plain)
    doubled: set[int] = set()
    for p in plain:
        if rng.random() < rates.duplicate_number:
            doubled.add(id(p))
            f["police_plates"].write(_plate_row(c.code, p))
            key = [c.code, p.street_name(), p.number()]
            t["duplicate_number"].write([*key, "2"])
            if "plate_no_building" in t:  # written with the stop-25 kinds
                t["plate_no_building"].write([*key, str(sum(len(b.dwellings) for b in p.buildings))])
    # 一号多址: the street plates of the district's previous community, registered here too.
    previous = c.city.numbers_previous.get(c.district)
    if previous is not None:
        code, candidates = previous
        if rates.one_number_many_places > 0:
            out.bases["one_number_many_places"] += len(candidates)
        for p in candidates:
            if rng.random() >= rates.one_number_many_places:
                continue
            f["police_plates"].write(_plate_row(c.code, p))
            f["police_buildings"].write(_building_row(c.code, p))
            t["one_number_many_places"].write([code, p.street_name(), p.number(), c.code])
            t["one_number_many_places"].write([c.code, p.street_name(), p.number(), code])
    # This community's street plates for the next one of the district (not those doubled here already).
    c.city.numbers_previous[c.district] = (
        c.code,
        [p for p in plain if p.street is not None and id(p) not in doubled],
    )
