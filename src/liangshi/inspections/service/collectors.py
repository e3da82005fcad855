"""Accountability (谁采集、谁录入、谁负责): every defect found — by inspection, at review, or by the checks — traced
through provenance to the collector who entered the value, and each collector's period scored on a sheet.

Who entered a value is read from its version row: a value a collector proposed and the station approved keeps the
proposer as its source (`source_kind = collector`, `source_ref` = the username), so it is theirs, not the
approver's; a value written directly is its actor's. Rates come with Wilson intervals, and the 奖惩 lists read
them statistically (rules.verdict).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from liangshi.access.models import User
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.buildings.models import Dwelling, DwellingVersion
from liangshi.campaign import organisation
from liangshi.campaign.models import Assignment, Visit
from liangshi.checks.models import Finding
from liangshi.clock import CHINA_TZ
from liangshi.errors import NotFound, ValidationFailed
from liangshi.inspections import rules
from liangshi.inspections.models import InspectionLot, InspectionResult, InspectionSample
from liangshi.inspections.service.core import _plan
from liangshi.persons.models import Household, HouseholdVersion, Membership, Person, PersonVersion
from liangshi.registry import Context
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.tables import service as tables
from liangshi.versioned import ChangeSet

MAX_PERIOD_DAYS = 3660
# The kinds whose values a collector enters, and the finding object kinds traced through them.
ENTERED = ((Person, PersonVersion), (Household, HouseholdVersion), (Residence, ResidenceVersion))
FINDING_KINDS: dict[str, Any] = {"person": PersonVersion, "dwelling": DwellingVersion}
# The checks whose findings only some readers see (checks.rules: `Check.permission`; a test holds the two equal):
# not counted against whoever entered the person.
RESTRICTED_CHECKS = ("correction.person_departed",)


def entered_by(version: Any) -> Any:
    """The user answerable for a version row: the proposing collector if it came through review, else its actor."""
    proposer = select(User.id).where(User.username == version.source_ref).correlate(version).scalar_subquery()
    return case(
        (
            and_(version.source_kind == "collector", version.source_ref.is_not(None)),
            func.coalesce(proposer, version.actor_id),
        ),
        else_=version.actor_id,
    )


def household_owners(session: Session, households: Any) -> dict[int, int]:
    """Household → who entered its latest member or household version (a select of household ids in)."""
    versions = (
        select(
            Membership.household_id.label("household_id"),
            entered_by(PersonVersion).label("actor_id"),
            PersonVersion.recorded_at.label("at"),
        )
        .join(PersonVersion, PersonVersion.entity_id == Membership.person_id)
        .where(Membership.household_id.in_(households), PersonVersion.actor_id.is_not(None))
        .union_all(
            select(
                HouseholdVersion.entity_id, entered_by(HouseholdVersion), HouseholdVersion.recorded_at
            ).where(HouseholdVersion.entity_id.in_(households), HouseholdVersion.actor_id.is_not(None))
        )
        .subquery()
    )
    ranked = select(
        versions.c.household_id,
        versions.c.actor_id,
        func.row_number()
        .over(partition_by=versions.c.household_id, order_by=versions.c.at.desc())
        .label("rank"),
    ).subquery()
    rows = session.execute(
        select(ranked.c.household_id, ranked.c.actor_id).where(
            ranked.c.rank == 1, ranked.c.actor_id.is_not(None)
        )
    ).all()
    return {int(h): int(a) for h, a in rows}


def accountability(session: Session, ctx: Context, plan_id: int) -> list[dict[str, Any]]:
    """Per collector (谁采集、谁录入、谁负责): households of theirs inspected, defective ones, the defect rate with its
    Wilson interval, and the persons with a main item wrong."""
    plan = _plan(session, ctx, plan_id)
    owners = household_owners(
        session, select(InspectionSample.household_id).where(InspectionSample.plan_id == plan.id)
    )
    found = session.execute(
        select(
            InspectionSample.household_id,
            InspectionResult.defective,
            InspectionResult.persons_present,
            InspectionResult.main_right,
        )
        .join(InspectionResult, InspectionResult.sample_id == InspectionSample.id)
        .where(InspectionSample.plan_id == plan.id)
    ).all()
    tally: dict[int | None, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for household_id, defective, present, main in found:
        slot = tally[owners.get(int(household_id))]
        slot[0] += 1
        slot[1] += int(bool(defective))
        slot[2] += int(present)
        slot[3] += int(present) - int(main)
    names = _names(session, [k for k in tally if k is not None])
    out = []
    for user_id, (inspected, bad, persons, main_wrong) in tally.items():
        ci = rules.wilson(bad, inspected, plan.z)
        out.append(
            {
                "collector": names[user_id][0] if user_id is not None else None,
                "inspected": inspected,
                "defective": bad,
                "defect_rate": ci.estimate,
                "low": ci.low,
                "high": ci.high,
                "persons": persons,
                "main_wrong": main_wrong,
            }
        )
    return sorted(out, key=lambda r: (-r["defect_rate"], r["collector"] or ""))


def _names(session: Session, user_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    rows = session.execute(
        select(User.id, User.username, User.display_name, User.role).where(User.id.in_(user_ids))
    )
    return {int(i): (str(u), str(d), str(r)) for i, u, d, r in rows}


def _root(session: Session, ctx: Context, area_code: str) -> Area:
    ctx.actor.ensure("inspection.read")
    root = areas.by_code(session, area_code)
    if root is None or not ctx.actor.covers_path(root.path):
        raise NotFound(
            "area.not_found", "未找到该区划", "Area not found", {"field": "area", "code": area_code}
        )
    return root


def _period(date_from: dt.date, date_to: dt.date) -> tuple[dt.datetime, dt.datetime]:
    if date_from > date_to:
        raise ValidationFailed(
            "kpi.period_reversed",
            "起始日期不能晚于截止日期",
            "The period must start on or before its end",
            {"field": "from", "from": date_from.isoformat(), "to": date_to.isoformat()},
        )
    if (date_to - date_from).days > MAX_PERIOD_DAYS:
        raise ValidationFailed(
            "kpi.period_too_long",
            "统计期间不能超过十年",
            "The period cannot exceed ten years",
            {"field": "to"},
        )
    start = dt.datetime.combine(date_from, dt.time(), CHINA_TZ)
    return start, dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA_TZ)


def _volume_and_upkeep(
    session: Session, subtree: Any, start: dt.datetime, end: dt.datetime, counts: dict[int, Counter[str]]
) -> None:
    """Records entered (first versions), changes and deregistrations, per who entered them."""
    for entity, version in ENTERED:
        dereg = (
            version.deregistration_date.is_not(None) if version is ResidenceVersion else version.row_id < 0
        )
        # The proposer by a join on the unique username, not a lookup per row: millions of versions in a city.
        proposer = and_(
            version.source_kind == "collector",
            version.source_ref.is_not(None),
            User.username == version.source_ref,
        )
        rows = (
            select(
                func.coalesce(User.id, version.actor_id).label("who"),
                version.change.label("change"),
                dereg.label("dereg"),
            )
            .join(entity, entity.id == version.entity_id)
            .outerjoin(User, proposer)
            .where(entity.area_id.in_(subtree), version.recorded_at >= start, version.recorded_at < end)
            .subquery()
        )
        stmt = select(rows.c.who, rows.c.change, rows.c.dereg, func.count()).group_by(
            rows.c.who, rows.c.change, rows.c.dereg
        )
        for user_id, change, deregistered, n in session.execute(stmt):
            if user_id is None:
                continue
            key = "record" if change == "create" else "deregistration" if deregistered else "update"
            counts[int(user_id)][key] += int(n)
    for user_id, n in session.execute(
        select(Visit.collector_id, func.count())
        .where(Visit.area_id.in_(subtree), Visit.visited_at >= start, Visit.visited_at < end)
        .group_by(Visit.collector_id)
    ):
        if user_id is not None:
            counts[int(user_id)]["visit"] += int(n)


def _review(
    session: Session, root: Area, start: dt.datetime, end: dt.datetime, counts: dict[int, Counter[str]]
) -> None:
    """Change sets proposed in the period: how many, how many were decided, how many were returned at least once."""
    returned = or_(ChangeSet.round > 1, ChangeSet.status == "returned")
    decided = or_(returned, ChangeSet.station_reviewed_at.is_not(None), ChangeSet.applied_at.is_not(None))
    stmt = (
        select(
            ChangeSet.proposer_id,
            func.count(),
            func.count().filter(decided),
            func.count().filter(returned),
        )
        .where(
            ChangeSet.area_path.startswith(root.path),
            ChangeSet.proposed_at >= start,
            ChangeSet.proposed_at < end,
            ChangeSet.proposer_id.is_not(None),
        )
        .group_by(ChangeSet.proposer_id)
    )
    for user_id, n, n_decided, n_returned in session.execute(stmt):
        c = counts[int(user_id or 0)]
        c["change_set"] += int(n)
        c["reviewed"] += int(n_decided)
        c["review_return"] += int(n_returned)


def _findings(
    session: Session, subtree: Any, start: dt.datetime, end: dt.datetime, counts: dict[int, Counter[str]]
) -> None:
    """The checks' findings opened in the period (not dismissed), each traced to who entered the object's latest
    version; and the findings assigned to a collector that were fixed in the period (reminders handled)."""
    for kind, version in FINDING_KINDS.items():
        latest = (
            select(
                version.entity_id.label("entity_id"),
                entered_by(version).label("who"),
                func.row_number()
                .over(partition_by=version.entity_id, order_by=version.recorded_at.desc())
                .label("rank"),
            )
            .where(
                version.entity_id.in_(
                    select(Finding.object_id).where(Finding.object_kind == kind, Finding.area_id.in_(subtree))
                )
            )
            .subquery()
        )
        stmt = (
            select(latest.c.who, Finding.check_code, func.count())
            .join(latest, and_(latest.c.entity_id == Finding.object_id, latest.c.rank == 1))
            .where(
                Finding.object_kind == kind,
                Finding.area_id.in_(subtree),
                Finding.status != "dismissed",
                # Not a collector's entry to mend: a person under community correction who left (restricted).
                Finding.check_code.not_in(RESTRICTED_CHECKS),
                Finding.opened_at >= start,
                Finding.opened_at < end,
            )
            .group_by(latest.c.who, Finding.check_code)
        )
        for user_id, code, n in session.execute(stmt):
            if user_id is not None:
                counts[int(user_id)]["duplicate" if code == "person.duplicate" else "finding"] += int(n)
    for user_id, n in session.execute(
        select(Finding.assignee_id, func.count())
        .where(
            Finding.area_id.in_(subtree),
            Finding.status == "fixed",
            Finding.closed_at >= start,
            Finding.closed_at < end,
            Finding.assignee_id.is_not(None),
        )
        .group_by(Finding.assignee_id)
    ):
        counts[int(user_id or 0)]["finding_closed"] += int(n)


def _inspections(
    session: Session, subtree: Any, start: dt.datetime, end: dt.datetime, counts: dict[int, Counter[str]]
) -> None:
    """Households inspected in the period, and the defective ones, per who entered them."""
    inspected = (
        select(InspectionSample.household_id, InspectionResult.defective)
        .join(InspectionResult, InspectionResult.sample_id == InspectionSample.id)
        .join(InspectionLot, InspectionLot.id == InspectionResult.lot_id)
        .where(
            InspectionLot.community_id.in_(subtree),
            InspectionResult.inspected_at >= start,
            InspectionResult.inspected_at < end,
        )
    )
    rows = session.execute(inspected).all()
    owners = household_owners(session, inspected.with_only_columns(InspectionSample.household_id))
    for household_id, defective in rows:
        owner = owners.get(int(household_id))
        if owner is not None:
            counts[owner]["inspected"] += 1
            counts[owner]["inspection_defect"] += int(bool(defective))


def _timeliness(
    session: Session,
    subtree: Any,
    date_from: dt.date,
    date_to: dt.date,
    today: dt.date,
    counts: dict[int, Counter[str]],
) -> None:
    """Assignments due in the period: their dwellings visited by the due date, and those that were not finished by
    a due date already past (overdue)."""
    due = session.execute(
        select(Assignment).where(
            Assignment.area_id.in_(subtree),
            Assignment.due_on >= date_from,
            Assignment.due_on <= date_to,
            Assignment.status != "reassigned",
        )
    ).scalars()
    for a in due:
        deadline = dt.datetime.combine(a.due_on + dt.timedelta(days=1), dt.time(), CHINA_TZ)
        dwellings = select(Dwelling.id).where(Dwelling.building_id.in_(organisation.covered_buildings(a)))
        total, on_time = session.execute(
            select(
                func.count(),
                func.count().filter(
                    select(Visit.id)
                    .where(Visit.dwelling_id == Dwelling.id, Visit.visited_at < deadline)
                    .exists()
                ),
            ).where(Dwelling.id.in_(dwellings))
        ).one()
        c = counts[a.collector_id]
        c["assigned_dwellings"] += int(total)
        c["on_time_dwellings"] += int(on_time)
        if a.due_on < today and on_time < total:
            c["overdue_assignment"] += 1


def _interval(x: int, n: int) -> dict[str, Any] | None:
    if n <= 0:
        return None
    ci = rules.wilson(min(x, n), n)
    return {"x": x, "n": n, "rate": ci.estimate, "low": ci.low, "high": ci.high}


def collector_report(
    session: Session,
    ctx: Context,
    *,
    area_code: str,
    date_from: dt.date,
    date_to: dt.date,
    sheet: rules.ScoringSheet | None = None,
) -> dict[str, Any]:
    """Each collector's period in an area: volume, upkeep and the defects traced to them (inspection, review
    returns, the checks' findings), their rates with Wilson intervals, timeliness against their assignments, the
    score on the sheet, and the period's 奖惩 lists."""
    root = _root(session, ctx, area_code)
    sheet = sheet or rules.scoring_sheet()
    start, end = _period(date_from, date_to)
    subtree = select(Area.id).where(Area.path.startswith(root.path))
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    _volume_and_upkeep(session, subtree, start, end, counts)
    _review(session, root, start, end, counts)
    _findings(session, subtree, start, end, counts)
    _inspections(session, subtree, start, end, counts)
    _timeliness(session, subtree, date_from, date_to, ctx.today, counts)
    names = _names(session, list(counts))
    rows: list[dict[str, Any]] = []
    for user_id, c in counts.items():
        if user_id not in names:
            continue
        inspection = _interval(c["inspection_defect"], c["inspected"])
        review = _interval(c["review_return"], c["reviewed"])
        entered = c["record"] + c["update"] + c["deregistration"]
        checks = _interval(c["finding"] + c["duplicate"], max(entered, c["finding"] + c["duplicate"]))
        timely = _interval(c["on_time_dwellings"], c["assigned_dwellings"])
        points = rules.score(sheet, c)
        verdict, why = rules.verdict(
            sheet,
            points["total"],
            rules.wilson(inspection["x"], inspection["n"]) if inspection else None,
            rules.wilson(min(review["x"], review["n"]), review["n"]) if review else None,
        )
        username, display, role = names[user_id]
        rows.append(
            {
                "collector": username,
                "display_name": display,
                "role": role,
                "counts": {k: c[k] for k in sorted(c)},
                "inspection": inspection,
                "review": review,
                "checks": checks,
                "timeliness": timely,
                "score": points,
                "verdict": verdict,
                "reasons": why,
            }
        )
    rows.sort(key=lambda r: (-r["score"]["total"], r["collector"]))
    return {
        "area": {"code": root.code, "name": areas.names_of(session, [root.id], date_to).get(root.id, "")},
        "from": date_from.isoformat(),
        "to": date_to.isoformat(),
        "sheet": {"name": sheet.name, "weights": sheet.weights, "lists": sheet.lists},
        "collectors": rows,
        "rewards": [r["collector"] for r in rows if r["verdict"] == "reward"],
        "penalties": [r["collector"] for r in rows if r["verdict"] == "penalty"],
    }


