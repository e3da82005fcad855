"""Inspection use cases: draw a plan's stratified sample, record results, decide lots, rectify, the rates.

A plan's frame is the households of each community under its area as the register knew them when the plan was
made (created by then, not retired as known then), so anyone holding the seed can redraw the same sample later
(`redraw`). Each community is one stratum and one lot: its sample is the larger of the size the margin needs
(with the finite-population correction) and the acceptance plan's n, drawn with the community's own seed.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from functools import lru_cache
from itertools import chain
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import case, delete, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from liangshi import registry
from liangshi.access.models import User
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.bulk import is_postgres
from liangshi.errors import Conflict, Forbidden, LiangshiError, NotFound, ValidationFailed
from liangshi.inspections import rules
from liangshi.inspections.models import (
    InspectionEstimate,
    InspectionLot,
    InspectionPlan,
    InspectionResult,
    InspectionResultBand,
    InspectionSample,
    Rectification,
)
from liangshi.inspections.schemas import (
    BandCount,
    LotRead,
    PlanCreate,
    PlanRead,
    RateRead,
    RectificationRead,
    ResultCreate,
    ResultRead,
    SampledHousehold,
)
from liangshi.persons import rules as person_rules
from liangshi.persons.models import Household, HouseholdVersion, Membership, MembershipVersion, PersonVersion
from liangshi.registry import Context
from liangshi.residence import calendar

COMMUNITY_LEVELS = ("community", "village")


def _plan(session: Session, ctx: Context, plan_id: int, action: str = "inspection.read") -> InspectionPlan:
    ctx.actor.ensure(action)
    plan = session.get(InspectionPlan, plan_id)
    area = session.get(Area, plan.area_id) if plan is not None else None
    if plan is None or area is None or not ctx.actor.covers_path(area.path):
        raise NotFound(
            "inspection.not_found", "未找到该检查方案", "Inspection plan not found", {"id": plan_id}
        )
    return plan


def _communities(session: Session, area: Area) -> list[Area]:
    return list(
        session.execute(
            select(Area)
            .where(Area.path.startswith(area.path), Area.level.in_(COMMUNITY_LEVELS))
            .order_by(Area.code)
        ).scalars()
    )


def _community_of(session: Session, area: Area) -> dict[int, int]:
    """Each area under `area` → the community (or village) it lies in; areas above the communities are left out."""
    rows = session.execute(
        select(Area.id, Area.path, Area.level).where(Area.path.startswith(area.path))
    ).all()
    by_path = sorted(
        ((str(p), int(i)) for i, p, level in rows if level in COMMUNITY_LEVELS), key=lambda pc: -len(pc[0])
    )
    community_of: dict[int, int] = {}
    for area_id, path, _level in rows:
        for prefix, cid in by_path:
            if str(path).startswith(prefix):
                community_of[int(area_id)] = cid
                break
    return community_of


def _framed(session: Session, area: Area, at: dt.datetime) -> list[Any]:
    """The conditions on `Household` of a plan's frame: under the area, created by `at`, not retired as known then.

    SQLite runs NOT IN over the few ended versions once (an ephemeral index); its NOT EXISTS would be a lookup per
    household (0.9 s against 0.13 s over 107,000 households). PostgreSQL plans NOT EXISTS as a hash anti-join,
    where its NOT IN would rescan the subquery per row once the ended versions outgrow work_mem."""
    # Aliased, so that a query which joins the households' versions itself does not correlate this one away.
    hv = aliased(HouseholdVersion)
    ended = [
        hv.recorded_at <= at,
        or_(hv.superseded_at.is_(None), hv.superseded_at > at),
        hv.valid_to.is_not(None),
        hv.valid_to <= at.date(),
    ]
    retired = (
        ~select(hv.entity_id).where(hv.entity_id == Household.id, *ended).exists()
        if is_postgres(session)
        else Household.id.not_in(select(hv.entity_id).where(*ended))
    )
    return [
        Household.area_id.in_(select(Area.id).where(Area.path.startswith(area.path))),
        Household.created_at <= at,
        retired,
    ]


def _frame(session: Session, area: Area, at: dt.datetime) -> dict[int, npt.NDArray[np.int64]]:
    """Household ids per community under the area, ascending, as the register knew them at `at`.

    One lean query for the whole area (id and area of each household, no ORM object per row) into numpy; the
    areas (thousands, not millions) are mapped to their community in Python, the households by `searchsorted`."""
    community_of = _community_of(session, area)
    if not community_of:
        return {}
    stmt = select(Household.id, Household.area_id).where(*_framed(session, area, at))
    flat = np.fromiter(chain.from_iterable(session.execute(stmt)), dtype=np.int64)
    ids, area_ids = flat[0::2], flat[1::2]
    keys = np.fromiter(sorted(community_of), dtype=np.int64)
    values = np.fromiter((community_of[int(k)] for k in keys), dtype=np.int64, count=len(keys))
    at_key = np.minimum(np.searchsorted(keys, area_ids), len(keys) - 1)
    inside = keys[at_key] == area_ids
    ids, communities = ids[inside], values[at_key[inside]]
    order = np.lexsort((ids, communities))
    ids, communities = ids[order], communities[order]
    if not len(ids):
        return {}
    cuts = np.flatnonzero(np.diff(communities)) + 1
    starts = np.concatenate(([0], cuts))
    return {int(communities[a]): part for a, part in zip(starts, np.split(ids, cuts), strict=True)}


@lru_cache(maxsize=4096)
def _acceptance(
    lot: int, aql: float, lq: float, alpha: float, beta: float, model: str
) -> tuple[int, int, str, float, float]:
    """(n, Ac, model, P(accept | AQL), P(accept | LQ)) for a lot: binomial while the sample is at most a tenth of
    the lot, hypergeometric for small lots, the whole lot (Ac = ⌊AQL·N⌋) when no sampling plan meets both risks."""
    tries = ["binomial", "hypergeometric"] if model == "auto" else [model]
    for m in tries:
        try:
            plan = rules.acceptance_plan(lot, aql, lq, alpha, beta, m)  # type: ignore[arg-type]
        except LiangshiError as exc:
            if exc.code in ("stats.no_plan", "stats.lot_too_small"):
                continue
            raise
        if model == "auto" and m == "binomial" and plan.n * 10 > lot:
            continue
        return plan.n, plan.ac, m, plan.accept_at_aql, plan.accept_at_lq
    ac = int(aql * lot)
    return lot, ac, "full", 1.0, 0.0


def _validate(data: PlanCreate) -> None:
    rules.sample_size(data.margin, data.expected_rate, 1, data.z)
    rules.check_plan_inputs(data.aql, data.lq, data.alpha, data.beta)


def create_plan(session: Session, ctx: Context, data: PlanCreate) -> PlanRead:
    """Draw a plan's stratified sample: per community, lot size, sample size, (n, Ac), the households drawn."""
    ctx.actor.ensure("inspection.plan")
    area = registry.ensure_area_in_scope(session, ctx, data.area_id)
    _validate(data)
    seed = data.seed if data.seed is not None else secrets.randbelow(2**62)
    plan = InspectionPlan(
        area_id=area.id,
        county_code=area.county_code,
        name=data.name,
        seed=seed,
        draw_method="pcg64",
        margin=data.margin,
        expected_rate=data.expected_rate,
        z=data.z,
        aql=data.aql,
        lq=data.lq,
        alpha=data.alpha,
        beta=data.beta,
        model=data.model,
        rectify_days=data.rectify_days,
        created_by=ctx.actor.user_id,
        created_at=ctx.now,
    )
    session.add(plan)
    session.flush()
    frame = _frame(session, area, ctx.now)
    communities = {c.id: c for c in _communities(session, area)}
    lots: list[dict[str, Any]] = []
    drawn: list[npt.NDArray[np.int64]] = []
    for cid in sorted(frame, key=lambda c: communities[c].code):
        units = frame[cid]
        lot_n = len(units)
        estimate_n = rules.sample_size(data.margin, data.expected_rate, lot_n, data.z)
        n, ac, model, p_aql, p_lq = _acceptance(lot_n, data.aql, data.lq, data.alpha, data.beta, data.model)
        size = min(lot_n, max(estimate_n, n))
        lots.append(
            {
                "plan_id": plan.id,
                "community_id": cid,
                "county_code": communities[cid].county_code,
                "households": lot_n,
                "sample_size": size,
                "estimate_n": estimate_n,
                "plan_n": n,
                "ac": ac,
                "model": model,
                "accept_at_aql": p_aql,
                "accept_at_lq": p_lq,
            }
        )
        drawn.append(rules.draw_array(units, size, rules.stratum_seed(seed, communities[cid].code)))
    # The lots, then every sampled household, each in one bulk insert through the kernel's record path (COPY on
    # PostgreSQL, one executemany on SQLite), scoped to the lots' communities; the plan's entry below audits both.
    in_lots = [lot["community_id"] for lot in lots]
    registry.create_records(
        session,
        ctx,
        "inspection_lot",
        InspectionLot,
        lots,
        permission="inspection.plan",
        audit_mode=None,
        area_ids=in_lots,
    )
    samples = [
        {"plan_id": plan.id, "lot_id": lot["id"], "household_id": h, "county_code": lot["county_code"]}
        for lot, households in zip(lots, drawn, strict=True)
        for h in households.tolist()
    ]
    registry.create_records(
        session,
        ctx,
        "inspection_sample",
        InspectionSample,
        samples,
        permission="inspection.plan",
        audit_mode=None,
        area_ids=in_lots,
    )
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "inspection.plan_create",
                "area",
                area.id,
                None,
                {"plan_id": plan.id, "seed": seed, "lots": len(frame), "sampled": len(samples)},
            )
        ],
    )
    session.flush()
    return plan_read(session, ctx, plan.id)


