"""Residence use cases: arrival, extension, move, departure, births and deaths, 查人知住, 查房知人, area lists."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from liangshi import registry
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings import service as buildings
from liangshi.common.idnumber import mask_id_number
from liangshi.common.types import validation_context
from liangshi.errors import Conflict, LiangshiError, NotFound, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Document, DocumentVersion, Household, Person
from liangshi.persons.schemas import MemberAdd, PersonCreate
from liangshi.registry import Context, Kind, Provenance, Snapshot, history
from liangshi.residence import calendar
from liangshi.residence.models import RESIDENCE as RESIDENCE
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.rules import (
    LIFECYCLE,
    check_dates,
    check_departure,
    check_extension,
    status_of,
)
from liangshi.residence.schemas import ArrivalIn, BirthIn, DeathIn, DepartureIn, ExtendIn, MoveIn


def residence_check(ctx: Context) -> Any:
    """On change or correction the residence dates must stay consistent."""

    def check(residence: Any, attrs: dict[str, Any]) -> None:
        check_dates(
            arrival=attrs["arrival_date"],
            registration=attrs["registration_date"],
            intended_until=attrs["intended_stay_until"],
            today=ctx.today,
        )

    return check


def residence_change_check(session: Session, ctx: Context) -> Any:
    """A change from a date (PATCH) is an extension or a change of category: the lifecycle must allow it."""
    dates = residence_check(ctx)

    def check(residence: Any, attrs: dict[str, Any]) -> None:
        status, row = residence_status(session, residence.id)
        if attrs["category"] != row.category:
            LIFECYCLE.ensure(status, "change_category", id=residence.id)
        if attrs["intended_stay_until"] != row.intended_stay_until:
            LIFECYCLE.ensure(status, "extend_stay", id=residence.id)
        dates(residence, attrs)

    return check


def residence_correct_check(session: Session, ctx: Context) -> Any:
    """A correction must be allowed in the residence's status and keep the dates consistent."""
    dates = residence_check(ctx)

    def check(residence: Any, attrs: dict[str, Any]) -> None:
        status, _ = residence_status(session, residence.id)
        LIFECYCLE.ensure(status, "correct", id=residence.id)
        dates(residence, attrs)

    return check


def residence_status(session: Session, residence_id: int) -> tuple[str, ResidenceVersion]:
    """The lifecycle status of a residence from its current version, and that version."""
    row = history.latest_row(session, RESIDENCE, residence_id)
    if row is None:
        raise history.not_found(RESIDENCE, residence_id)
    status = status_of(
        valid_to=row.valid_to,
        departure_date=row.departure_date,
        deregistration_date=row.deregistration_date,
    )
    return status, row


