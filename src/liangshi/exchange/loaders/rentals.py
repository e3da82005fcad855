"""The loader of rentals (the housing department's file) with their tenancies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import and_, select

from liangshi.common.idnumber import mask_id_number
from liangshi.exchange.loaders.job import Job, Outcome, each_row, write_new
from liangshi.exchange.loaders.resolver import (
    Rejected,
    parse_date,
    parse_float,
    parse_int,
)
from liangshi.exchange.rows import AreaRef, Row
from liangshi.persons.rules import ID_KINDS
from liangshi.persons.service import document_query
from liangshi.registry import NewItem
from liangshi.rentals.models import RENTAL, TENANT, Rental, RentalVersion
from liangshi.rentals.rules import check_agreement, check_lease, parse_signed
from liangshi.rentals.schemas import RentalCreate
from liangshi.residence.models import Residence, ResidenceVersion


def _split_ids(value: str | None, today: dt.date) -> list[str]:
    text = (value or "").replace("；", ";").replace(",", ";").replace("，", ";")
    return [document_query(part, today) for part in text.split(";") if part.strip()]


class Lived(NamedTuple):
    """A person's residence at a dwelling: its id, since when, and until when (None: open)."""

    residence_id: int
    since: dt.date
    until: dt.date | None


def _residences(job: Job, person_ids: set[int]) -> dict[tuple[int, int], Lived]:
    """(person, dwelling) -> the persons' residence there: the open one, else the one that ended last."""
    rv = ResidenceVersion
    spans: dict[int, tuple[int, int, dt.date, dt.date | None]] = {}
    for rid, pid, did, start, end in job.session.execute(
        select(Residence.id, Residence.person_id, Residence.dwelling_id, rv.valid_from, rv.valid_to)
        .join(rv, and_(rv.entity_id == Residence.id, rv.superseded_at.is_(None)))
        .where(Residence.person_id.in_(person_ids))
    ):
        # A residence's current versions cover its valid time: it runs from the first to the last (open if one is).
        seen = spans.get(int(rid))
        if seen is None:
            spans[int(rid)] = (int(pid), int(did), start, end)
        else:
            until = None if seen[3] is None or end is None else max(seen[3], end)
            spans[int(rid)] = (seen[0], seen[1], min(seen[2], start), until)
    found: dict[tuple[int, int], Lived] = {}
    for rid, (pid, did, start, end) in sorted(spans.items()):
        best = found.get((pid, did))
        if best is None or (best.until is not None and (end is None or end > best.until)):
            found[(pid, did)] = Lived(rid, start, end)
    return found


def _rentals_at(job: Job, rows: Sequence[tuple[int, Row]]) -> tuple[set[tuple[int, dt.date]], set[int]]:
    """The rentals known at the dwellings the chunk names: (dwelling, lease start) and the dwellings rented now."""
    dwelling_ids: set[int] = set()
    for _, row in rows:
        try:
            dwelling_ids.add(job.resolver.dwelling(row)[1])
        except Rejected:
            continue
    v = RentalVersion
    known: set[tuple[int, dt.date]] = set()
    open_rentals: set[int] = set()
    for did, start, valid_to in job.session.execute(
        select(Rental.dwelling_id, v.lease_start, v.valid_to)
        .join(v, and_(v.entity_id == Rental.id, v.superseded_at.is_(None)))
        .where(Rental.dwelling_id.in_(dwelling_ids))
    ):
        known.add((int(did), start))
        if valid_to is None:
            open_rentals.add(int(did))
    return known, open_rentals


def _taken_filings(job: Job, rows: Sequence[tuple[int, Row]]) -> set[str]:
    """The filing numbers the chunk names that current rentals already carry."""
    v = RentalVersion
    filings = {row["filing_number"] for _, row in rows if row.get("filing_number")}
    return {
        str(n)
        for (n,) in job.session.execute(
            select(v.filing_number).where(
                v.filing_number.in_(filings), v.superseded_at.is_(None), v.valid_to.is_(None)
            )
        )
    }