# The columns of the scoring workbook: (group zh/en, label zh/en, how to read the value from a report row).
_COLUMNS: tuple[tuple[tuple[str, str], tuple[str, str], str], ...] = (
    (("工作量", "Volume"), ("录入记录", "Records"), "counts.record"),
    (("工作量", "Volume"), ("走访", "Visits"), "counts.visit"),
    (("工作量", "Volume"), ("提交采集", "Change sets"), "counts.change_set"),
    (("日常维护", "Upkeep"), ("注销", "Deregistrations"), "counts.deregistration"),
    (("日常维护", "Upkeep"), ("变更延期", "Changes"), "counts.update"),
    (("日常维护", "Upkeep"), ("处理提醒", "Reminders handled"), "counts.finding_closed"),
    (("抽查", "Inspection"), ("抽查户数", "Inspected"), "counts.inspected"),
    (("抽查", "Inspection"), ("有误户数", "Defective"), "counts.inspection_defect"),
    (("抽查", "Inspection"), ("差错率", "Defect rate"), "inspection.rate"),
    (("抽查", "Inspection"), ("95%下限", "95% low"), "inspection.low"),
    (("抽查", "Inspection"), ("95%上限", "95% high"), "inspection.high"),
    (("审核", "Review"), ("已审核", "Reviewed"), "counts.reviewed"),
    (("审核", "Review"), ("退回", "Returned"), "counts.review_return"),
    (("审核", "Review"), ("退回率", "Return rate"), "review.rate"),
    (("质量检查", "Checks"), ("逻辑错误", "Logic errors"), "counts.finding"),
    (("质量检查", "Checks"), ("重复录入", "Duplicates"), "counts.duplicate"),
    (("及时性", "Timeliness"), ("任务住房", "Assigned dwellings"), "counts.assigned_dwellings"),
    (("及时性", "Timeliness"), ("按期走访", "Visited on time"), "counts.on_time_dwellings"),
    (("及时性", "Timeliness"), ("按期率", "On-time rate"), "timeliness.rate"),
    (("及时性", "Timeliness"), ("逾期任务", "Overdue assignments"), "counts.overdue_assignment"),
    (("得分", "Score"), ("工作量", "Volume"), "score.volume"),
    (("得分", "Score"), ("日常维护", "Upkeep"), "score.upkeep"),
    (("得分", "Score"), ("质量", "Quality"), "score.quality"),
    (("得分", "Score"), ("总分", "Total"), "score.total"),
)
VERDICTS = {"reward": ("奖励", "Reward"), "penalty": ("处罚", "Penalty")}