def _open_residences(session: Session, person_id: int) -> list[tuple[Residence, ResidenceVersion]]:
    v = ResidenceVersion
    rows = session.execute(
        select(Residence, v)
        .join(v, and_(v.entity_id == Residence.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
        .where(Residence.person_id == person_id)
    )
    return [(r, row) for r, row in rows]


def _available_dwelling(session: Session, ctx: Context, dwelling_id: int) -> Any:
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor)
    drow = history.open_row(session, buildings.DWELLING, dwelling.id)
    if drow is None or drow.status == "demolished":
        raise Conflict(
            "residence.dwelling_unavailable",
            "该房屋已拆除或注销，不能登记居住",
            "The dwelling is demolished or retired",
            {"field": "dwelling_id"},
        )
    return dwelling


def register_arrival(session: Session, ctx: Context, data: ArrivalIn) -> Snapshot:
    """Register a person at a dwelling from the arrival date; one main residence at a time (lodging aside)."""
    ctx.actor.ensure("residence.write")
    person = registry.get_entity(session, persons.PERSON, data.person_id, ctx.actor)
    dwelling = _available_dwelling(session, ctx, data.dwelling_id)
    registration = data.registration_date or ctx.today
    check_dates(
        arrival=data.arrival_date,
        registration=registration,
        intended_until=data.intended_stay_until,
        today=ctx.today,
    )
    if data.category != "lodging":
        for res, row in _open_residences(session, person.id):
            if row.category != "lodging":
                raise Conflict(
                    "residence.already_open",
                    "该人员已有未注销的居住登记，请先注销或办理迁移",
                    "The person already has an open residence; deregister it first",
                    {"field": "person_id", "residence_id": res.id},
                )
    attrs = {
        "category": data.category,
        "arrival_date": data.arrival_date,
        "registration_date": registration,
        "intended_stay_until": data.intended_stay_until,
        "departure_date": None,
        "deregistration_date": None,
        "deregistration_reason": None,
        "destination": None,
    }
    residence = Residence(
        person_id=person.id,
        dwelling_id=dwelling.id,
        area_id=dwelling.area_id,
        county_code=dwelling.county_code,
    )
    # The residence is valid in the world from the arrival, whenever it was registered.
    return registry.create(
        session,
        ctx,
        RESIDENCE,
        residence,
        attrs,
        valid_from=data.arrival_date,
        prov=data.provenance.to_domain(ctx.actor.username),
    )


def deregister_departure(session: Session, ctx: Context, residence_id: int, data: DepartureIn) -> Snapshot:
    """Close a residence at the departure date with reason and destination."""
    ctx.actor.ensure("residence.write")
    residence = registry.get_entity(session, RESIDENCE, residence_id, ctx.actor)
    status, row = residence_status(session, residence.id)
    LIFECYCLE.ensure(status, "deregister", id=residence.id)
    dereg = data.deregistration_date or ctx.today
    check_departure(
        arrival=row.arrival_date, departure=data.departure_date, deregistration=dereg, today=ctx.today
    )
    changes = {
        "departure_date": data.departure_date,
        "deregistration_date": dereg,
        "deregistration_reason": data.reason,
        "destination": data.destination,
    }
    return registry.retire(
        session,
        ctx,
        RESIDENCE,
        residence.id,
        expected_version=data.expected_version,
        effective=data.departure_date,
        prov=data.provenance.to_domain(ctx.actor.username),
        reason=data.note or data.reason,
        changes=changes,
        permission="residence.write",
    )


def retire_residence(
    session: Session,
    ctx: Context,
    kind: Kind,
    residence_id: int,
    *,
    expected_version: int,
    effective: dt.date | None,
    prov: Provenance,
    reason: str,
) -> Snapshot:
    """作废: retire a residence recorded in error (police); the lifecycle must allow it (not once deregistered)."""
    ctx.actor.ensure("residence.retire")
    residence = registry.get_entity(session, RESIDENCE, residence_id, ctx.actor)
    status, _ = residence_status(session, residence.id)
    LIFECYCLE.ensure(status, "retire", id=residence.id)
    return registry.retire(
        session,
        ctx,
        kind,
        residence.id,
        expected_version=expected_version,
        effective=effective,
        prov=prov,
        reason=reason,
    )


def extend_stay(session: Session, ctx: Context, residence_id: int, data: ExtendIn) -> Snapshot:
    """续住: a later end of the intended stay from a date (default today); the earlier end stays in history."""
    ctx.actor.ensure("residence.write")
    residence = registry.get_entity(session, RESIDENCE, residence_id, ctx.actor)
    status, row = residence_status(session, residence.id)
    LIFECYCLE.ensure(status, "extend_stay", id=residence.id)
    effective = data.effective or ctx.today
    check_extension(
        arrival=row.arrival_date,
        current_until=row.intended_stay_until,
        new_until=data.intended_stay_until,
        effective=effective,
        today=ctx.today,
    )
    return registry.change(
        session,
        ctx,
        RESIDENCE,
        residence.id,
        {"intended_stay_until": data.intended_stay_until},
        expected_version=data.expected_version,
        effective=effective,
        prov=data.provenance.to_domain(ctx.actor.username),
        reason=data.reason or "extend_stay",
        check=residence_check(ctx),
    )


def move(session: Session, ctx: Context, residence_id: int, data: MoveIn) -> tuple[Snapshot, Snapshot]:
    """市内迁移: close the residence at the move date (moved_within_city, destination = the new address) and
    register the same person at the new dwelling from that date; both or neither (one transaction)."""
    ctx.actor.ensure("residence.write")
    residence = registry.get_entity(session, RESIDENCE, residence_id, ctx.actor)
    status, row = residence_status(session, residence.id)
    LIFECYCLE.ensure(status, "move", id=residence.id)
    if data.dwelling_id == residence.dwelling_id:
        raise ValidationFailed(
            "residence.move_same_dwelling",
            "迁入房屋与原房屋相同",
            "The new dwelling is the one the person already lives in",
            {"field": "dwelling_id"},
        )
    target = _available_dwelling(session, ctx, data.dwelling_id)
    registration = data.registration_date or ctx.today
    check_departure(
        arrival=row.arrival_date, departure=data.move_date, deregistration=registration, today=ctx.today
    )
    destination = buildings.describe_dwelling(session, target.id, data.move_date).get("text") or None
    prov = data.provenance.to_domain(ctx.actor.username)
    closed = registry.retire(
        session,
        ctx,
        RESIDENCE,
        residence.id,
        expected_version=data.expected_version,
        effective=data.move_date,
        prov=prov,
        reason=data.note or "moved_within_city",
        changes={
            "departure_date": data.move_date,
            "deregistration_date": registration,
            "deregistration_reason": "moved_within_city",
            "destination": destination[:200] if destination else None,
        },
        permission="residence.write",
    )
    until = data.intended_stay_until
    if until is None and row.intended_stay_until is not None and row.intended_stay_until > data.move_date:
        until = row.intended_stay_until
    opened = register_arrival(
        session,
        ctx,
        ArrivalIn(
            person_id=residence.person_id,
            dwelling_id=target.id,
            category=data.category or row.category,
            arrival_date=data.move_date,
            registration_date=registration,
            intended_stay_until=until,
            provenance=data.provenance,
        ),
    )
    return closed, opened


def register_birth(session: Session, ctx: Context, data: BirthIn) -> dict[str, Snapshot]:
    """A newborn: the person, membership of a household and a residence at its dwelling from the birth date."""
    for permission in ("person.write", "household.write", "residence.write"):
        ctx.actor.ensure(permission)
    if data.birth_date > ctx.today:
        raise ValidationFailed(
            "person.birth_in_future",
            "出生日期不能晚于今天",
            "The birth date cannot be in the future",
            {"field": "birth_date"},
        )
    if data.relationship in ("01", "02") or data.relationship.startswith("1"):
        raise ValidationFailed(
            "birth.relationship_invalid",
            "新生儿不能是户主、本人或配偶",
            "A newborn cannot be the head, self or spouse",
            {"field": "relationship"},
        )
    household = registry.get_entity(session, persons.HOUSEHOLD, data.household_id, ctx.actor)
    hrow = history.open_row(session, persons.HOUSEHOLD, household.id)
    if hrow is None:
        raise Conflict(
            "household.retired",
            "该户已注销，不能再修改",
            "The household is retired and cannot be changed",
            {"field": "household_id"},
        )
    dwelling_id = data.dwelling_id or hrow.dwelling_id
    if dwelling_id is None:
        raise ValidationFailed(
            "birth.dwelling_unknown",
            "该户没有登记房屋，请填写新生儿居住的房屋",
            "The household has no dwelling; give the dwelling the newborn lives in",
            {"field": "dwelling_id"},
        )
    _available_dwelling(session, ctx, dwelling_id)
    docs = [{"doc_type": "resident_id", "number": data.resident_id}] if data.resident_id else []
    person = persons.create_person(
        session,
        ctx,
        PersonCreate.model_validate(
            {
                "area_id": household.area_id,
                "name": data.name,
                "sex": data.sex,
                "birth_date": data.birth_date,
                "ethnicity": data.ethnicity,
                "hukou_region": data.hukou_region,
                "documents": docs,
                "valid_from": data.birth_date,
                "provenance": data.provenance,
            },
            context=validation_context(ctx.today),
        ),
    )
    snap_household = persons.add_member(
        session,
        ctx,
        household.id,
        MemberAdd(
            expected_version=data.household_expected_version,
            person_id=person.entity.id,
            relationship=data.relationship,
            effective=data.birth_date,
            provenance=data.provenance,
        ),
    )
    snap_residence = register_arrival(
        session,
        ctx,
        ArrivalIn(
            person_id=person.entity.id,
            dwelling_id=dwelling_id,
            category=data.category,
            arrival_date=data.birth_date,
            registration_date=data.registration_date,
            provenance=data.provenance,
        ),
    )
    return {"person": person, "household": snap_household, "residence": snap_residence}


@dataclass(frozen=True)
class Death:
    """One death for `register_deaths`: the person, the date of death and the person's version as read."""

    person_id: int
    death_date: dt.date
    expected_version: int


@dataclass(frozen=True)
class DeathDone:
    """What `register_deaths` did for one death: the person's new version and what it closed."""

    person_id: int
    version: int
    closed_residences: list[int]
    ended_memberships: list[int]


def register_death(session: Session, ctx: Context, person_id: int, data: DeathIn) -> dict[str, Any]:
    """A death: retire the person at the death date (reason died), close every open residence there (reason
    died, deregistered today) and end every open household membership; all in one transaction
    (`register_deaths` with one death)."""
    [done] = register_deaths(
        session,
        ctx,
        [Death(person_id, data.death_date, data.expected_version)],
        data.provenance.to_domain(ctx.actor.username),
        data.note or "died",
    )
    person = session.get(persons.PERSON.entity, person_id)
    pv = persons.PERSON.version
    row = session.execute(
        select(pv).where(
            pv.entity_id == person_id,
            pv.version == done.version,
            pv.change == "retire",
            pv.superseded_at.is_(None),
        )
    ).scalar_one()
    return {
        "person": Snapshot(persons.PERSON, person, row, True),
        "closed_residences": done.closed_residences,
        "ended_memberships": done.ended_memberships,
    }


def register_deaths(
    session: Session,
    ctx: Context,
    deaths: Sequence[Death],
    prov: Provenance,
    reason: str,
    *,
    refused: Callable[[int, LiangshiError], LiangshiError] | None = None,
) -> list[DeathDone]:
    """Deaths, each as `register_death` registers it, all in a few statements (one query or write per table
    and 5,000 persons) with the same rows, versions, provenance, audit entries and refusals as one death after
    the other:

    - the person is retired at the death date (a version valid from after it, a late record or a later change,
      closes at its own start: history cannot end a version before it begins; the death date itself is in the
      audit entry);
    - every open residence closes at the death date (reason died, deregistered today; kept at an earlier
      recorded departure), wherever it is, if its lifecycle allows a deregistration;
    - every open household membership ends there, and the household's version moves on (someone editing it
      must reload).

    The checks run death by death in the given order, before anything is written; the first refusal (the
    person not found in the caller's jurisdiction, the death in the future or before the birth, a stale
    `expected_version`, a retired person, a residence that cannot be deregistered then) refuses the whole call,
    raised as is or as `refused(index of the death, refusal)` says. A lock counter that moved between the read
    and the write (a concurrent writer) refuses the whole call too, after the writes: the caller rolls back, as
    for `history.change_many`. Each person at most once. ORM objects of the session are expired afterwards."""
    for permission in ("person.retire", "residence.write", "household.write"):
        ctx.actor.ensure(permission)
    if len({d.person_id for d in deaths}) != len(deaths):
        raise ValueError("register_deaths takes each person once")
    if not deaths:
        return []

    def refuse(index: int, exc: LiangshiError) -> LiangshiError:
        return refused(index, exc) if refused is not None else exc

    session.flush()
    person_ids = [d.person_id for d in deaths]
    visible: set[int] = set()
    for part in _parts(person_ids):
        stmt = registry.scoped(select(Person.id).where(Person.id.in_(part)), persons.PERSON, ctx.actor)
        visible.update(int(i) for i in session.execute(stmt).scalars())
    states = history.current_rows(session, persons.PERSON, person_ids)
    homes = history.open_rows_of(session, RESIDENCE, "person_id", person_ids)
    memberships = history.open_rows_of(
        session, persons.MEMBERSHIP, "person_id", person_ids, extra=("household_id",)
    )
    household_ids = sorted({m["household_id"] for rows in memberships.values() for m in rows})
    household_versions: dict[int, int] = {}
    for part in _parts(household_ids):
        household_versions.update(
            (int(i), int(n))
            for i, n in session.execute(select(Household.id, Household.version).where(Household.id.in_(part)))
        )

    # The checks, death by death in order (as one `register_death` after the other would refuse).
    plans: list[_DeathPlan] = []
    for index, death in enumerate(deaths):
        try:
            plans.append(_plan_death(ctx, death, death.person_id in visible, states, homes, memberships))
        except LiangshiError as exc:
            raise refuse(index, exc) from None

    # The writes: the lock counters (checked against what was read), the open rows closed, the new rows.
    bumped = {
        persons.PERSON: history.bump_versions(session, persons.PERSON, {p.death.person_id: 1 for p in plans}),
        RESIDENCE: history.bump_versions(
            session, RESIDENCE, {r["entity_id"]: 1 for p in plans for r, _, _ in p.residences}
        ),
        persons.MEMBERSHIP: history.bump_versions(
            session, persons.MEMBERSHIP, {m["entity_id"]: 1 for p in plans for m, _ in p.memberships}
        ),
    }
    ends = Counter(m["household_id"] for p in plans for m, _ in p.memberships)
    households = history.bump_versions(session, persons.HOUSEHOLD, dict(ends))
    superseded: dict[Kind, list[int]] = {persons.PERSON: [], RESIDENCE: [], persons.MEMBERSHIP: []}
    for index, plan in enumerate(plans):
        try:
            pid = plan.death.person_id
            history.check_bumped(
                persons.PERSON, pid, plan.death.expected_version, bumped[persons.PERSON].get(pid)
            )
            superseded[persons.PERSON].append(plan.person["row_id"])
            for row, _, _ in plan.residences:
                history.check_bumped(
                    RESIDENCE,
                    row["entity_id"],
                    row["entity_version"],
                    bumped[RESIDENCE].get(row["entity_id"]),
                )
                superseded[RESIDENCE].append(row["row_id"])
            for row, _ in plan.memberships:
                hid = row["household_id"]
                history.check_bumped(
                    persons.HOUSEHOLD, hid, household_versions.get(hid, 0), households.get(hid), ends[hid]
                )
                history.check_bumped(
                    persons.MEMBERSHIP,
                    row["entity_id"],
                    row["entity_version"],
                    bumped[persons.MEMBERSHIP].get(row["entity_id"]),
                )
                superseded[persons.MEMBERSHIP].append(row["row_id"])
        except LiangshiError as exc:
            raise refuse(index, exc) from None
    for kind, row_ids in superseded.items():
        missing = set(row_ids) - history.supersede(session, kind, row_ids, ctx.now)
        for index, plan in enumerate(plans if missing else []):
            mine = plan.row_ids & missing
            if mine:
                raise refuse(index, _stale(kind, plan, min(mine)))

    actor_id, now = ctx.actor.user_id, ctx.now

    def retired(
        kind: Kind, row: dict[str, Any], effective: dt.date, changes: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return history.retire_row(
            kind,
            row["entity_id"],
            row["entity_county_code"],
            row,
            version=bumped[kind][row["entity_id"]],
            effective=effective,
            prov=prov,
            actor_id=actor_id,
            now=now,
            reason=reason,
            changes=changes,
        )

    history.insert_rows(
        session, persons.PERSON, [retired(persons.PERSON, p.person, p.effective) for p in plans]
    )
    history.insert_rows(
        session,
        RESIDENCE,
        [
            retired(
                RESIDENCE,
                row,
                effective,
                {
                    "departure_date": departure,
                    "deregistration_date": ctx.today,
                    "deregistration_reason": "died",
                    "destination": None,
                },
            )
            for p in plans
            for row, departure, effective in p.residences
        ],
    )
    history.insert_rows(
        session,
        persons.MEMBERSHIP,
        [retired(persons.MEMBERSHIP, row, effective) for p in plans for row, effective in p.memberships],
    )
    events: list[audit.Event] = []
    done: list[DeathDone] = []
    for plan in plans:
        pid, day = plan.death.person_id, plan.death.death_date.isoformat()
        closed_ids = [int(row["entity_id"]) for row, _, _ in plan.residences]
        ended_ids = [int(row["entity_id"]) for row, _ in plan.memberships]
        events += [
            audit.Event(
                "person.retire",
                "person",
                pid,
                pid,
                {"effective": plan.effective.isoformat(), "reason": reason},
            ),
            audit.Event(
                "person.death",
                "person",
                pid,
                pid,
                {"death_date": day, "residences": closed_ids, "memberships": ended_ids},
            ),
            *[
                audit.Event("residence.retire", "residence", rid, pid, {"effective": day, "reason": "died"})
                for rid in closed_ids
            ],
            *[
                audit.Event("membership.retire", "membership", mid, pid, {"effective": day, "reason": "died"})
                for mid in ended_ids
            ],
        ]
        done.append(DeathDone(pid, bumped[persons.PERSON][pid], closed_ids, ended_ids))
    registry.log(ctx, session, events)
    session.expire_all()
    return done


@dataclass(frozen=True)
class _DeathPlan:
    """A death checked and ready to write: the rows it closes and where."""

    death: Death
    person: dict[str, Any]  # the open person row as read
    effective: dt.date  # where the person's open row closes
    residences: list[tuple[dict[str, Any], dt.date, dt.date]]  # open row, departure, where it closes
    memberships: list[tuple[dict[str, Any], dt.date]]  # open row, where it closes

    @property
    def row_ids(self) -> set[int]:
        return {
            self.person["row_id"],
            *(r["row_id"] for r, _, _ in self.residences),
            *(m["row_id"] for m, _ in self.memberships),
        }


def _plan_death(
    ctx: Context,
    death: Death,
    visible: bool,
    states: dict[int, list[dict[str, Any]]],
    homes: dict[int, list[dict[str, Any]]],
    memberships: dict[int, list[dict[str, Any]]],
) -> _DeathPlan:
    """The checks of one death in `register_death`'s order, on the state read for all of them."""
    pid = death.person_id
    rows = states.get(pid)
    if not visible or not rows:
        raise history.not_found(persons.PERSON, pid)
    if death.death_date > ctx.today:
        raise ValidationFailed(
            "person.death_in_future",
            "死亡日期不能晚于今天",
            "The death date cannot be in the future",
            {"field": "death_date"},
        )
    latest = history.latest_of(rows)
    if latest["birth_date"] is not None and death.death_date < latest["birth_date"]:
        raise ValidationFailed(
            "person.death_before_birth",
            "死亡日期不能早于出生日期",
            "The death date cannot be before the birth date",
            {"field": "death_date"},
        )
    current = rows[0]["entity_version"]
    if current != death.expected_version:
        raise Conflict(
            "version.stale",
            "记录已被他人修改，请刷新后重试",
            "The record was changed by someone else; reload and try again",
            {"id": pid, "expected_version": death.expected_version, "current_version": current},
        )
    open_rows = [r for r in rows if r["valid_to"] is None]
    if not open_rows:
        raise history.retired(persons.PERSON, pid)
    person = open_rows[0]
    residences = []
    for row in homes.get(pid, []):
        status = status_of(
            valid_to=row["valid_to"],
            departure_date=row["departure_date"],
            deregistration_date=row["deregistration_date"],
        )
        LIFECYCLE.ensure(status, "deregister", id=row["entity_id"])
        departure = death.death_date
        if row["departure_date"] is not None and row["departure_date"] <= death.death_date:
            departure = row["departure_date"]  # recorded as departed earlier (an import): keep that date
        check_departure(
            arrival=row["arrival_date"], departure=departure, deregistration=ctx.today, today=ctx.today
        )
        residences.append((row, departure, max(departure, row["valid_from"])))
    return _DeathPlan(
        death,
        person,
        max(death.death_date, person["valid_from"]),
        residences,
        [(row, max(death.death_date, row["valid_from"])) for row in memberships.get(pid, [])],
    )


def _stale(kind: Kind, plan: _DeathPlan, row_id: int) -> Conflict:
    """A row the death was to close that someone else closed since it was read."""
    rows = [plan.person, *(r for r, _, _ in plan.residences), *(m for m, _ in plan.memberships)]
    entity_id = next(r["entity_id"] for r in rows if r["row_id"] == row_id)
    return Conflict(
        "version.stale",
        "记录已被他人修改，请刷新后重试",
        "The record was changed by someone else; reload and try again",
        {"id": entity_id, "kind": kind.name},
    )


def _parts(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + history.BULK_CHUNK] for i in range(0, len(ids), history.BULK_CHUNK)]


def _residence_view(
    session: Session, res: Residence, row: ResidenceVersion, today: dt.date
) -> dict[str, Any]:
    return {
        "residence_id": res.id,
        "version": res.version,
        "person_id": res.person_id,
        "dwelling_id": res.dwelling_id,
        "address": buildings.describe_dwelling(session, res.dwelling_id, today),
        **{name: getattr(row, name) for name in RESIDENCE.attributes},
        "registration_lateness_working_days": registration_lateness(row),
        "current": row.valid_to is None,
    }


def registration_lateness(row: ResidenceVersion) -> int | None:
    """Working days from the arrival to its registration (None when the registration date is unknown)."""
    if row.registration_date is None:
        return None
    return calendar.lateness(row.arrival_date, row.registration_date, calendar.default_calendar())


def where_lives(
    session: Session, ctx: Context, person_id: int, *, detail: dict[str, Any] | None = None
) -> dict[str, Any]:
    """查人知住: a person's current residences and their full residence history (audited)."""
    ctx.actor.ensure("residence.read")
    person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor)
    views = _residence_views(session, person.id, ctx.today)
    registry.log(
        ctx, session, [audit.Event("person.where_lives", "person", person.id, person.id, detail or {})]
    )
    return {
        "person_id": person.id,
        "current": [x for x in views if x["current"]],
        "history": sorted(views, key=lambda x: x["arrival_date"], reverse=True),
    }


