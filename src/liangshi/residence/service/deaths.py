"""Deaths: retire the person, close the residences, end the memberships (`register_deaths`, set-based)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.errors import Conflict, LiangshiError, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Household, Person
from liangshi.registry import Context, Provenance, Snapshot, history
from liangshi.residence.models import RESIDENCE
from liangshi.residence.rules import (
    LIFECYCLE,
    check_departure,
    status_of,
)
from liangshi.residence.schemas import DeathIn


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


# What a death needs of the actor: the person retired, the residences deregistered, the memberships ended.
DEATH_PERMISSIONS = ("person.retire", "residence.write", "household.write")


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
    for permission in DEATH_PERMISSIONS:
        ctx.actor.ensure(permission)
    if len({d.person_id for d in deaths}) != len(deaths):
        raise ValueError("register_deaths takes each person once")
    if not deaths:
        return []

    def refuse(index: int, exc: LiangshiError) -> LiangshiError:
        return refused(index, exc) if refused is not None else exc

    session.flush()
    state = _DeathState.read(session, ctx, [d.person_id for d in deaths])

    # The checks, death by death in order (as one `register_death` after the other would refuse).
    plans: list[_DeathPlan] = []
    for index, death in enumerate(deaths):
        try:
            plans.append(
                _plan_death(
                    ctx,
                    death,
                    death.person_id in state.visible,
                    state.states,
                    state.homes,
                    state.memberships,
                )
            )
        except LiangshiError as exc:
            raise refuse(index, exc) from None

    # The writes, through the registry: the lock counters (checked against what was read), the open rows
    # closed, the new rows, the audit entries of the deaths.
    versions = registry.retire_many(
        session,
        ctx,
        _retirements(ctx, plans, state.households),
        prov=prov,
        reason=reason,
        permissions=DEATH_PERMISSIONS,
        events=[event for plan in plans for event in _death_events(plan, reason)],
        refused=refuse,
    )
    return [
        DeathDone(
            plan.death.person_id,
            versions[persons.PERSON][plan.death.person_id],
            [int(row["entity_id"]) for row, _, _ in plan.residences],
            [int(row["entity_id"]) for row, _ in plan.memberships],
        )
        for plan in plans
    ]


def _retirements(
    ctx: Context, plans: list[_DeathPlan], household_versions: dict[int, int]
) -> list[registry.Retirement]:
    """What the deaths retire, death by death: the person, the residences (reason died, deregistered today),
    the memberships (moving their household's lock counter on); the latter two wherever they are."""
    items: list[registry.Retirement] = []
    for index, plan in enumerate(plans):
        items.append(
            registry.Retirement(
                persons.PERSON,
                plan.person,
                plan.effective,
                expected_version=plan.death.expected_version,
                group=index,
            )
        )
        items += [
            registry.Retirement(
                RESIDENCE,
                row,
                effective,
                {
                    "departure_date": departure,
                    "deregistration_date": ctx.today,
                    "deregistration_reason": "died",
                    "destination": None,
                },
                group=index,
                follows=True,
            )
            for row, departure, effective in plan.residences
        ]
        items += [
            registry.Retirement(
                persons.MEMBERSHIP,
                row,
                effective,
                parents=(
                    (
                        persons.HOUSEHOLD,
                        int(row["household_id"]),
                        household_versions.get(row["household_id"], 0),
                    ),
                ),
                group=index,
                follows=True,
            )
            for row, effective in plan.memberships
        ]
    return items


def _death_events(plan: _DeathPlan, reason: str) -> list[audit.Event]:
    """The audit entries of one death, as `register_death` wrote them one death after the other."""
    pid, day = plan.death.person_id, plan.death.death_date.isoformat()
    closed_ids = [int(row["entity_id"]) for row, _, _ in plan.residences]
    ended_ids = [int(row["entity_id"]) for row, _ in plan.memberships]
    return [
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


@dataclass(frozen=True)
class _DeathState:
    """What the deaths are checked against, read for all of them (one query per table and 5,000 persons)."""

    visible: set[int]  # the persons in the actor's jurisdiction
    states: dict[int, list[dict[str, Any]]]  # their current rows
    homes: dict[int, list[dict[str, Any]]]  # their open residences
    memberships: dict[int, list[dict[str, Any]]]  # their open memberships, with the household
    households: dict[int, int]  # the lock counter of those households

    @classmethod
    def read(cls, session: Session, ctx: Context, person_ids: list[int]) -> _DeathState:
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
                for i, n in session.execute(
                    select(Household.id, Household.version).where(Household.id.in_(part))
                )
            )
        return cls(visible, states, homes, memberships, household_versions)


@dataclass(frozen=True)
class _DeathPlan:
    """A death checked and ready to write: the rows it closes and where."""

    death: Death
    person: dict[str, Any]  # the open person row as read
    effective: dt.date  # where the person's open row closes
    residences: list[tuple[dict[str, Any], dt.date, dt.date]]  # open row, departure, where it closes
    memberships: list[tuple[dict[str, Any], dt.date]]  # open row, where it closes


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


def _parts(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + history.BULK_CHUNK] for i in range(0, len(ids), history.BULK_CHUNK)]