def redraw(session: Session, ctx: Context, plan_id: int) -> dict[str, Any]:
    """Draw the plan's sample again from its stored seed and frame, by the method it was drawn with: whether it
    is the sample stored."""
    plan = _plan(session, ctx, plan_id)
    area = session.get(Area, plan.area_id)
    assert area is not None
    frame = _frame(session, area, plan.created_at)
    lots = {lot.community_id: lot for lot in _lots(session, plan.id)}
    codes = {c.id: c.code for c in _communities(session, area)}
    stored = defaultdict(set)
    for lot_id, household_id in session.execute(
        select(InspectionSample.lot_id, InspectionSample.household_id).where(
            InspectionSample.plan_id == plan.id
        )
    ):
        stored[int(lot_id)].add(int(household_id))
    method = cast(rules.DrawMethod, plan.draw_method)
    differing = []
    for cid, lot in lots.items():
        units = frame.get(cid, np.zeros(0, dtype=np.int64))
        again = (
            set(
                rules.draw(units.tolist(), lot.sample_size, rules.stratum_seed(plan.seed, codes[cid]), method)
            )
            if len(units) >= lot.sample_size
            else set()
        )
        if again != stored[lot.id] or len(units) != lot.households:
            differing.append(codes[cid])
    return {
        "plan_id": plan.id,
        "seed": plan.seed,
        "draw_method": plan.draw_method,
        "same": not differing,
        "differing": differing,
    }