def _residence_views(session: Session, person_id: int, today: dt.date) -> list[dict[str, Any]]:
    """Every residence of a person in its latest known state (not audited: the callers log their own read)."""
    v = ResidenceVersion
    rows = session.execute(
        select(Residence, v)
        .join(v, v.entity_id == Residence.id)
        .where(Residence.person_id == person_id, v.superseded_at.is_(None))
        .order_by(v.valid_from.desc(), v.row_id.desc())
    ).all()
    latest: dict[int, tuple[Residence, ResidenceVersion]] = {}
    for res, row in rows:
        latest.setdefault(res.id, (res, row))
    return [_residence_view(session, res, row, today) for res, row in latest.values()]


def where_lives_by_document(session: Session, ctx: Context, number: str) -> dict[str, Any]:
    """查人知住 by ID number: the person in the caller's jurisdiction holding it, and where they live."""
    person_id = persons.person_id_by_document(session, ctx, number)
    if person_id is None:
        raise NotFound("person.not_found", "未找到该人员", "Person not found", {"field": "id_number"})
    result = where_lives(session, ctx, person_id, detail={"by": "document"})
    result["name"] = persons.names_on(session, [person_id], ctx.today).get(person_id)
    result["documents"] = persons.documents_view(session, ctx, person_id, unmask_reason=None)
    return result