def load_rentals(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Rentals (the housing department's file): a dwelling + lease start is one rental; tenants lived there.

    Every tenant listed must have a residence at the rented dwelling during the lease: the open one is linked, else
    the one that ended last, if it ended on or after the lease start — the file's rental is kept as the department
    holds it, its departed tenant still attached (what `rental.departed_tenant` finds). A tenant without such a
    residence refuses the row, naming the tenant. `agreement_signed` yes without a date records the lease start.
    """
    outcome = Outcome()
    keys: list[tuple[str, str]] = []
    for _, row in rows:
        for number in [row.get("landlord_id_number"), *_split_ids(row.get("tenant_id_numbers"), job.today)]:
            if number:
                keys.extend((kind, document_query(number, job.today)) for kind in ID_KINDS)
    found_holders = job.resolver.persons_by_document(keys)

    def holder_of(number: str) -> tuple[int, str] | None:
        value = document_query(number, job.today)
        return next((found_holders[(k, value)] for k in ID_KINDS if (k, value) in found_holders), None)

    tenant_ids = {pid for pid, _ in found_holders.values()}
    residences = _residences(job, tenant_ids)
    known, open_rentals = _rentals_at(job, rows)
    taken = _taken_filings(job, rows)
    new: list[tuple[AreaRef, int, dict[str, Any], list[tuple[int, int, dt.date]]]] = []

    def handle(line: int, row: Row) -> bool:
        number = row.get("landlord_id_number")
        landlord = holder_of(number or "")
        if landlord is None:
            raise Rejected(
                "landlord_id_number",
                "rental.landlord_not_found",
                "未找到持该证件的出租人",
                "No person holds the landlord's document",
            )
        area, dwelling_id, status = job.resolver.dwelling(row)
        start = parse_date(row.get("lease_start"), "lease_start")
        data = RentalCreate.model_validate(
            {
                "dwelling_id": dwelling_id,
                "landlord_person_id": max(landlord[0], 1),
                "use": row.get("use") or "residential",
                "rooms": parse_int(row.get("rooms"), "rooms"),
                "monthly_rent": parse_float(row.get("monthly_rent"), "monthly_rent"),
                "lease_start": start,
                "lease_end": parse_date(row.get("lease_end"), "lease_end"),
                "filing_number": row.get("filing_number"),
                "agreement_signed_on": parse_date(row.get("agreement_signed_on"), "agreement_signed_on"),
                "agreement_signer": row.get("agreement_signer"),
            }
        )
        if (dwelling_id, data.lease_start) in known:
            return True
        if status == "demolished":
            raise Rejected(
                "room",
                "rental.dwelling_unavailable",
                "该房屋已拆除，不能登记出租",
                "The dwelling is demolished",
            )
        if dwelling_id in open_rentals:
            raise Rejected(
                "room",
                "rental.dwelling_already_rented",
                "该房屋已有在租的出租登记",
                "The dwelling already has an open rental",
            )
        check_lease(lease_start=data.lease_start, lease_end=data.lease_end, today=job.today)
        signed_on = data.agreement_signed_on
        if signed_on is None and parse_signed(row.get("agreement_signed")):
            signed_on = data.lease_start
        signer = data.agreement_signer or (landlord[1] if signed_on is not None else None)
        check_agreement(signed_on=signed_on, signer=signer, today=job.today)
        if data.filing_number and data.filing_number in taken:
            raise Rejected(
                "filing_number",
                "rental.filing_number_taken",
                "该备案号已被另一出租房屋使用",
                "The filing number belongs to another current rental",
            )
        tenants: list[tuple[int, int, dt.date]] = []
        for tenant in _split_ids(row.get("tenant_id_numbers"), job.today):
            holder = holder_of(tenant)
            found = residences.get((holder[0], dwelling_id)) if holder else None
            if (
                found is None
                or holder is None
                or (found.until is not None and found.until < data.lease_start)
            ):
                raise Rejected(
                    "tenant_id_numbers",
                    "rental.tenant_not_resident",
                    f"承租人{mask_id_number(tenant)}在租赁期间没有在该房屋的居住登记",
                    f"Tenant {mask_id_number(tenant)} has no residence at the dwelling during the lease",
                )
            if all(t[0] != holder[0] for t in tenants):
                tenants.append((holder[0], found.residence_id, max(data.lease_start, found.since)))
        known.add((dwelling_id, data.lease_start))
        open_rentals.add(dwelling_id)
        if data.filing_number:
            taken.add(data.filing_number)
        attrs = {
            "landlord_person_id": landlord[0],
            "use": data.use,
            "rooms": data.rooms,
            "monthly_rent": data.monthly_rent,
            "lease_start": data.lease_start,
            "lease_end": data.lease_end,
            "filing_number": data.filing_number,
            "agreement_signed_on": signed_on,
            "agreement_signer": signer,
            "status": "open",
        }
        new.append((area, dwelling_id, attrs, tenants))
        return False

    each_row(rows, outcome, handle, "room")
    _write_rentals(job, new)
    return outcome


def _write_rentals(
    job: Job, new: list[tuple[AreaRef, int, dict[str, Any], list[tuple[int, int, dt.date]]]]
) -> None:
    """The chunk's new rentals and their tenancies (each tenant from the later of the lease start and the residence)."""
    ids = write_new(
        job,
        RENTAL,
        [NewItem(area.id, attrs, {"dwelling_id": did}, attrs["lease_start"]) for area, did, attrs, _ in new],
    )
    write_new(
        job,
        TENANT,
        [
            NewItem(
                area.id,
                {"is_primary": i == 0},
                {"rental_id": rental_id, "person_id": pid, "residence_id": rid},
                since,
                subject=pid,
            )
            for rental_id, (area, _, _, tenants) in zip(ids, new, strict=True)
            for i, (pid, rid, since) in enumerate(tenants)
        ],
        permission="rental.write",  # a tenancy is part of its rental (there is no rental_tenant permission)
    )