def _codes(session: Session, area_ids: list[int]) -> dict[int, str]:
    rows = session.execute(select(Area.id, Area.code).where(Area.id.in_(area_ids))).all()
    return {int(i): str(c) for i, c in rows}


def _lots(session: Session, plan_id: int) -> list[InspectionLot]:
    return list(
        session.execute(
            select(InspectionLot).where(InspectionLot.plan_id == plan_id).order_by(InspectionLot.id)
        ).scalars()
    )


def _lot_counts(session: Session, plan_id: int) -> dict[int, tuple[int, int]]:
    rows = session.execute(
        select(
            InspectionResult.lot_id,
            func.count(InspectionResult.id),
            func.sum(case((InspectionResult.defective.is_(True), 1), else_=0)),
        )
        .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
        .where(InspectionLot.plan_id == plan_id)
        .group_by(InspectionResult.lot_id)
    ).all()
    return {int(lot): (int(n), int(d or 0)) for lot, n, d in rows}


def plan_read(session: Session, ctx: Context, plan_id: int) -> PlanRead:
    """A plan with each lot's plan, progress and decision."""
    plan = _plan(session, ctx, plan_id)
    area = session.get(Area, plan.area_id)
    assert area is not None
    lots = _lots(session, plan.id)
    names = areas.names_of(session, [lot.community_id for lot in lots], ctx.today)
    codes = _codes(session, [lot.community_id for lot in lots])
    counts = _lot_counts(session, plan.id)
    return PlanRead(
        id=plan.id,
        area_id=plan.area_id,
        area_code=area.code,
        name=plan.name,
        seed=plan.seed,
        draw_method=plan.draw_method,
        margin=plan.margin,
        expected_rate=plan.expected_rate,
        z=plan.z,
        aql=plan.aql,
        lq=plan.lq,
        alpha=plan.alpha,
        beta=plan.beta,
        model=plan.model,
        rectify_days=plan.rectify_days,
        created_at=plan.created_at,
        lots=[
            LotRead(
                id=lot.id,
                community_id=lot.community_id,
                community_code=codes[lot.community_id],
                community_name=names.get(lot.community_id, ""),
                households=lot.households,
                sample_size=lot.sample_size,
                estimate_n=lot.estimate_n,
                plan_n=lot.plan_n,
                ac=lot.ac,
                model=lot.model,
                accept_at_aql=lot.accept_at_aql,
                accept_at_lq=lot.accept_at_lq,
                decision=lot.decision,
                inspected=counts.get(lot.id, (0, 0))[0],
                defects=counts.get(lot.id, (0, 0))[1],
            )
            for lot in lots
        ],
    )