def occupants(session: Session, ctx: Context, dwelling_id: int, on: dt.date | None) -> dict[str, Any]:
    """查房知人: who lived in a dwelling on a date (default today), with masked documents (audited)."""
    ctx.actor.ensure("residence.read")
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor)
    day = on or ctx.today
    v = ResidenceVersion
    rows = session.execute(
        select(Residence, v)
        .join(v, v.entity_id == Residence.id)
        .where(Residence.dwelling_id == dwelling.id, v.superseded_at.is_(None), history.valid_on(v, day))
        .order_by(v.arrival_date, Residence.id)
    ).all()
    names = persons.names_on(session, [res.person_id for res, _ in rows], day)
    people: list[dict[str, Any]] = [
        {
            "residence_id": res.id,
            "person_id": res.person_id,
            "name": names.get(res.person_id),
            "category": row.category,
            "arrival_date": row.arrival_date,
            "registration_date": row.registration_date,
            "registration_lateness_working_days": registration_lateness(row),
            "departure_date": row.departure_date,
            "documents": persons.documents_view(session, ctx, res.person_id, unmask_reason=None),
        }
        for res, row in rows
    ]
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "dwelling.occupants", "dwelling", dwelling.id, p["person_id"], {"on": day.isoformat()}
            )
            for p in people
        ],
    )
    past = _past_occupants(session, dwelling.id, day)
    registry.log(
        ctx,
        session,
        [audit.Event("dwelling.past_occupants", "dwelling", dwelling.id, p["person_id"]) for p in past],
    )
    return {
        "dwelling_id": dwelling.id,
        "on": day,
        "address": buildings.describe_dwelling(session, dwelling.id, day),
        "occupants": people,
        "past_occupants": past,
        "rental": _rental_summary(session, ctx, dwelling.id, day),
    }


