"""不漏人 post-stratified by area × housing type × age band: the re-canvass's persons per age band (stored with
each result), Chapman per post-stratum extended to its households, with its variance and interval, summed.

The figures come from four grouped queries (the frame's households per area × housing type, the inspected
households per cell, the banded and the unbanded persons per post-stratum), not from a row per household. The
report is kept per plan (`inspection_estimates`) with the fingerprint of what it was computed from: the plan's
results (their number and newest id) and the register's household and building versions (their newest ids, since
a household's housing type is read as of today). A read whose fingerprint differs computes it again and keeps that.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from liangshi.areas.models import Area
from liangshi.buildings.models import BuildingVersion, Dwelling
from liangshi.inspections import rules
from liangshi.inspections.models import (
    InspectionEstimate,
    InspectionLot,
    InspectionPlan,
    InspectionResult,
    InspectionResultBand,
    InspectionSample,
)
from liangshi.inspections.service.core import _codes, _community_of, _framed, _plan
from liangshi.persons.models import Household, HouseholdVersion
from liangshi.registry import Context

# The order the bands are shown in (the keys of the population table's age bands).
BAND_ORDER = ("0-17", "18-34", "35-59", "60+", "unknown")
KIND = "coverage_age"


def _with_kind(stmt: Any, household: Any) -> Any:
    """`stmt` joined (outer) to the use of the building the household's current version places it in."""
    hv, bv = HouseholdVersion, BuildingVersion
    return (
        stmt.outerjoin(hv, and_(hv.entity_id == household, hv.superseded_at.is_(None), hv.valid_to.is_(None)))
        .outerjoin(Dwelling, Dwelling.id == hv.dwelling_id)
        .outerjoin(
            bv, and_(bv.entity_id == Dwelling.building_id, bv.superseded_at.is_(None), bv.valid_to.is_(None))
        )
    )


_USE = func.coalesce(BuildingVersion.use, "none")


def _sizes(session: Session, plan: InspectionPlan, area: Area) -> dict[tuple[int, str], int]:
    """(community, housing type) → the plan's frame households there (grouped per area in the database)."""
    community_of = _community_of(session, area)
    stmt = _with_kind(select(Household.area_id, _USE, func.count()), Household.id)
    size: dict[tuple[int, str], int] = defaultdict(int)
    for area_id, kind, n in session.execute(
        stmt.where(*_framed(session, area, plan.created_at)).group_by(Household.area_id, _USE)
    ):
        community = community_of.get(int(area_id))
        if community is not None:
            size[(community, str(kind))] += int(n)
    return size


def _visited(session: Session, plan_id: int, *columns: Any) -> Select[Any]:
    base = (
        select(InspectionLot.community_id, _USE, *columns)
        .select_from(InspectionResult)
        .join(InspectionSample, InspectionSample.id == InspectionResult.sample_id)
        .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
    )
    joined: Select[Any] = _with_kind(base, InspectionSample.household_id)
    return joined.where(InspectionSample.plan_id == plan_id)


def _visits(
    session: Session, plan_id: int
) -> tuple[dict[tuple[int, str], int], dict[tuple[int, str, str], list[int]]]:
    """Per cell its inspected households; per post-stratum Σ registered, found, found unregistered and its
    squares per household (a result recorded without bands counts whole as band `unknown`)."""
    inspected: dict[tuple[int, str], int] = {}
    for community, kind, n in session.execute(
        _visited(session, plan_id, func.count(InspectionResult.id)).group_by(InspectionLot.community_id, _USE)
    ):
        inspected[(int(community), str(kind))] = int(n)
    band, r = InspectionResultBand, InspectionResult
    sums: dict[tuple[int, str, str], list[int]] = {}
    # One pass over the results and their bands; a result without bands (no band row) counts as band `unknown`.
    rows = session.execute(
        _visited(
            session,
            plan_id,
            band.age_band,
            # The register's side (rules.register_side): found, or not found and not confirmed gone.
            func.sum(
                func.coalesce(
                    band.persons_present + band.persons_unconfirmed, r.persons_present + r.persons_unconfirmed
                )
            ),
            func.sum(func.coalesce(band.persons_present, r.persons_present)),
            func.sum(func.coalesce(band.persons_missed, r.persons_missed)),
            func.sum(
                func.coalesce(band.persons_missed * band.persons_missed, r.persons_missed * r.persons_missed)
            ),
        )
        .outerjoin(band, band.result_id == r.id)
        .group_by(InspectionLot.community_id, _USE, band.age_band)
    ).all()
    for community, kind, age_band, *figures in rows:
        slot = sums.setdefault((int(community), str(kind), str(age_band or "unknown")), [0, 0, 0, 0])
        for i, value in enumerate(figures):
            slot[i] += int(value or 0)
    return inspected, sums


