"""Estimates over inspection results: coverage (不漏人, Chapman per community, summed), the dashboard's summary of
the newest plan, and the five sample-based rates month by month with their intervals ("target met" read from the
lower bound)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.buildings.models import BuildingVersion, Dwelling
from liangshi.clock import CHINA_TZ
from liangshi.errors import NotFound
from liangshi.inspections import rules
from liangshi.inspections.models import InspectionLot, InspectionPlan, InspectionResult, InspectionSample
from liangshi.inspections.service.age_bands import coverage_by_age
from liangshi.inspections.service.core import _codes, _frame, _lots, _plan, _rate, rates
from liangshi.persons.models import Household, HouseholdVersion
from liangshi.registry import Context

MAX_MONTHS = 36


def coverage(session: Session, ctx: Context, plan_id: int) -> dict[str, Any]:
    """不漏人: Chapman per community over the re-canvassed households, extended to the community and summed."""
    plan = _plan(session, ctx, plan_id)
    lots = _lots(session, plan.id)
    codes = _codes(session, [lot.community_id for lot in lots])
    rows = {
        int(lot_id): (int(h), int(n1 or 0), int(m or 0), int(extra or 0), int(squares or 0))
        for lot_id, h, n1, m, extra, squares in session.execute(
            select(
                InspectionResult.lot_id,
                func.count(InspectionResult.id),
                func.sum(InspectionResult.persons_present + InspectionResult.persons_unconfirmed),
                func.sum(InspectionResult.persons_present),
                func.sum(InspectionResult.persons_missed),
                func.sum(InspectionResult.persons_missed * InspectionResult.persons_missed),
            )
            .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
            .where(InspectionLot.plan_id == plan.id)
            .group_by(InspectionResult.lot_id)
        )
    }
    strata = []
    parts = []
    for lot in lots:
        if lot.id not in rows:
            continue
        inspected, n1, m, extra, squares = rows[lot.id]
        part = rules.coverage(n1, m + extra, m, lot.households, inspected, squares, plan.z)
        parts.append(part)
        strata.append(
            {
                "community_code": codes[lot.community_id],
                "households": lot.households,
                "inspected": inspected,
                "n1": n1,
                "n2": m + extra,
                "m": m,
                **part.sample.to_json(),
                "missed": part.missed,
                "missed_low": part.missed_low,
                "missed_high": part.missed_high,
            }
        )
    if not parts:
        return {"plan_id": plan.id, "strata": [], "missed": None, "variance": None, "low": None, "high": None}
    missed, variance, low, high = rules.coverage_total(parts, plan.z)
    return {
        "plan_id": plan.id,
        "strata": strata,
        "missed": missed,
        "variance": variance,
        "low": low,
        "high": high,
    }


def latest_summary(session: Session, ctx: Context, area_id: int) -> dict[str, Any] | None:
    """The dashboard's view of the newest plan drawn for this area: its five rates (interval, sample size, target
    met by the lower bound) and the people estimated missed, post-stratified by area × housing type × age band
    (the kept report of `coverage_by_age`); None without a plan or the permission to read it."""
    if not ctx.actor.may("inspection.read"):
        return None
    plan = session.execute(
        select(InspectionPlan)
        .where(InspectionPlan.area_id == area_id)
        .order_by(InspectionPlan.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if plan is None:
        return None
    report = rates(session, ctx, plan.id)
    return {
        "plan_id": plan.id,
        "name": plan.name,
        "rates": report["overall"],
        "coverage": coverage_by_age(session, ctx, plan.id),
    }


def _months(date_from: dt.date, date_to: dt.date) -> list[str]:
    months: list[str] = []
    day = date_from.replace(day=1)
    while day <= date_to and len(months) < MAX_MONTHS:
        months.append(f"{day:%Y-%m}")
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


# A month pools households of several plans: a sample without a finite lot (no finite-population correction).
POOLED_LOT = 10**9


def monthly_rates(
    session: Session, ctx: Context, *, area_code: str, date_from: dt.date, date_to: dt.date
) -> dict[str, Any]:
    """The five sample-based rates per month of inspection under an area (every plan's results pooled within the
    month), each with its 95 % interval (households as clusters, `rules.cluster_rate`), sample size and "target
    met" by the interval's lower bound."""
    ctx.actor.ensure("inspection.read")
    root = areas.by_code(session, area_code)
    if root is None or not ctx.actor.covers_path(root.path):
        raise NotFound(
            "area.not_found", "未找到该区划", "Area not found", {"field": "area", "code": area_code}
        )
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    start = dt.datetime.combine(date_from, dt.time(), CHINA_TZ)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA_TZ)
    subtree = select(Area.id).where(Area.path.startswith(root.path))
    fields = [getattr(InspectionResult, f) for f in rules.STORED_FIELDS]
    rows: dict[str, list[dict[str, int | None]]] = defaultdict(list)
    for at, *figures in session.execute(
        select(InspectionResult.inspected_at, *fields)
        .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
        .where(
            InspectionLot.community_id.in_(subtree),
            InspectionResult.inspected_at >= start,
            InspectionResult.inspected_at < end,
        )
    ):
        month = f"{at.astimezone(CHINA_TZ):%Y-%m}"
        rows[month].append(dict(zip(rules.STORED_FIELDS, figures, strict=True)))
    months = _months(date_from, date_to)
    series = []
    for key, (num, den, zh, en, target) in rules.RATES.items():
        points = []
        for month in months:
            # The month's households pooled over plans, as one sample of households without a finite lot (the
            # interval of the ratio estimator with the households' variance, as the plans' rates have it).
            stratum = rules.rate_stratum(rows.get(month, []), num, den, POOLED_LOT)
            points.append({"month": month, **_rate(key, zh, en, target, stratum, rules.Z95).model_dump()})
        series.append({"key": key, "label_zh": zh, "label_en": en, "target": target, "points": points})
    return {"area": {"code": root.code}, "months": months, "rates": series}