def plans_of(session: Session, ctx: Context) -> list[InspectionPlan]:
    """Plans of areas in the actor's jurisdiction, newest first."""
    ctx.actor.ensure("inspection.read")
    return list(
        session.execute(
            select(InspectionPlan)
            .join(Area, Area.id == InspectionPlan.area_id)
            .where(Area.path.startswith(ctx.actor.area_path))
            .order_by(InspectionPlan.id.desc())
        ).scalars()
    )


def oc_curve(
    session: Session, ctx: Context, plan_id: int, lot_id: int, points: int = 41
) -> list[tuple[float, float]]:
    """The lot's operating characteristic from 0 to twice the LQ."""
    plan = _plan(session, ctx, plan_id)
    lot = session.get(InspectionLot, lot_id)
    if lot is None or lot.plan_id != plan.id:
        raise NotFound("inspection.lot_not_found", "未找到该检查批", "Lot not found", {"id": lot_id})
    if lot.model == "full":
        return [
            (p, 1.0 if int(p * lot.households) <= lot.ac else 0.0)
            for p in (2 * plan.lq * i / (points - 1) for i in range(points))
        ]
    shape = rules.Plan(lot.plan_n, lot.ac, lot.model, lot.households, lot.accept_at_aql, lot.accept_at_lq)  # type: ignore[arg-type]
    return rules.oc_curve(shape, points=points, upto=min(1.0, 2 * plan.lq))


