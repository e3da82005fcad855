"""The master records: incoming records normalised, the register persons they may be (candidates found with the
engine's blocking keys), those persons' linkage fields in bulk, and the register persons a record makes."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.addresses.models import Address, AddressVersion, StreetVersion
from liangshi.addresses.rules import render_plate_number
from liangshi.areas.models import Area
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.common.phone import normalize_phone
from liangshi.common.types import validation_context
from liangshi.errors import ValidationFailed
from liangshi.linkage.api import LinkRecord
from liangshi.mpi import rules
from liangshi.persons import service as persons
from liangshi.persons.models import Document, DocumentVersion, Person, PersonVersion
from liangshi.persons.rules import check_document_agrees
from liangshi.persons.schemas import PersonCreate
from liangshi.registry import Context, Provenance
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.sealed import keys_for, session_keyring, tail_keys

CHUNK = 5000


@dataclass(frozen=True)
class Norm:
    record_id: str
    name: str | None
    sex: str | None
    birth_date: dt.date | None
    id_number: str | None
    phone: str | None
    address: str | None


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _phone(value: object) -> str | None:
    text = rules.clean(value)
    if text is None:
        return None
    try:
        return normalize_phone(text)
    except ValidationFailed:
        return text[:20]


def normalise(record: LinkRecord, today: dt.date) -> Norm:
    name = rules.clean(record.name)
    address = rules.clean(record.address)
    return Norm(
        record_id=str(record.record_id),
        name=name[:50] if name else None,
        sex=rules.sex_code(record.sex),
        birth_date=rules.birth_date(record.birth_date),
        id_number=rules.id_number(record.id_number, today),
        phone=_phone(record.phone),
        address=address[:200] if address else None,
    )


def link_record(n: Norm, source: str) -> LinkRecord:
    return LinkRecord(
        record_id=n.record_id,
        source=source,
        name=n.name,
        sex=n.sex,
        birth_date=n.birth_date.isoformat() if n.birth_date else None,
        id_number=n.id_number,
        phone=n.phone,
        address=n.address,
        person_id=None,
    )


def evidence_json(evidence: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {
            "field": str(getattr(e, "field", "")),
            "level": str(getattr(e, "level", "")),
            "weight": float(getattr(e, "weight", 0.0)),
        }
        for e in evidence
    ]


# ---- the master records ----------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=20000)
def sound_of(ch: str) -> str:
    """The pinyin of one character (homophones and traditional forms agree), else the character itself."""
    # Imported here: pypinyin takes about a second to import, and only resolving or matching needs it.
    from pypinyin import lazy_pinyin

    return (lazy_pinyin(ch) or [ch])[0].lower()


def birth_dates(n: Norm) -> set[dt.date]:
    """A record's birth date, the one in its ID number, and each with day and month swapped."""
    births = {n.birth_date} if n.birth_date else set()
    if n.id_number and len(n.id_number) == 18:
        from_id = rules.birth_date(n.id_number[6:14])
        if from_id is not None:
            births.add(from_id)
    for born in list(births):
        if born.day <= 12 and born.day != born.month:
            births.add(dt.date(born.year, born.day, born.month))
    return births


def candidate_person_ids(session: Session, ctx: Context, norms: Sequence[Norm]) -> list[int]:
    """Register persons the linkage engine could pair with any of the records, found with the engine's own
    blocking keys that SQL can answer: the document number and its last 9 characters (a typo in the first
    half), the phone, and a birth date (also from the ID number, also with day and month swapped) with the
    sound of the surname. The engine does the fine comparison; this keeps a 10,000-record batch from loading a
    million-person register."""
    numbers = sorted({n.id_number for n in norms if n.id_number})
    tails = sorted({n.id_number[-9:] for n in norms if n.id_number and len(n.id_number) == 18})
    phones = sorted({n.phone for n in norms if n.phone})
    pairs = {(born, sound_of(n.name[:1])) for n in norms if n.name for born in birth_dates(n)}
    dates = sorted({d for d, _ in pairs})
    dv, pv = DocumentVersion, PersonVersion
    found: set[int] = set()
    doc_current = and_(dv.superseded_at.is_(None), dv.valid_to.is_(None))
    for chunk in chunks(numbers):
        found.update(
            pid
            for (pid,) in session.execute(
                select(Document.person_id)
                .join(dv, dv.entity_id == Document.id)
                .where(dv.number_idx.in_(list(keys_for(session, dv.number, chunk))), doc_current)
            )
        )
    for chunk in chunks(tails):
        found.update(
            pid
            for (pid,) in session.execute(
                select(Document.person_id)
                .join(dv, dv.entity_id == Document.id)
                .where(dv.number_tail9_idx.in_(tail_keys(session, dv.number, chunk)), doc_current)
            )
        )
    current = and_(pv.superseded_at.is_(None), pv.valid_to.is_(None))
    ring = session_keyring(session)
    phone_keys = sorted({ring.index("person.phone", p) for p in phones})
    for chunk in chunks(phone_keys):
        found.update(
            pid for (pid,) in session.execute(select(pv.entity_id).where(current, pv.phone_idx.in_(chunk)))
        )
    for chunk in chunks(dates, 20000):
        rows = session.execute(
            select(pv.entity_id, pv.birth_date, pv.name).where(current, pv.birth_date.in_(chunk))
        )
        found.update(pid for pid, born, name in rows if (born, sound_of(name[:1])) in pairs)
    return in_scope(session, ctx, sorted(found))