def _housing_types(session: Session, household_ids: Any) -> dict[int, str]:
    """Household → the use of the building its current version places it in (住宅, 商住混合, …)."""
    hv, bv = HouseholdVersion, BuildingVersion
    rows = session.execute(
        select(hv.entity_id, bv.use)
        .join(Dwelling, Dwelling.id == hv.dwelling_id)
        .join(
            bv, and_(bv.entity_id == Dwelling.building_id, bv.superseded_at.is_(None), bv.valid_to.is_(None))
        )
        .where(hv.entity_id.in_(household_ids), hv.superseded_at.is_(None), hv.valid_to.is_(None))
    ).all()
    return {int(h): str(use) for h, use in rows}


def coverage_by_housing(session: Session, ctx: Context, plan_id: int) -> dict[str, Any]:
    """不漏人 post-stratified by area × housing type: Chapman's estimate per (community, building use of the
    household's dwelling), each extended to that stratum's households in the plan's frame, with its variance and
    interval, then summed. Households without a dwelling form their own stratum (`none`)."""
    plan = _plan(session, ctx, plan_id)
    area = session.get(Area, plan.area_id)
    assert area is not None
    frame = _frame(session, area, plan.created_at)
    community_of = {h: cid for cid, ids in frame.items() for h in ids.tolist()}
    framed = list(community_of)
    subtree = select(Area.id).where(Area.path.startswith(area.path))
    kinds = _housing_types(session, select(Household.id).where(Household.area_id.in_(subtree)))
    size: dict[tuple[int, str], int] = defaultdict(int)
    for household_id in framed:
        size[(community_of[household_id], kinds.get(household_id, "none"))] += 1
    found: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for household_id, community, registered, present, missed in session.execute(
        select(
            InspectionSample.household_id,
            InspectionLot.community_id,
            InspectionResult.persons_present + InspectionResult.persons_unconfirmed,  # rules.register_side
            InspectionResult.persons_present,
            InspectionResult.persons_missed,
        )
        .join(InspectionResult, InspectionResult.sample_id == InspectionSample.id)
        .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
        .where(InspectionSample.plan_id == plan.id)
    ):
        slot = found[(int(community), kinds.get(int(household_id), "none"))]
        for i, value in enumerate((1, registered, present, missed, missed * missed)):
            slot[i] += int(value)
    codes = _codes(session, list({c for c, _k in found}))
    strata, parts = [], []
    for (community, kind), (inspected, n1, m, extra, squares) in sorted(
        found.items(), key=lambda kv: (codes[kv[0][0]], kv[0][1])
    ):
        # A household whose dwelling changed since the plan still counts in its stratum of today.
        households = max(size.get((community, kind), 0), inspected)
        part = rules.coverage(n1, m + extra, m, households, inspected, squares, plan.z)
        parts.append(part)
        strata.append(
            {
                "community_code": codes[community],
                "housing_type": kind,
                "households": households,
                "inspected": inspected,
                "n1": n1,
                "n2": m + extra,
                "m": m,
                **part.sample.to_json(),
                "missed": part.missed,
                "variance": part.missed_variance,
                "missed_low": part.missed_low,
                "missed_high": part.missed_high,
            }
        )
    empty = {"missed": None, "variance": None, "low": None, "high": None}
    if not parts:
        return {"plan_id": plan.id, "by": ["area", "housing_type"], "strata": [], **empty}
    total, variance, low, high = rules.coverage_total(parts, plan.z)
    return {
        "plan_id": plan.id,
        "by": ["area", "housing_type"],
        "strata": strata,
        "missed": total,
        "variance": variance,
        "low": low,
        "high": high,
    }
