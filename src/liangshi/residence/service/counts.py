"""Counts per area for the KPIs (set-based: one GROUP BY, no per-person work)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, and_, case, cast, false, func, or_, select
from sqlalchemy.orm import Session

from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.rules import STATUS_RULES

RESIDENCE_COUNTS = ("valid", "arrived", "registered", "timely", "departed", "deregistered")


def status_expression(v: Any = ResidenceVersion) -> Any:
    """A residence version's status as SQL (`rules.STATUS_RULES`, the same as `rules.status_of`)."""
    return case(*((getattr(v, column).is_not(None), status) for column, status in STATUS_RULES), else_="open")


def state_join(v: Any, date_to: dt.date) -> Any:
    """The versions that give residences their state as of `date_to`: the current version valid on it, or the
    closing version with a departure if the residence ended on or before it (the KPI counts and lists share it)."""
    return and_(
        v.superseded_at.is_(None),
        v.valid_from <= date_to,
        or_(v.valid_to.is_(None), v.valid_to > date_to, v.departure_date.is_not(None)),
    )


def valid_on(v: Any, date_to: dt.date) -> Any:
    """A residence version valid on `date_to` (a person living there)."""
    return and_(v.valid_from <= date_to, or_(v.valid_to.is_(None), v.valid_to > date_to))


def arrived_in(v: Any, date_from: dt.date, date_to: dt.date) -> Any:
    """Arrival date in the period."""
    return and_(v.arrival_date >= date_from, v.arrival_date <= date_to)


def departed_in(v: Any, date_from: dt.date, date_to: dt.date) -> Any:
    """Departure date in the period."""
    return and_(v.departure_date >= date_from, v.departure_date <= date_to)


def deregistered(v: Any) -> Any:
    """The residence's status is deregistered (`rules.STATUS_RULES`)."""
    return status_expression(v) == "deregistered"


def registration_days(session: Session, v: Any) -> Any:
    """Days from arrival to registration as SQL (NULL when not registered)."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(v.registration_date) - func.julianday(v.arrival_date), Integer)
    return v.registration_date - v.arrival_date


def registered_in_time(session: Session, v: Any, deadlines: dict[dt.date, dt.date]) -> Any:
    """Registered on or before the deadline of its arrival date (`deadlines`, the rule's last day as data): the
    arrival dates grouped by the days they allow, so the condition has one term per distinct allowance."""
    by_allowance: dict[int, list[dt.date]] = {}
    for arrival, deadline in deadlines.items():
        by_allowance.setdefault((deadline - arrival).days, []).append(arrival)
    days = registration_days(session, v)
    terms = [and_(v.arrival_date.in_(dates), days <= k) for k, dates in sorted(by_allowance.items())]
    return and_(v.registration_date.is_not(None), or_(false(), *terms))


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
    valid = valid_on(v, date_to)
    arrived = arrived_in(v, date_from, date_to)
    departed = departed_in(v, date_from, date_to)
    floating_arrival = and_(arrived, v.category == "floating")
    days = registration_days(session, v)
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
            count(and_(departed, deregistered(v))),
        )
        .join(v, and_(v.entity_id == Residence.id, state_join(v, date_to)))
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
