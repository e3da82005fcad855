"""The loaders of people: persons with their identity documents, households with their memberships."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select

from liangshi.common.types import validation_context
from liangshi.exchange import formats, person_columns
from liangshi.exchange.loaders.job import Job, Outcome, each_row, write_new, write_new_fast
from liangshi.exchange.loaders.resolver import (
    Rejected,
    doc_key,
    document_holders,
    holder_id,
    parse_date,
)
from liangshi.exchange.rows import AreaRef, Chunk, Row
from liangshi.persons.models import (
    DOCUMENT,
    HOUSEHOLD,
    MEMBERSHIP,
    PERSON,
    Household,
    HouseholdVersion,
    Membership,
    MembershipVersion,
)
from liangshi.persons.rules import HEAD, birth_date_from_id, check_document_agrees, name_keys
from liangshi.persons.schemas import DocumentIn, MemberIn, PersonCreate
from liangshi.registry import FastCreate, NewItem

# A person's version columns as the loaders hand them over: the attributes in PERSON order, then the name's search
# keys (derived columns are the caller's in `create_many_fast`).
_PERSON_COLUMNS = (*PERSON.attributes, "name_pinyin", "name_initials")
_NAME_AT = PERSON.attributes.index("name")  # where the name sits in a person's attribute tuple


def load_persons(job: Job, rows: Chunk) -> Outcome:
    """Persons with their identity document; the document identifies them across imports.

    Rows are first validated a column at a time (person_columns: the same rules, applied in bulk); the rows that
    path does not accept outright go through the per-row validation below, which reports why. Then the chunk's
    persons, documents and their first versions are written with one bulk insert per table, and audited with one
    entry per table listing the ids.
    """
    outcome = Outcome()
    plain = person_columns.plain_persons(rows, area_of=job.resolver.area, today=job.today)
    keys = []
    for i, p in enumerate(plain):
        if p is not None:
            keys.append(("resident_id", p.number))
            continue
        try:
            keys.append(doc_key(rows[i][1], job.today))
        except Rejected:
            continue
    holders = job.resolver.persons_by_document(keys)
    # Per new person: area, attributes in PERSON order (as stored), (doc_type, number, country).
    new: list[tuple[AreaRef, tuple[Any, ...], tuple[str, str, str]]] = []

    def handle(line: int, row: Row) -> bool:
        doc_type, number = doc_key(row, job.today)
        area = job.resolver.area(row.get("community_code"))
        code = {
            k: formats.code_or_name(t, row[k] or "", k) if row.get(k) else None
            for k, t in (
                ("ethnicity", "ethnicity"),
                ("education", "education"),
                ("marital_status", "marital_status"),
            )
        }
        country = row.get("country")
        on_today = validation_context(job.today)
        doc = DocumentIn.model_validate(
            {"doc_type": doc_type, "number": number, "country": country}, context=on_today
        )
        data = PersonCreate.model_validate(
            {
                "area_id": area.id,
                "name": row.get("name") or "",
                "sex": formats.parse_sex(row.get("sex") or ""),
                "birth_date": parse_date(row.get("birth_date"), "birth_date"),
                **code,
                "nationality": country if country and doc_type == "passport" else "CHN",
                "hukou_region": row.get("hukou_region"),
                "hukou_address": row.get("hukou_address"),
                "occupation": row.get("occupation"),
                "workplace": row.get("workplace"),
                "phone": row.get("phone"),
            },
            context=on_today,
        )
        check_document_agrees(
            doc.doc_type, doc.number, birth_date=data.birth_date, sex=data.sex, today=job.today
        )
        holder = holders.get((doc.doc_type, doc.number))
        if holder is not None:
            if holder[1] != data.name:
                raise Rejected(
                    "id_number",
                    "person.document_taken",
                    "该证件号码已登记在另一人员名下",
                    "This document number is already registered to another person",
                )
            return True
        if data.birth_date is None:
            data.birth_date = birth_date_from_id(doc.doc_type, doc.number, job.today)
        holders[(doc.doc_type, doc.number)] = (-1, data.name)
        attrs = tuple(
            v.isoformat() if isinstance(v, dt.date) else v
            for v in (getattr(data, a) for a in PERSON.attributes)
        )
        country_code = doc.country or ("CHN" if doc.doc_type == "resident_id" else data.nationality)
        new.append((area, attrs, (doc.doc_type, doc.number, country_code)))
        return False

    for i, p in enumerate(plain):
        if p is not None:
            holder = holders.get(("resident_id", p.number))
            if holder is None:
                holders[("resident_id", p.number)] = (-1, p.attrs[0])
                new.append((p.area, p.attrs, ("resident_id", p.number, "CHN")))
                outcome.loaded += 1
                continue
            if holder[1] == p.attrs[0]:
                outcome.existing += 1
                continue
        each_row([rows[i]], outcome, handle, "id_number")  # refused here, or not in the plain shapes
    write_persons(job, new)
    return outcome


def write_persons(job: Job, new: list[tuple[AreaRef, tuple[Any, ...], tuple[str, str, str]]]) -> None:
    """Persons and their documents with their first versions through `registry.create_many_fast`: one bulk insert
    per table, one audit entry per table for the chunk. `new`: per person its area, attributes in PERSON order
    (storage form) and document (type, number, country)."""
    if not new:
        return
    area_ids = [area.id for area, _, _ in new]
    pids = write_new_fast(
        job,
        PERSON,
        FastCreate(
            area_ids,
            _PERSON_COLUMNS,
            [attrs + name_keys(attrs[_NAME_AT]) for _, attrs, _ in new],
            valid_from=job.today,
        ),
    )
    write_new_fast(
        job,
        DOCUMENT,
        FastCreate(
            area_ids,
            DOCUMENT.attributes,
            [document for _, _, document in new],
            identity_columns=("person_id",),
            identity_values=[(pid,) for pid in pids],
            valid_from=job.today,
        ),
    )


def load_households(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Households, one row per member: the household is created with its first member."""
    outcome = Outcome()
    holders = document_holders(job.resolver, rows, job.today)
    numbers = {row["household_number"] for _, row in rows if row.get("household_number")}
    hv = HouseholdVersion
    households: dict[str, tuple[int, str, int]] = {
        str(number): (hid, kind, area_id)
        for hid, kind, area_id, number in job.session.execute(
            select(Household.id, Household.household_kind, Household.area_id, hv.household_number)
            .join(hv, and_(hv.entity_id == Household.id, hv.superseded_at.is_(None), hv.valid_to.is_(None)))
            .where(hv.household_number.in_(numbers))
        )
    }
    person_ids = {pid for pid, _ in holders.values()}
    mv = MembershipVersion
    members: set[tuple[int, int]] = set()
    heads: set[int] = set()
    registered: set[int] = set()
    for hid, pid, relationship, kind in job.session.execute(
        select(Membership.household_id, Membership.person_id, mv.relationship, Household.household_kind)
        .join(mv, and_(mv.entity_id == Membership.id, mv.superseded_at.is_(None), mv.valid_to.is_(None)))
        .join(Household, Household.id == Membership.household_id)
        .where(
            (Membership.household_id.in_([h for h, _, _ in households.values()]))
            | (Membership.person_id.in_(person_ids))
        )
    ):
        members.add((hid, pid))
        if relationship == HEAD:
            heads.add(hid)
        if kind == "registered":
            registered.add(pid)
    new_households: list[tuple[str, AreaRef, str, int | None]] = []
    new_members: list[tuple[AreaRef, str, int, str]] = []
    pending: dict[str, int] = {}

    def handle(line: int, row: Row) -> bool:
        key = doc_key(row, job.today)
        number = row.get("household_number") or ""
        kind = row.get("household_kind") or "actual"
        if kind not in ("registered", "actual"):
            raise Rejected("household_kind", "household.kind_unknown", "户类型无效", "Unknown household kind")
        area = job.resolver.area(row.get("community_code"))
        person_id = holder_id(holders, key)
        relationship = MemberIn.model_validate(
            {
                "person_id": max(person_id, 1),
                "relationship": formats.code_or_name(
                    "relationship", row.get("relationship") or "", "relationship"
                ),
            }
        ).relationship
        known = households.get(number)
        hid = known[0] if known else pending.get(number)
        if hid is None:
            dwelling_id = job.resolver.dwelling(row)[1] if row.get("room") else None
            hid = -(len(pending) + 1)
            pending[number] = hid
            households[number] = (hid, kind, area.id)
            new_households.append((number, area, kind, dwelling_id))
        if (hid, person_id) in members:
            return True
        if relationship == HEAD and hid in heads:
            raise Rejected(
                "relationship", "household.head_exists", "本户已有户主", "The household already has a head"
            )
        hkind = households[number][1]
        if hkind == "registered" and person_id in registered:
            raise Rejected(
                "id_number",
                "household.registered_elsewhere",
                "该人员已在另一户籍户中",
                "The person already belongs to another registered household",
            )
        members.add((hid, person_id))
        if relationship == HEAD:
            heads.add(hid)
        if hkind == "registered":
            registered.add(person_id)
        new_members.append((area, number, person_id, relationship))
        return False

    each_row(rows, outcome, handle, "household_number")
    _write_households(job, new_households, new_members, households)
    return outcome


def _write_households(
    job: Job,
    new_households: list[tuple[str, AreaRef, str, int | None]],
    new_members: list[tuple[AreaRef, str, int, str]],
    households: dict[str, tuple[int, str, int]],
) -> None:
    """The chunk's new households, then the new memberships (of new households by their number, of known ones by id)."""
    hids = write_new(
        job,
        HOUSEHOLD,
        [
            NewItem(
                area.id,
                {"dwelling_id": dwelling_id, "household_number": number},
                {"household_kind": kind},
                job.today,
            )
            for number, area, kind, dwelling_id in new_households
        ],
    )
    real = dict(zip([n for n, _, _, _ in new_households], hids, strict=True))
    write_new(
        job,
        MEMBERSHIP,
        [
            NewItem(
                area.id,
                {"relationship": relationship},
                {"household_id": real.get(number) or households[number][0], "person_id": person_id},
                job.today,
                subject=person_id,
            )
            for area, number, person_id, relationship in new_members
        ],
    )