def current_person_ids(session: Session, dwelling_id: int, on: dt.date) -> set[int]:
    """Ids of the persons with a residence at the dwelling valid on the date (no audit: ids only)."""
    v = ResidenceVersion
    return {
        int(pid)
        for (pid,) in session.execute(
            select(Residence.person_id)
            .join(v, v.entity_id == Residence.id)
            .where(Residence.dwelling_id == dwelling_id, v.superseded_at.is_(None), history.valid_on(v, on))
        )
    }


def _past_occupants(session: Session, dwelling_id: int, day: dt.date) -> list[dict[str, Any]]:
    """Who lived in the dwelling before the date (residences that ended on or before it), newest first."""
    v = ResidenceVersion
    rows = session.execute(
        select(Residence, v)
        .join(v, v.entity_id == Residence.id)
        .where(
            Residence.dwelling_id == dwelling_id,
            v.superseded_at.is_(None),
            v.valid_to.is_not(None),
            v.valid_to <= day,
            v.change == "retire",
        )
        .order_by(v.valid_to.desc(), Residence.id)
        .limit(100)
    ).all()
    names = persons.names_on(session, [res.person_id for res, _ in rows], day)
    return [
        {
            "residence_id": res.id,
            "person_id": res.person_id,
            "name": names.get(res.person_id),
            "category": row.category,
            "arrival_date": row.arrival_date,
            "departure_date": row.departure_date,
            "deregistration_reason": row.deregistration_reason,
        }
        for res, row in rows
    ]