def _pick(row: dict[str, Any], path: str) -> Any:
    group, key = path.split(".")
    part = row.get(group)
    return None if part is None else part.get(key, 0)


def report_table(report: dict[str, Any]) -> dict[str, Any]:
    """The report as a statistical table (tables.service.workbook lays it out): one row per collector, the
    figures under their group headers, the 奖惩 column, and a total row of the counts."""
    rows = []
    for r in report["collectors"]:
        values = [_pick(r, path) for _g, _l, path in _COLUMNS]
        verdict = VERDICTS.get(r["verdict"] or "")
        rows.append(
            {
                "code": r["collector"],
                "name": r["display_name"],
                "values": [*values, verdict[0] if verdict else ""],
                "total": None,
            }
        )
    totals: list[Any] = []
    for i, (_g, _l, path) in enumerate(_COLUMNS):
        counted = path.startswith("counts.") or path.startswith("score.")
        totals.append(round(sum(float(row["values"][i] or 0) for row in rows), 2) if counted else None)
    return {
        "table": "accountability",
        "title": f"采集员考核（{report['sheet']['name']}）",
        "title_en": f"Collector scores ({report['sheet']['name']})",
        "area": report["area"],
        "on": report["to"],
        "keys": [("采集员", "Collector"), ("姓名", "Name")],
        "labels": [[list(g), list(lbl)] for g, lbl, _p in _COLUMNS] + [[["奖惩", "Reward / penalty"], None]],
        "rows": rows,
        "totals": {"values": [*totals, ""], "total": None},
    }


def report_workbook(report: dict[str, Any], lang: str = "zh") -> bytes:
    """The scoring report as xlsx: two header rows (group, figure), one row per collector, the 奖惩 column."""
    return tables.workbook(report_table(report), lang)