def sample_of(session: Session, ctx: Context, plan_id: int) -> list[SampledHousehold]:
    """The households drawn, with their number, current member count and whether inspected."""
    plan = _plan(session, ctx, plan_id)
    members = (
        select(func.count(Membership.id))
        .join(MembershipVersion, MembershipVersion.entity_id == Membership.id)
        .where(
            Membership.household_id == InspectionSample.household_id,
            MembershipVersion.superseded_at.is_(None),
            MembershipVersion.valid_to.is_(None),
        )
        .scalar_subquery()
    )
    number = (
        select(HouseholdVersion.household_number)
        .where(
            HouseholdVersion.entity_id == InspectionSample.household_id,
            HouseholdVersion.superseded_at.is_(None),
        )
        .order_by(HouseholdVersion.valid_from.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            InspectionSample.household_id,
            InspectionSample.lot_id,
            Area.code,
            number,
            members,
            InspectionResult.id,
        )
        .join(InspectionLot, InspectionLot.id == InspectionSample.lot_id)
        .join(Area, Area.id == InspectionLot.community_id)
        .outerjoin(InspectionResult, InspectionResult.sample_id == InspectionSample.id)
        .where(InspectionSample.plan_id == plan.id)
        .order_by(Area.code, InspectionSample.id)
    ).all()
    return [
        SampledHousehold(
            household_id=int(h),
            lot_id=int(lot),
            community_code=str(code),
            household_number=num,
            members=int(m or 0),
            inspected=r is not None,
        )
        for h, lot, code, num, m, r in rows
    ]


def collectors_of(session: Session, household_id: int) -> set[int]:
    """Users who entered the household's or its members' values (谁采集、谁录入): the provenance of every version."""
    persons = select(Membership.person_id).where(Membership.household_id == household_id)
    actors = set(
        session.execute(
            select(PersonVersion.actor_id)
            .where(PersonVersion.entity_id.in_(persons))
            .union(select(HouseholdVersion.actor_id).where(HouseholdVersion.entity_id == household_id))
        ).scalars()
    )
    proposers = set(
        session.execute(
            select(PersonVersion.source_ref)
            .where(PersonVersion.entity_id.in_(persons), PersonVersion.source_kind == "collector")
            .union(
                select(HouseholdVersion.source_ref).where(
                    HouseholdVersion.entity_id == household_id, HouseholdVersion.source_kind == "collector"
                )
            )
        ).scalars()
    )
    proposers.discard(None)
    if proposers:
        actors |= set(session.execute(select(User.id).where(User.username.in_(proposers))).scalars())
    return {int(a) for a in actors if a is not None}


def _collector_owner(session: Session, household_id: int) -> int | None:
    """The collector answerable for a household: who entered its latest member or household version."""
    persons = select(Membership.person_id).where(Membership.household_id == household_id)
    versions = (
        select(PersonVersion.actor_id.label("actor_id"), PersonVersion.recorded_at.label("at"))
        .where(PersonVersion.entity_id.in_(persons), PersonVersion.actor_id.is_not(None))
        .union_all(
            select(HouseholdVersion.actor_id, HouseholdVersion.recorded_at).where(
                HouseholdVersion.entity_id == household_id, HouseholdVersion.actor_id.is_not(None)
            )
        )
        .subquery()
    )
    row = session.execute(select(versions.c.actor_id).order_by(versions.c.at.desc()).limit(1)).first()
    return None if row is None else int(row[0])


def _result_read(session: Session, result: InspectionResult, household_id: int) -> ResultRead:
    inspector = session.get(User, result.inspector_id) if result.inspector_id is not None else None
    bands = [
        BandCount(
            age_band=b.age_band,
            persons_registered=b.persons_registered,
            persons_present=b.persons_present,
            persons_missed=b.persons_missed,
        )
        for b in session.execute(
            select(InspectionResultBand)
            .where(InspectionResultBand.result_id == result.id)
            .order_by(InspectionResultBand.id)
        ).scalars()
    ]
    return ResultRead(
        id=result.id,
        household_id=household_id,
        lot_id=result.lot_id,
        inspector=inspector.username if inspector else None,
        inspected_at=result.inspected_at,
        defective=result.defective,
        **{f: getattr(result, f) for f in rules.STORED_FIELDS},
        count_matches=result.count_matches,
        note=result.note,
        bands=bands or None,
    )