def _rental_summary(session: Session, ctx: Context, dwelling_id: int, day: dt.date) -> dict[str, Any] | None:
    """The dwelling's rental valid on the date: landlord, lease, agreement."""
    from liangshi.rentals.models import Rental, RentalVersion

    if not ctx.actor.may("rental.read"):
        return None
    rv = RentalVersion
    found = session.execute(
        select(Rental.id, rv)
        .join(rv, rv.entity_id == Rental.id)
        .where(Rental.dwelling_id == dwelling_id, rv.superseded_at.is_(None), history.valid_on(rv, day))
    ).first()
    if found is None:
        return None
    rental_id, row = found
    landlord = persons.names_on(session, [row.landlord_person_id], day).get(row.landlord_person_id)
    return {
        "rental_id": rental_id,
        "landlord_person_id": row.landlord_person_id,
        "landlord_name": landlord,
        "lease_start": row.lease_start,
        "lease_end": row.lease_end,
        "filing_number": row.filing_number,
        "agreement_signed_on": row.agreement_signed_on,
        "status": row.status,
    }


def timeline(session: Session, ctx: Context, person_id: int) -> dict[str, Any]:
    """查人知住 in full: a person's residences, rentals (as landlord or tenant), permits and venue stays, by date."""
    from liangshi.permits.models import Permit, PermitVersion
    from liangshi.rentals.models import Rental, RentalTenant, RentalTenantVersion, RentalVersion

    ctx.actor.ensure("residence.read")
    person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor)
    events: list[dict[str, Any]] = []
    # The residences are part of this one read: its own audit entry below covers them (no second where_lives).
    for view in _residence_views(session, person.id, ctx.today):
        events.append(
            {
                "kind": "residence",
                "id": view["residence_id"],
                "from": view["arrival_date"],
                "to": view["departure_date"],
                "what": view["category"],
                "where": view["address"].get("text"),
            }
        )
    rv = RentalVersion
    for rental_id, dwelling_id, row in session.execute(
        select(Rental.id, Rental.dwelling_id, rv)
        .join(rv, and_(rv.entity_id == Rental.id, rv.superseded_at.is_(None)))
        .where(rv.landlord_person_id == person.id)
        .order_by(rv.valid_from)
    ).all():
        events.append(
            {
                "kind": "rental_landlord",
                "id": rental_id,
                "from": row.valid_from,
                "to": row.valid_to,
                "what": row.status,
                "where": buildings.describe_dwelling(session, dwelling_id, ctx.today).get("text"),
            }
        )
    tv = RentalTenantVersion
    for link_id, rental_id, link in session.execute(
        select(RentalTenant.id, RentalTenant.rental_id, tv)
        .join(tv, and_(tv.entity_id == RentalTenant.id, tv.superseded_at.is_(None)))
        .where(RentalTenant.person_id == person.id)
        .order_by(tv.valid_from)
    ).all():
        events.append(
            {
                "kind": "rental_tenant",
                "id": link_id,
                "rental_id": rental_id,
                "from": link.valid_from,
                "to": link.valid_to,
                "what": "tenant",
                "where": None,
            }
        )
    pv = PermitVersion
    for permit_id, permit in session.execute(
        select(Permit.id, pv)
        .join(pv, and_(pv.entity_id == Permit.id, pv.superseded_at.is_(None), pv.valid_to.is_(None)))
        .where(Permit.person_id == person.id)
    ).all():
        events.append(
            {
                "kind": "permit",
                "id": permit_id,
                "from": permit.issued_on,
                "to": permit.valid_until,
                "what": permit.status,
                "where": permit.permit_number,
            }
        )
    events.extend(_stays_of(session, person.id))
    events.sort(key=lambda e: e["from"] or dt.date.min, reverse=True)
    registry.log(ctx, session, [audit.Event("person.timeline", "person", person.id, person.id)])
    return {"person_id": person.id, "events": events}


