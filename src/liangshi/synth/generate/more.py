"""The defect kinds of stop 25 (columns.MORE_KINDS): which plates, dwellings and households of a community carry
them, drawn from the community's own generator for them (``Random(f"{seed}:{code}:more")``), so a city written
without them draws exactly as before and writes the same bytes.

``plan`` decides before any row is written; the writers in ``extracts`` ask the plan as they write.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field

from liangshi.synth.generate.community import Community, Dwelling, Household, Person, Plate

__all__ = ["MorePlan", "moved_to", "plan", "tenant_left"]


@dataclass(eq=False)
class MorePlan:
    """What a community's rows carry of the stop-25 kinds (keyed by the objects' ids)."""

    rng: random.Random
    inhabited: set[int] = field(default_factory=set)  # dwellings with an open residence in the police files
    empty: dict[int, str] = field(default_factory=dict)  # plate -> number_without_place / plate_no_building
    point_of: dict[int, Plate] = field(default_factory=dict)  # plate -> the neighbour whose point it is given
    # plate -> (a number sharing its written point, planted / coincident): 多号一址 as the police file writes it
    shared: dict[int, tuple[str, str]] = field(default_factory=dict)
    moved: dict[int, Plate] = field(default_factory=dict)  # dwelling -> the plate the housing file puts it at
    left_out: dict[int, Person] = field(default_factory=dict)  # household -> the member the police file omits
    # Renting households that left, the housing file still naming them as tenants: household -> when it left, and
    # the generator of their departures' other dates (its own, so the other kinds draw as before).
    tenant_left: dict[int, dt.date] = field(default_factory=dict)
    tenant_rng: random.Random = field(default_factory=random.Random)


def _lived_at(h: Household, p: MorePlan) -> bool:
    """Whether the household's residences stand open in the police files (written, not deregistered)."""
    if id(h) in p.tenant_left:
        return False
    return bool(h.members) and not h.unregistered and (not h.departed or h.not_deregistered)


def _departed_tenants(c: Community, p: MorePlan) -> None:
    """Renting households the police files hold that left (deregistered there) some day within the last year, at
    least a month after they came, while the housing file keeps their rental open with them as its tenants."""
    rng = p.tenant_rng = random.Random(f"{c.city.seed}:{c.code}:departed_tenant")
    today = c.today
    for h in c.households:
        if not h.renting or h.unregistered or not h.members:
            continue
        c.city.out.bases["departed_tenant"] += 1
        if rng.random() < c.city.rates.departed_tenant:
            left = today - dt.timedelta(days=rng.randint(1, 365))
            p.tenant_left[id(h)] = max(left, min(today, h.arrival + dt.timedelta(days=30)))


def plan(c: Community) -> MorePlan:
    """Draw the community's stop-25 defects (the bases counted in ``c.city.out.bases``)."""
    rates = c.city.rates
    bases = c.city.out.bases
    p = MorePlan(random.Random(f"{c.city.seed}:{c.code}:more"))
    rng = p.rng
    _departed_tenants(c, p)
    p.inhabited = {id(h.dwelling) for h in c.households if h.dwelling is not None and _lived_at(h, p)}
    listed = [plate for plate in c.plates if not plate.missing]
    # 有号无址 / a plate without a building: installed office plates, nothing on them in the police file (and in
    # the housing file too, for 有号无址).
    for plate in listed:
        if (
            plate.status == "installed"
            and plate.buildings
            and all(b.use == "office" for b in plate.buildings)
        ):
            bases["number_without_place"] += 1
            bases["plate_no_building"] += 1
            x = rng.random()
            if x < rates.number_without_place:
                p.empty[id(plate)] = "number_without_place"
            elif x < rates.number_without_place + rates.plate_no_building:
                p.empty[id(plate)] = "plate_no_building"
    # 多号一址: a plate given its neighbour's point (on the same side of a street, or in the same village).
    bases["many_numbers_one_place"] += len(listed)
    runs: list[list[Plate]] = [
        [q for q in s.plates if q.side == side and not q.missing and not q.wrong_side]
        for s in c.streets
        for side in ("left", "right")
    ]
    runs.append([q for q in listed if q.street is None])
    for run in runs:
        i = 0
        while i < len(run) - 1:
            if rng.random() < rates.many_numbers_one_place:
                p.point_of[id(run[i + 1])] = run[i]
                i += 2
            else:
                i += 1
    # The truth of 多号一址 is every listed plate at a point (as written, to 1e-6 degrees) that another plate with
    # another number shares: the planted pairs, and the village houses that the geometry put at one point (a
    # bearing in whole degrees and a rounded distance: a few per 30,000 persons), which the file states as well.
    at: dict[tuple[str, str], list[Plate]] = {}
    for q in listed:
        twin = p.point_of.get(id(q))
        lon, lat = (twin.lon, twin.lat) if twin is not None else (q.lon, q.lat)
        at.setdefault((f"{lon:.6f}", f"{lat:.6f}"), []).append(q)
    for group in at.values():
        if len({q.number() for q in group}) < 2:
            continue
        planted = any(id(q) in p.point_of for q in group)
        for q in group:
            other = next(o for o in group if o.number() != q.number())
            p.shared[id(q)] = (other.number(), "planted" if planted else "coincident")
    # 号址不一: the housing file puts an occupied dwelling (its building, unit and room unique on the street) at a
    # neighbouring plate's number; both plates hold dwellings in the register.
    for street in c.streets:
        held = [q for q in street.plates if not q.missing and id(q) not in p.empty and q.buildings]
        counts: Counter[tuple[str, int | None, str]] = Counter(
            (b.label, d.unit, d.room) for q in held for b in q.buildings for d in b.dwellings
        )
        for i, q in enumerate(held):
            neighbour = held[i + 1] if i + 1 < len(held) else (held[i - 1] if i else None)
            if neighbour is None or neighbour.number() == q.number():
                continue
            for b in q.buildings:
                for d in b.dwellings:
                    if d.status != "occupied" or counts[(b.label, d.unit, d.room)] != 1:
                        continue
                    bases["number_mismatch"] += 1
                    if rng.random() < rates.number_mismatch:
                        p.moved[id(d)] = neighbour
    # A household's member count: an actual household of two or more, one member (not the head) left out.
    for h in c.households:
        gone = id(h) in p.tenant_left
        if h.kind == "actual" and len(h.members) >= 2 and (gone or _lived_at(h, p)):
            # A departed tenant's household draws too but carries nothing (nobody of it lives there any more), so
            # this generator's stream, and every kind drawn from it after, is the same with or without them.
            drawn = rng.random() < rates.household_member_missing
            member = h.members[rng.randrange(1, len(h.members))] if drawn else None
            if gone:
                continue
            bases["household_member_missing"] += 1
            if member is not None:
                p.left_out[id(h)] = member
    return p


def tenant_left(p: MorePlan | None, h: Household) -> dt.date | None:
    """When a renting household left whose rental the housing file still holds open, if it did."""
    return None if p is None else p.tenant_left.get(id(h))


def moved_to(p: MorePlan | None, d: Dwelling) -> Plate | None:
    """The plate the housing file writes this dwelling at instead of its own, if any."""
    return None if p is None else p.moved.get(id(d))