def record_result(
    session: Session,
    ctx: Context,
    plan_id: int,
    household_id: int,
    data: ResultCreate,
    *,
    client_uuid: str | None = None,
    content_hash: str | None = None,
) -> ResultRead:
    """Store what was found at a sampled household; refused for a household outside the sample, a second result,
    or a household the inspector collected themselves. A lot whose sample is complete (or already over Ac) is
    decided, and a rejected lot opens its rectification items."""
    plan = _plan(session, ctx, plan_id, "inspection.record")
    sample = session.execute(
        select(InspectionSample).where(
            InspectionSample.plan_id == plan.id, InspectionSample.household_id == household_id
        )
    ).scalar_one_or_none()
    if sample is None:
        raise ValidationFailed(
            "inspection.not_in_sample",
            "该户不在本次抽样中",
            "The household is not in this plan's sample",
            {"field": "household_id", "household_id": household_id},
        )
    counts = rules.stored_counts(
        data.model_dump(include=set(rules.RESULT_FIELDS)), len(person_rules.GENERAL_ITEMS)
    )
    bands = [(b.age_band, b.model_dump(include=set(rules.BAND_FIELDS))) for b in data.bands or []]
    if data.bands is not None:
        rules.check_bands(counts, bands)
    if ctx.actor.user_id is not None and ctx.actor.user_id in collectors_of(session, household_id):
        raise Forbidden(
            "inspection.own_collection",
            "检查人员不能检查本人采集录入的信息",
            "An inspector may not inspect what they collected",
            {"household_id": household_id},
        )
    if session.execute(select(InspectionResult.id).where(InspectionResult.sample_id == sample.id)).first():
        raise Conflict(
            "inspection.already_inspected",
            "该户已录入检查结果",
            "This household's result is already recorded",
            {"household_id": household_id},
        )
    result = InspectionResult(
        sample_id=sample.id,
        lot_id=sample.lot_id,
        county_code=sample.county_code,
        inspector_id=ctx.actor.user_id,
        inspected_at=ctx.now,
        count_matches=data.count_matches,
        defective=rules.is_defective(counts, data.count_matches),
        note=data.note,
        client_uuid=client_uuid,
        content_hash=content_hash,
        **counts,
    )
    session.add(result)
    session.flush()
    # The kept coverage by age band no longer holds (its fingerprint would tell it too).
    session.execute(delete(InspectionEstimate).where(InspectionEstimate.plan_id == plan.id))
    if bands:
        session.execute(
            insert(InspectionResultBand),
            [
                {"result_id": result.id, "county_code": result.county_code, "age_band": band, **figures}
                for band, figures in bands
            ],
        )
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "inspection.result",
                "household",
                household_id,
                None,
                {"plan_id": plan.id, "lot_id": sample.lot_id, "defective": result.defective},
            )
        ],
    )
    lot = session.get(InspectionLot, sample.lot_id)
    assert lot is not None
    _decide(session, ctx, plan, lot)
    return _result_read(session, result, household_id)


def _decide(session: Session, ctx: Context, plan: InspectionPlan, lot: InspectionLot) -> None:
    """Decide the lot once its sample is complete or its defects pass Ac; a rejected lot's defective households
    (also those found after the decision) each get a rectification item."""
    events = []
    if lot.decision is None:
        inspected, defects = _lot_counts(session, plan.id).get(lot.id, (0, 0))
        decision = rules.lot_decision(inspected, lot.sample_size, defects, lot.ac)
        if decision == "pending":
            return
        lot.decision, lot.decided_on = decision, ctx.today
        events.append(
            audit.Event(
                "inspection.lot_decide",
                "area",
                lot.community_id,
                None,
                {"lot_id": lot.id, "decision": decision, "defects": defects, "ac": lot.ac},
            )
        )
    if lot.decision == "rejected":
        open_for = select(Rectification.household_id).where(
            Rectification.lot_id == lot.id, Rectification.household_id.is_not(None)
        )
        due = rules.add_working_days(ctx.today, plan.rectify_days, calendar.default_calendar().is_working_day)
        defective = session.execute(
            select(InspectionSample.household_id)
            .join(InspectionResult, InspectionResult.sample_id == InspectionSample.id)
            .where(
                InspectionSample.lot_id == lot.id,
                InspectionResult.defective.is_(True),
                InspectionSample.household_id.not_in(open_for),
            )
            .order_by(InspectionSample.household_id)
        ).scalars()
        for household_id in defective:
            item = Rectification(
                lot_id=lot.id,
                household_id=household_id,
                county_code=lot.county_code,
                owner_id=_collector_owner(session, household_id),
                description="抽查发现差错，须整改并复查 / defects found by the sampled check: rectify, then re-inspect",
                opened_on=ctx.today,
                due_on=due,
                status="open",
            )
            session.add(item)
            session.flush()
            events.append(
                audit.Event(
                    "inspection.rectification_open",
                    "household",
                    household_id,
                    None,
                    {"rectification_id": item.id},
                )
            )
    session.flush()
    if events:
        registry.log(ctx, session, events)