def _stays_of(session: Session, person_id: int) -> list[dict[str, Any]]:
    """Venue stays, when the venues module is there (hotel and internet-café registrations)."""
    import importlib

    try:
        venues = importlib.import_module("liangshi.venues.service")
    except ImportError:
        return []
    finder = getattr(venues, "stays_for_timeline", None)
    return list(finder(session, person_id)) if finder is not None else []


# ---- lists users live in: floating arrivals of a month, due to leave, overdue --------------------------------

MAX_LIST = 500


def _parse_month(month: str) -> tuple[dt.date, dt.date]:
    try:
        first = dt.date.fromisoformat(f"{month.strip()}-01")
    except ValueError:
        raise ValidationFailed(
            "residence.month_invalid", "月份格式须为 YYYY-MM", "The month must be YYYY-MM", {"field": "month"}
        ) from None
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following


def _floating_list(
    session: Session,
    ctx: Context,
    area_id: int,
    *,
    list_name: str,
    conditions: list[Any],
    order_by: Any,
    offset: int,
    limit: int,
    detail: dict[str, Any],
) -> dict[str, Any]:
    """Floating residences (latest current version) under an area of the caller's jurisdiction; audited."""
    ctx.actor.ensure("residence.read")
    area = registry.ensure_area_in_scope(session, ctx, area_id)
    v = ResidenceVersion
    later = aliased(ResidenceVersion)
    base = (
        select(Residence, v)
        .join(v, and_(v.entity_id == Residence.id, v.superseded_at.is_(None)))
        .where(
            ~exists().where(
                later.entity_id == v.entity_id, later.superseded_at.is_(None), later.valid_from > v.valid_from
            ),
            Residence.area_id.in_(select(Area.id).where(Area.path.startswith(area.path))),
            v.category == "floating",
            *conditions,
        )
    )
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    limit = max(1, min(limit, MAX_LIST))
    rows = session.execute(base.order_by(order_by, Residence.id).offset(offset).limit(limit)).all()
    person_ids = [res.person_id for res, _ in rows]
    names = persons.names_on(session, person_ids, ctx.today)
    documents = _first_documents(session, person_ids)
    items: list[dict[str, Any]] = []
    for res, row in rows:
        until = row.intended_stay_until
        items.append(
            {
                "residence_id": res.id,
                "version": res.version,
                "person_id": res.person_id,
                "name": names.get(res.person_id),
                "document": documents.get(res.person_id),
                "dwelling_id": res.dwelling_id,
                "address": buildings.describe_dwelling(session, res.dwelling_id, ctx.today).get("text"),
                "arrival_date": row.arrival_date,
                "registration_date": row.registration_date,
                "registration_lateness_working_days": registration_lateness(row),
                "intended_stay_until": until,
                "departure_date": row.departure_date,
                "deregistration_date": row.deregistration_date,
                "days_to_leave": (until - ctx.today).days if until is not None else None,
            }
        )
    registry.log(
        ctx,
        session,
        [audit.Event(f"residence.{list_name}", "area", area.id, item["person_id"], detail) for item in items],
    )
    return {
        "area_id": area.id,
        "on": ctx.today,
        **detail,
        "items": items,
        "total": total,
        "offset": offset,
        "limit": limit,
    }