def _compute(session: Session, plan: InspectionPlan) -> dict[str, Any]:
    area = session.get(Area, plan.area_id)
    assert area is not None
    size = _sizes(session, plan, area)
    inspected, sums = _visits(session, plan.id)
    codes = _codes(session, list({c for c, _k in size} | {c for c, _k in inspected}))
    # The cells are keyed by the community's code, as `rules.coverage_by_band` keys them.
    cell_size: dict[tuple[str, ...], int] = defaultdict(int)
    for (community, kind), n in size.items():
        cell_size[(codes[community], kind)] += n
    cell_inspected: dict[tuple[str, ...], int] = defaultdict(int)
    for (community, kind), n in inspected.items():
        cell_inspected[(codes[community], kind)] += n
    stratum_sums: dict[tuple[str, ...], list[int]] = {}
    for (community, kind, age_band), figures in sums.items():
        slot = stratum_sums.setdefault((codes[community], kind, age_band), [0, 0, 0, 0])
        for i, value in enumerate(figures):
            slot[i] += value
    parts = rules.coverage_by_band_sums(cell_size, cell_inspected, stratum_sums, plan.z)
    strata = []
    for key in sorted(parts, key=lambda k: (k[0], k[1], BAND_ORDER.index(k[2]))):
        part, cell = parts[key], key[:2]
        strata.append(
            {
                "community_code": key[0],
                "housing_type": key[1],
                "age_band": key[2],
                "households": max(cell_size.get(cell, 0), cell_inspected[cell]),
                "inspected": cell_inspected[cell],
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


def _fingerprint(session: Session, plan_id: int) -> str:
    """What the report depends on that can change after the plan was drawn (its frame is fixed by then)."""
    count, newest = session.execute(
        select(func.count(InspectionResult.id), func.max(InspectionResult.id))
        .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
        .where(InspectionLot.plan_id == plan_id)
    ).one()
    households = session.execute(select(func.max(HouseholdVersion.row_id))).scalar()
    buildings = session.execute(select(func.max(BuildingVersion.row_id))).scalar()
    return f"results={count}:{newest or 0};households={households or 0};buildings={buildings or 0}"


def coverage_by_age(session: Session, ctx: Context, plan_id: int) -> dict[str, Any]:
    """Chapman per (community, housing type, age band) — `rules.coverage_by_band` over the plan's frame and its
    results' age bands (a result recorded without bands counts as band `unknown`) — summed; the kept report when
    nothing it depends on has changed since."""
    plan = _plan(session, ctx, plan_id)
    fingerprint = _fingerprint(session, plan.id)
    kept = session.execute(
        select(InspectionEstimate).where(
            InspectionEstimate.plan_id == plan.id, InspectionEstimate.kind == KIND
        )
    ).scalar_one_or_none()
    if kept is not None and kept.fingerprint == fingerprint:
        report: dict[str, Any] = json.loads(kept.report)
        return report
    report = _compute(session, plan)
    text = json.dumps(report, ensure_ascii=False, separators=(",", ":"))
    try:
        with session.begin_nested():
            if kept is None:
                session.add(
                    InspectionEstimate(
                        plan_id=plan.id, kind=KIND, fingerprint=fingerprint, report=text, computed_at=ctx.now
                    )
                )
            else:
                kept.fingerprint, kept.report, kept.computed_at = fingerprint, text, ctx.now
    except IntegrityError:
        pass  # another reader kept the same report at the same moment
    return report
