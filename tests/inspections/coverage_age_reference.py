"""The coverage by area × housing type × age band as stop 25 computed it (a row per household in Python), kept
as the reference the grouped computation of `liangshi.inspections.service.age_bands` must agree with (tests) and
be timed against (scripts/bench_coverage_age.py)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.areas.models import Area
from liangshi.inspections import rules
from liangshi.inspections.models import (
    InspectionLot,
    InspectionResult,
    InspectionResultBand,
    InspectionSample,
)
from liangshi.inspections.service.core import _codes, _frame, _plan
from liangshi.inspections.service.estimates import _housing_types
from liangshi.persons.models import Household
from liangshi.registry import Context

# The order the bands are shown in (the keys of the population table's age bands).
BAND_ORDER = ("0-17", "18-34", "35-59", "60+", "unknown")


def _band_rows(session: Session, plan_id: int) -> dict[int, list[tuple[str, int, int, int]]]:
    """Result id → its age bands (band, the register's side, found, missed)."""
    bands: dict[int, list[tuple[str, int, int, int]]] = defaultdict(list)
    for result_id, band, registered, present, missed in session.execute(
        select(
            InspectionResultBand.result_id,
            InspectionResultBand.age_band,
            # the register's side: found, or not found and not confirmed gone (rules.register_side)
            InspectionResultBand.persons_present + InspectionResultBand.persons_unconfirmed,
            InspectionResultBand.persons_present,
            InspectionResultBand.persons_missed,
        )
        .join(InspectionResult, InspectionResult.id == InspectionResultBand.result_id)
        .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
        .where(InspectionLot.plan_id == plan_id)
    ):
        bands[int(result_id)].append((str(band), int(registered), int(present), int(missed)))
    return bands


def coverage_by_age_per_household(session: Session, ctx: Context, plan_id: int) -> dict[str, Any]:
    """Chapman per (community, housing type, age band) — `rules.coverage_by_band` over the plan's frame and its
    results' age bands (a result recorded without bands counts as band `unknown`) — summed."""
    plan = _plan(session, ctx, plan_id)
    area = session.get(Area, plan.area_id)
    assert area is not None
    frame = _frame(session, area, plan.created_at)
    subtree = select(Area.id).where(Area.path.startswith(area.path))
    kinds = _housing_types(session, select(Household.id).where(Household.area_id.in_(subtree)))
    codes = _codes(session, list(frame))
    size: dict[tuple[str, ...], int] = defaultdict(int)
    for community, ids in frame.items():
        for household_id in ids:
            size[(codes[community], kinds.get(household_id, "none"))] += 1
    bands = _band_rows(session, plan.id)
    visits: list[tuple[tuple[str, ...], list[tuple[str, int, int, int]]]] = []
    rows = session.execute(
        select(
            InspectionResult.id,
            InspectionSample.household_id,
            InspectionLot.community_id,
            InspectionResult.persons_present + InspectionResult.persons_unconfirmed,
            InspectionResult.persons_present,
            InspectionResult.persons_missed,
        )
        .join(InspectionResult, InspectionResult.sample_id == InspectionSample.id)
        .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
        .where(InspectionSample.plan_id == plan.id)
    ).all()
    codes |= _codes(session, list({int(r[2]) for r in rows} - set(codes)))
    for result_id, household_id, community, registered, present, missed in rows:
        cell: tuple[str, ...] = (codes[int(community)], kinds.get(int(household_id), "none"))
        visits.append(
            (cell, bands.get(int(result_id)) or [("unknown", int(registered), int(present), int(missed))])
        )
    parts = rules.coverage_by_band(size, visits, plan.z)
    inspected: dict[tuple[str, ...], int] = defaultdict(int)
    for cell, _bands in visits:
        inspected[cell] += 1
    strata = []
    for key in sorted(parts, key=lambda k: (k[0], k[1], BAND_ORDER.index(k[2]))):
        part, cell = parts[key], key[:2]
        strata.append(
            {
                "community_code": key[0],
                "housing_type": key[1],
                "age_band": key[2],
                "households": max(size.get(cell, 0), inspected[cell]),
                "inspected": inspected[cell],
                "n1": part.n1,
                "n2": part.n2,
                "m": part.m,
                **part.sample.to_json(),
                "missed": part.missed,
                "variance": part.missed_variance,
                "missed_low": part.missed_low,
                "missed_high": part.missed_high,
            }
        )
    result: dict[str, Any] = {
        "plan_id": plan.id,
        "by": ["area", "housing_type", "age_band"],
        "strata": strata,
    }
    if not parts:
        return {**result, "missed": None, "variance": None, "low": None, "high": None}
    total, variance, low, high = rules.coverage_total(list(parts.values()), plan.z)
    return {**result, "missed": total, "variance": variance, "low": low, "high": high}