def rates(session: Session, ctx: Context, plan_id: int) -> dict[str, Any]:
    """The five sample-based rates per community and rolled up over the communities, each with its 95 % interval.

    A rate counts persons, but the sample draws households, and the persons of a household are no independent
    draws (a collector who got a household wrong got its persons wrong together): each interval is that of the
    ratio estimator with the households' variance (`rules.cluster_rate`), rolled up with the communities'
    estimated persons as weights. Treating the persons as independent gave 95 % intervals that covered the true
    rate in about 70 % of simulated samples when defects come by household (tests/inspections/test_rules.py)."""
    plan = _plan(session, ctx, plan_id)
    lots = _lots(session, plan.id)
    codes = _codes(session, [lot.community_id for lot in lots])
    by_lot: dict[int, list[dict[str, int | None]]] = defaultdict(list)
    for lot_id, *figures in session.execute(
        select(InspectionResult.lot_id, *[getattr(InspectionResult, f) for f in rules.STORED_FIELDS])
        .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
        .where(InspectionLot.plan_id == plan.id)
    ):
        by_lot[int(lot_id)].append(dict(zip(rules.STORED_FIELDS, figures, strict=True)))
    per_lot = []
    parts: dict[str, list[rules.ClusterStratum]] = defaultdict(list)
    for lot in lots:
        results = by_lot.get(lot.id, [])
        lot_rates = []
        for key, (num, den, zh, en, target) in rules.RATES.items():
            stratum = rules.rate_stratum(results, num, den, lot.households)
            lot_rates.append(_rate(key, zh, en, target, stratum, plan.z))
            if stratum.persons:
                parts[key].append(stratum)
        per_lot.append(
            {
                "lot_id": lot.id,
                "community_code": codes[lot.community_id],
                "inspected": len(results),
                "rates": lot_rates,
            }
        )
    overall = [
        _rate(key, zh, en, target, parts[key], plan.z)
        for key, (_n, _d, zh, en, target) in rules.RATES.items()
    ]
    return {"plan_id": plan.id, "overall": overall, "lots": per_lot}


def _rate(
    key: str,
    zh: str,
    en: str,
    target: float,
    strata: rules.ClusterStratum | list[rules.ClusterStratum],
    z: float,
) -> RateRead:
    """A rate over one community's stratum or the plan's strata: the counts, the cluster interval, the target read
    statistically, and the households that count in it."""
    parts = [strata] if isinstance(strata, rules.ClusterStratum) else strata
    live = [st for st in parts if st.persons]
    ci = rules.cluster_rate(live, z) if live else None
    return RateRead(
        key=key,
        label_zh=zh,
        label_en=en,
        x=sum(h[0] for st in live for h in st.households),
        n=sum(st.persons for st in live),
        rate=ci.estimate if ci else None,
        low=ci.low if ci else None,
        high=ci.high if ci else None,
        target=target,
        target_met=rules.meets_target(ci, target) if ci else None,
        target_reading=rules.target_reading(ci, target) if ci else None,
        households=sum(len(st.households) for st in live),
    )