def in_scope(session: Session, ctx: Context, ids: Sequence[int]) -> list[int]:
    visible: list[int] = []
    for chunk in chunks(ids):
        stmt = registry.scoped(select(Person.id).where(Person.id.in_(chunk)), persons.PERSON, ctx.actor)
        visible.extend(int(pid) for (pid,) in session.execute(stmt))
    return sorted(visible)


def all_person_ids(session: Session, ctx: Context, county: str | None = None) -> list[int]:
    """Every current (not retired) register person in the actor's jurisdiction (optionally one county)."""
    pv = PersonVersion
    stmt = select(Person.id).join(
        pv, and_(pv.entity_id == Person.id, pv.superseded_at.is_(None), pv.valid_to.is_(None))
    )
    if county:
        stmt = stmt.where(Person.county_code == county)
    stmt = registry.scoped(stmt, persons.PERSON, ctx.actor).order_by(Person.id)
    return [int(pid) for (pid,) in session.execute(stmt)]


@dataclass
class MasterRow:
    """A register person's linkage fields."""

    person_id: int
    area_id: int
    county_code: str
    name: str | None
    sex: str | None
    birth_date: dt.date | None
    id_number: str | None
    phone: str | None
    address: str | None
    documents: list[tuple[str, str]]


def master_rows(session: Session, ids: Sequence[int]) -> dict[int, MasterRow]:
    """Linkage fields of register persons, in bulk: current facts, documents, current residence address."""
    pv, dv = PersonVersion, DocumentVersion
    out: dict[int, MasterRow] = {}
    for chunk in chunks(list(ids)):
        for pid, area_id, county, name, sex, born, phone in session.execute(
            select(Person.id, Person.area_id, Person.county_code, pv.name, pv.sex, pv.birth_date, pv.phone)
            .join(pv, and_(pv.entity_id == Person.id, pv.superseded_at.is_(None), pv.valid_to.is_(None)))
            .where(Person.id.in_(chunk))
        ):
            out[int(pid)] = MasterRow(int(pid), area_id, county, name, sex, born, None, phone, None, [])
        for pid, doc_type, number in session.execute(
            select(Document.person_id, dv.doc_type, dv.number)
            .join(dv, and_(dv.entity_id == Document.id, dv.superseded_at.is_(None), dv.valid_to.is_(None)))
            .where(Document.person_id.in_(chunk))
            .order_by(Document.id)
        ):
            row = out.get(int(pid))
            if row is not None:
                row.documents.append((doc_type, number))
        for pid, street, base, sub, style, label, room in _addresses(session, chunk):
            row = out.get(int(pid))
            if row is not None and row.address is None:
                plate = render_plate_number(base, sub, style or "dash") if base is not None else ""
                row.address = f"{street or ''}{plate}{label or ''}{room or ''}" or None
    for row in out.values():
        ids_first = sorted(row.documents, key=lambda d: d[0] != "resident_id")
        row.id_number = ids_first[0][1] if ids_first else None
    return out


def _addresses(session: Session, ids: Sequence[int]) -> Any:
    rv, dwv, bv, av, sv = ResidenceVersion, DwellingVersion, BuildingVersion, AddressVersion, StreetVersion

    def cur(v: Any, entity_id: Any) -> Any:
        return and_(v.entity_id == entity_id, v.superseded_at.is_(None), v.valid_to.is_(None))

    return session.execute(
        select(
            Residence.person_id,
            sv.name,
            av.base_number,
            av.sub_number,
            sv.numbering_style,
            bv.label,
            dwv.room,
        )
        .join(rv, cur(rv, Residence.id))
        .join(Dwelling, Dwelling.id == Residence.dwelling_id)
        .outerjoin(dwv, cur(dwv, Dwelling.id))
        .join(Building, Building.id == Dwelling.building_id)
        .outerjoin(bv, cur(bv, Building.id))
        .join(Address, Address.id == Building.address_id)
        .outerjoin(av, cur(av, Address.id))
        .outerjoin(sv, cur(sv, Address.street_id))
        .where(Residence.person_id.in_(ids))
        .order_by(Residence.person_id, rv.arrival_date.desc())
    )