def _first_documents(session: Session, person_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each person's first current document, masked."""
    if not person_ids:
        return {}
    dv = DocumentVersion
    rows = session.execute(
        select(Document.person_id, dv.doc_type, dv.number)
        .join(dv, dv.entity_id == Document.id)
        .where(Document.person_id.in_(set(person_ids)), dv.superseded_at.is_(None), dv.valid_to.is_(None))
        .order_by(Document.id)
    ).all()
    result: dict[int, dict[str, Any]] = {}
    for pid, doc_type, number in rows:
        result.setdefault(int(pid), {"doc_type": doc_type, "number": mask_id_number(number), "masked": True})
    return result


def floating_arrivals(
    session: Session, ctx: Context, area_id: int, month: str, *, offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Floating persons who arrived in a month (YYYY-MM) under an area, whatever happened since."""
    first, following = _parse_month(month)
    v = ResidenceVersion
    return _floating_list(
        session,
        ctx,
        area_id,
        list_name="floating_arrivals",
        conditions=[v.arrival_date >= first, v.arrival_date < following],
        order_by=v.arrival_date,
        offset=offset,
        limit=limit,
        detail={"month": f"{first:%Y-%m}"},
    )


def due_to_leave(
    session: Session, ctx: Context, area_id: int, within_days: int, *, offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Floating persons still registered whose intended stay ends within the next `within_days` days."""
    if not 0 <= within_days <= 366:
        raise ValidationFailed(
            "residence.within_days_invalid",
            "天数须在0到366之间",
            "within_days must lie between 0 and 366",
            {"field": "within_days"},
        )
    v = ResidenceVersion
    return _floating_list(
        session,
        ctx,
        area_id,
        list_name="due_to_leave",
        conditions=[
            v.valid_to.is_(None),
            v.deregistration_date.is_(None),
            v.intended_stay_until >= ctx.today,
            v.intended_stay_until <= ctx.today + dt.timedelta(days=within_days),
        ],
        order_by=v.intended_stay_until,
        offset=offset,
        limit=limit,
        detail={"within_days": within_days},
    )


def overdue(
    session: Session, ctx: Context, area_id: int, *, offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Floating persons whose intended stay has ended without an extension or a deregistration."""
    v = ResidenceVersion
    return _floating_list(
        session,
        ctx,
        area_id,
        list_name="overdue",
        conditions=[
            v.valid_to.is_(None),
            v.deregistration_date.is_(None),
            v.intended_stay_until < ctx.today,
        ],
        order_by=v.intended_stay_until,
        offset=offset,
        limit=limit,
        detail={},
    )


# ---- counts per area for the KPIs (set-based: one GROUP BY, no per-person work) ------------------------------

RESIDENCE_COUNTS = ("valid", "arrived", "registered", "timely", "departed", "deregistered")


def residence_counts(
    session: Session,
    area_ids: Any,
    date_from: dt.date,
    date_to: dt.date,
    deadlines: dict[dt.date, dt.date],
) -> dict[int, dict[str, dict[str, int]]]:
    """Per area and category, in one pass over the residences (their state as of the end of the period):

    - **valid**: residences valid on `date_to` (persons living there);
    - **arrived**: arrival date in the period; **registered**: of those, with a registration date;
      **timely**: registered on or before `deadlines[arrival date]` (the rule's last day, given as data);
    - **departed**: departure date in the period; **deregistered**: of those, deregistered.

    A residence's state as of `date_to` is its current version valid on that date, or, if it ended on or before
    it, its closing version with the departure (a version closed by a later change is not counted: its successor is).
    Floating arrivals are grouped by arrival date and days to registration, so the deadline is checked once per
    group, not per person.
    """
    v = ResidenceVersion
    valid = and_(v.valid_from <= date_to, or_(v.valid_to.is_(None), v.valid_to > date_to))
    arrived = and_(v.arrival_date >= date_from, v.arrival_date <= date_to)
    departed = and_(v.departure_date >= date_from, v.departure_date <= date_to)
    floating_arrival = and_(arrived, v.category == "floating")
    if session.get_bind().dialect.name == "sqlite":
        days: Any = cast(func.julianday(v.registration_date) - func.julianday(v.arrival_date), Integer)
    else:
        days = v.registration_date - v.arrival_date
    # Registered more than a month late is late whatever the calendar: one bucket for all of them.
    late_cap = 32
    arrival_key = case((floating_arrival, v.arrival_date), else_=None)
    days_key = case(
        (
            and_(floating_arrival, v.registration_date.is_not(None)),
            case((days > late_cap, late_cap), else_=days),
        ),
        else_=None,
    )

    def count(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = session.execute(
        select(
            Residence.area_id,
            v.category,
            arrival_key,
            days_key,
            count(valid),
            count(arrived),
            count(and_(arrived, v.registration_date.is_not(None))),
            count(departed),
            count(and_(departed, v.deregistration_date.is_not(None))),
        )
        .join(
            v,
            and_(
                v.entity_id == Residence.id,
                v.superseded_at.is_(None),
                v.valid_from <= date_to,
                or_(v.valid_to.is_(None), v.valid_to > date_to, v.departure_date.is_not(None)),
            ),
        )
        .where(Residence.area_id.in_(area_ids))
        .group_by(Residence.area_id, v.category, arrival_key, days_key)
    ).all()
    out: dict[int, dict[str, dict[str, int]]] = {}
    for area_id, category, arrival, lateness, *counts in rows:
        slot = out.setdefault(int(area_id), {}).setdefault(str(category), dict.fromkeys(RESIDENCE_COUNTS, 0))
        for name, n in zip(
            ("valid", "arrived", "registered", "departed", "deregistered"), counts, strict=True
        ):
            slot[name] += int(n)
        registered_by = (
            None if arrival is None or lateness is None else arrival + dt.timedelta(days=int(lateness))
        )
        if registered_by is not None and registered_by <= deadlines[arrival]:
            slot["timely"] += int(counts[1])
    return out