def _rect_read(session: Session, item: Rectification, today: dt.date, code: str) -> RectificationRead:
    owner = session.get(User, item.owner_id) if item.owner_id is not None else None
    return RectificationRead(
        id=item.id,
        lot_id=item.lot_id,
        community_code=code,
        household_id=item.household_id,
        owner=owner.username if owner else None,
        description=item.description,
        opened_on=item.opened_on,
        due_on=item.due_on,
        status=item.status,
        overdue=item.status != "closed" and today > item.due_on,
        fixed_on=item.fixed_on,
        reinspected_on=item.reinspected_on,
    )


def notices(session: Session, ctx: Context, *, only_open: bool = True) -> list[RectificationRead]:
    """The 通报 list: rectification items in the jurisdiction, open (and overdue) first by due date; for the owners
    who rectify them and the inspectors who re-inspect them."""
    if not ctx.actor.may("inspection.record"):
        ctx.actor.ensure("inspection.rectify")
    stmt = (
        select(Rectification, Area.code)
        .join(InspectionLot, InspectionLot.id == Rectification.lot_id)
        .join(Area, Area.id == InspectionLot.community_id)
        .where(Area.path.startswith(ctx.actor.area_path))
        .order_by(Rectification.due_on, Rectification.id)
    )
    if only_open:
        stmt = stmt.where(Rectification.status != "closed")
    return [_rect_read(session, item, ctx.today, code) for item, code in session.execute(stmt).all()]


def _rectification(session: Session, ctx: Context, item_id: int, action: str) -> tuple[Rectification, str]:
    ctx.actor.ensure(action)
    row = session.execute(
        select(Rectification, Area.code, Area.path)
        .join(InspectionLot, InspectionLot.id == Rectification.lot_id)
        .join(Area, Area.id == InspectionLot.community_id)
        .where(Rectification.id == item_id)
    ).first()
    if row is None or not ctx.actor.covers_path(row[2]):
        raise NotFound(
            "inspection.rectification_not_found",
            "未找到该整改事项",
            "Rectification item not found",
            {"id": item_id},
        )
    return row[0], row[1]


def fix_rectification(session: Session, ctx: Context, item_id: int) -> RectificationRead:
    """The owner reports the item rectified; it waits for its re-inspection."""
    item, code = _rectification(session, ctx, item_id, "inspection.rectify")
    if item.status != "open":
        raise Conflict(
            "inspection.rectification_not_open",
            "该整改事项不在待整改状态",
            "The item is not open",
            {"status": item.status},
        )
    item.status, item.fixed_on = "fixed", ctx.today
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "inspection.rectification_fix",
                "household",
                item.household_id,
                None,
                {"rectification_id": item.id},
            )
        ],
    )
    return _rect_read(session, item, ctx.today, code)


def reinspect(session: Session, ctx: Context, item_id: int, *, passed: bool) -> RectificationRead:
    """Re-inspection (复查) of a rectified item: closed when it passes, open again when it does not."""
    item, code = _rectification(session, ctx, item_id, "inspection.record")
    if item.status != "fixed":
        raise Conflict(
            "inspection.rectification_not_fixed",
            "该整改事项尚未整改完毕",
            "The item has not been rectified yet",
            {"status": item.status},
        )
    if item.household_id is not None and ctx.actor.user_id in collectors_of(session, item.household_id):
        raise Forbidden(
            "inspection.own_collection",
            "检查人员不能检查本人采集录入的信息",
            "An inspector may not inspect what they collected",
            {"household_id": item.household_id},
        )
    item.status = "closed" if passed else "open"
    item.reinspected_on, item.reinspected_by = ctx.today, ctx.actor.user_id
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "inspection.reinspect",
                "household",
                item.household_id,
                None,
                {"rectification_id": item.id, "passed": passed},
            )
        ],
    )
    return _rect_read(session, item, ctx.today, code)