def master_records(rows: Iterable[MasterRow]) -> list[LinkRecord]:
    """The master rows as linkage records (record id `person:<id>`, person_id set)."""
    return [
        LinkRecord(
            record_id=f"person:{r.person_id}",
            source="register",
            name=r.name,
            sex=r.sex,
            birth_date=r.birth_date.isoformat() if r.birth_date else None,
            id_number=r.id_number,
            phone=r.phone,
            address=r.address,
            person_id=r.person_id,
        )
        for r in rows
    ]


# ---- creating persons ----------------------------------------------------------------------------------------


def document_holders(session: Session, numbers: Sequence[str]) -> dict[str, int]:
    dv = DocumentVersion
    held: dict[str, int] = {}
    for chunk in chunks(list(numbers)):
        for number, pid in session.execute(
            select(dv.number, Document.person_id)
            .join(Document, Document.id == dv.entity_id)
            .where(
                dv.number_idx.in_(list(keys_for(session, dv.number, chunk))),
                dv.superseded_at.is_(None),
                dv.valid_to.is_(None),
            )
        ):
            held[number] = int(pid)
    return held


def _person_input(n: Norm, area_id: int, with_document: bool, today: dt.date) -> PersonCreate | None:
    docs = []
    if with_document and n.id_number and rules.valid_resident_id(n.id_number, today):
        docs = [{"doc_type": "resident_id", "number": n.id_number}]
    phone = n.phone if n.phone and n.phone.startswith("+") else None
    try:
        data = PersonCreate.model_validate(
            {
                "area_id": area_id,
                "name": n.name or "",
                "sex": n.sex or "",
                "birth_date": n.birth_date,
                "phone": phone,
                "documents": docs,
            },
            context=validation_context(today),
        )
    except (ValidationError, ValidationFailed):
        return None
    for doc in data.documents:
        try:
            check_document_agrees(
                doc.doc_type, doc.number, birth_date=data.birth_date, sex=data.sex, today=today
            )
        except ValidationFailed:
            return None
    return data


def person_input(n: Norm, area_id: int, today: dt.date, *, with_document: bool = True) -> PersonCreate | None:
    """The register person a record makes (name, sex, birth date, phone and, if it fits, its valid ID number),
    validated as the API validates a new person; None when the record cannot make one."""
    if not rules.can_make_person(n.name, n.sex, n.birth_date, today):
        return None
    data = _person_input(n, area_id, with_document, today)
    if data is None and with_document:
        data = _person_input(n, area_id, False, today)
    return data


def insert_persons(
    session: Session, ctx: Context, items: Sequence[PersonCreate], area: Area, prov: Provenance
) -> list[int]:
    """Create validated register persons with their documents through the registry's bulk path (the rows
    `registry.create` writes), one audit entry each. The records' right to add persons was checked by the caller
    (a department feed under its agreement, a reviewer's decision); the registry checks `person.write` and that
    `area` is in the actor's jurisdiction."""
    if not items:
        return []
    starts = [min(ctx.today, d.birth_date or ctx.today) for d in items]
    fields = set(persons.PERSON.attributes)
    source = {"source": prov.source_ref}
    people = [
        registry.NewItem(area.id, d.model_dump(include=fields), valid_from=st)
        for d, st in zip(items, starts, strict=True)
    ]
    ids = registry.create_many(session, ctx, persons.PERSON, people, prov=prov, audit_detail=source).ids
    docs = [
        registry.NewItem(
            area.id,
            {"doc_type": doc.doc_type, "number": doc.number, "country": doc.country or "CHN"},
            refs={"person_id": pid},
            valid_from=st,
        )
        for pid, d, st in zip(ids, items, starts, strict=True)
        for doc in d.documents
    ]
    registry.create_many(session, ctx, persons.DOCUMENT, docs, prov=prov)
    return ids


def make_person(
    session: Session, ctx: Context, n: Norm, area: Area, prov: Provenance, *, with_document: bool = True
) -> int | None:
    """Create one register person from a record, or None when it cannot make one (see `person_input`)."""
    data = person_input(n, area.id, ctx.today, with_document=with_document)
    return insert_persons(session, ctx, [data], area, prov)[0] if data is not None else None
