"""The loader of residences: a person in a dwelling from the arrival date (closed at the departure date if given)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select

from liangshi.exchange.loaders.job import Job, Outcome, each_row, write_new
from liangshi.exchange.loaders.resolver import (
    Rejected,
    doc_key,
    document_holders,
    holder_id,
    parse_date,
)
from liangshi.exchange.rows import AreaRef, Row
from liangshi.registry import NewItem
from liangshi.residence.models import RESIDENCE, Residence, ResidenceVersion
from liangshi.residence.rules import check_dates, check_departure
from liangshi.residence.schemas import ArrivalIn


def _residences_of(job: Job, person_ids: list[int]) -> tuple[set[tuple[int, int, dt.date]], set[int]]:
    """The persons' residences as (person, dwelling, arrival), and the persons with an open main residence."""
    v = ResidenceVersion
    existing: set[tuple[int, int, dt.date]] = set()
    open_main: set[int] = set()
    for pid, did, arrival, category, valid_to in job.session.execute(
        select(Residence.person_id, Residence.dwelling_id, v.arrival_date, v.category, v.valid_to)
        .join(v, and_(v.entity_id == Residence.id, v.superseded_at.is_(None)))
        .where(Residence.person_id.in_(person_ids))
    ):
        existing.add((pid, did, arrival))
        if valid_to is None and category != "lodging":
            open_main.add(pid)
    return existing, open_main


def load_residences(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Residences: a person in a dwelling from the arrival date (closed at the departure date if given)."""
    outcome = Outcome()
    holders = document_holders(job.resolver, rows, job.today)
    person_ids = [pid for pid, _ in holders.values()]
    existing, open_main = _residences_of(job, person_ids)
    new: list[tuple[AreaRef, int, int, dict[str, Any]]] = []

    def handle(line: int, row: Row) -> bool:
        person_id = holder_id(holders, doc_key(row, job.today))
        area, dwelling_id, status = job.resolver.dwelling(row)
        arrival = parse_date(row.get("arrival_date"), "arrival_date")
        data = ArrivalIn.model_validate(
            {
                "person_id": max(person_id, 1),
                "dwelling_id": dwelling_id,
                "category": row.get("category"),
                "arrival_date": arrival,
                "registration_date": parse_date(row.get("registration_date"), "registration_date"),
                "intended_stay_until": parse_date(row.get("intended_stay_until"), "intended_stay_until"),
                "stay_reason": row.get("stay_reason") or None,
            }
        )
        if (person_id, dwelling_id, data.arrival_date) in existing:
            return True
        check_dates(
            arrival=data.arrival_date,
            registration=data.registration_date,
            intended_until=data.intended_stay_until,
            today=job.today,
        )
        departure = parse_date(row.get("departure_date"), "departure_date")
        deregistration = parse_date(row.get("deregistration_date"), "deregistration_date")
        reason = row.get("deregistration_reason")
        if departure is not None:
            check_departure(
                arrival=data.arrival_date,
                departure=departure,
                deregistration=deregistration or departure,
                today=job.today,
            )
        elif status == "demolished":
            raise Rejected(
                "room",
                "residence.dwelling_unavailable",
                "该房屋已拆除，不能登记居住",
                "The dwelling is demolished",
            )
        if departure is None and data.category != "lodging":
            if person_id in open_main:
                raise Rejected(
                    "id_number",
                    "residence.already_open",
                    "该人员已有未注销的居住登记",
                    "The person already has an open residence",
                )
            open_main.add(person_id)
        if reason is not None and reason not in (
            "moved_within_city",
            "left_city",
            "returned_home",
            "went_abroad",
            "died",
            "other",
        ):
            raise Rejected(
                "deregistration_reason",
                "residence.reason_unknown",
                "注销原因无效",
                "Unknown deregistration reason",
            )
        existing.add((person_id, dwelling_id, data.arrival_date))
        new.append(
            (
                area,
                person_id,
                dwelling_id,
                {
                    "category": data.category,
                    "arrival_date": data.arrival_date,
                    "registration_date": data.registration_date,
                    "intended_stay_until": data.intended_stay_until,
                    "departure_date": departure,
                    "deregistration_date": deregistration,
                    "deregistration_reason": reason,
                    "destination": row.get("destination"),
                    "stay_reason": data.stay_reason,
                },
            )
        )
        return False

    each_row(rows, outcome, handle, "id_number")
    _write_residences(job, new)
    return outcome


def _write_residences(job: Job, new: list[tuple[AreaRef, int, int, dict[str, Any]]]) -> None:
    """The chunk's new residences, each valid from its arrival to its departure."""
    write_new(
        job,
        RESIDENCE,
        [
            NewItem(
                area.id,
                attrs,
                {"person_id": person_id, "dwelling_id": dwelling_id},
                attrs["arrival_date"],
                attrs["departure_date"],
                subject=person_id,
            )
            for area, person_id, dwelling_id, attrs in new
        ],
    )
