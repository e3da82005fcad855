"""Master person index use cases: resolve incoming records to register persons, the review queue, merges,
splits and their undo.

Person ids are the master index: a record either joins an existing person (keeping that person's id) or creates
a new one; nothing here ever renumbers a person. Every merge or split is a `PersonLinkEvent` naming exactly which
rows moved, so it can be undone exactly; the retired person comes back as a new version (history is kept).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.orm import Session

from liangshi import bulk, registry
from liangshi.addresses.models import Address, AddressVersion, StreetVersion
from liangshi.addresses.rules import render_plate_number
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.common.idnumber import mask_id_number
from liangshi.common.phone import normalize_phone
from liangshi.common.types import validation_context
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.mpi import rules
from liangshi.mpi.models import MatchReview, PersonLinkEvent, PersonSourceRecord
from liangshi.permits.models import Permit
from liangshi.persons import service as persons
from liangshi.persons.models import Document, DocumentVersion, Membership, Person, PersonVersion
from liangshi.persons.rules import check_document_agrees
from liangshi.persons.schemas import PersonCreate
from liangshi.registry import Context, Provenance, history
from liangshi.rentals.models import RentalTenant
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.venues.models import Stay

if TYPE_CHECKING:
    from liangshi.linkage.api import Candidate, LinkRecord

# Rows that belong to a person and move with a merge: label -> (table, its person column). A rental's landlord is
# a versioned attribute of the rental (its history says who was landlord when), so it is not re-pointed here.
MOVABLE: dict[str, tuple[Any, Any]] = {
    "documents": (Document, Document.person_id),
    "memberships": (Membership, Membership.person_id),
    "residences": (Residence, Residence.person_id),
    "permits": (Permit, Permit.person_id),
    "rental_tenants": (RentalTenant, RentalTenant.person_id),
    "stays": (Stay, Stay.person_id),
    "source_records": (PersonSourceRecord, PersonSourceRecord.person_id),
}
CHUNK = 5000
FIELDS = ("name", "sex", "birth_date", "id_number", "phone", "address")


@dataclass(frozen=True)
class Resolution:
    """What became of one incoming record."""

    record_id: str
    person_id: int | None
    status: str
    probability: float | None


@dataclass(frozen=True)
class _Norm:
    record_id: str
    name: str | None
    sex: str | None
    birth_date: dt.date | None
    id_number: str | None
    phone: str | None
    address: str | None


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
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


def _normalise(record: LinkRecord, today: dt.date) -> _Norm:
    name = rules.clean(record.name)
    address = rules.clean(record.address)
    return _Norm(
        record_id=str(record.record_id),
        name=name[:50] if name else None,
        sex=rules.sex_code(record.sex),
        birth_date=rules.birth_date(record.birth_date),
        id_number=rules.id_number(record.id_number, today),
        phone=_phone(record.phone),
        address=address[:200] if address else None,
    )


def _link_record(n: _Norm, source: str) -> LinkRecord:
    from liangshi.linkage.api import LinkRecord

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


def _evidence_json(evidence: Iterable[Any]) -> list[dict[str, Any]]:
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
def _sound(ch: str) -> str:
    """The pinyin of one character (homophones and traditional forms agree), else the character itself."""
    from pypinyin import lazy_pinyin

    return (lazy_pinyin(ch) or [ch])[0].lower()


def _dates(n: _Norm) -> set[dt.date]:
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


def candidate_person_ids(session: Session, ctx: Context, norms: Sequence[_Norm]) -> list[int]:
    """Register persons the linkage engine could pair with any of the records, found with the engine's own
    blocking keys that SQL can answer: the document number and its last 9 characters (a typo in the first
    half), the phone, and a birth date (also from the ID number, also with day and month swapped) with the
    sound of the surname. The engine does the fine comparison; this keeps a 10,000-record batch from loading a
    million-person register."""
    numbers = sorted({n.id_number for n in norms if n.id_number})
    tails = sorted({n.id_number[-9:] for n in norms if n.id_number and len(n.id_number) == 18})
    phones = sorted({n.phone for n in norms if n.phone})
    pairs = {(born, _sound(n.name[:1])) for n in norms if n.name for born in _dates(n)}
    dates = sorted({d for d, _ in pairs})
    dv, pv = DocumentVersion, PersonVersion
    found: set[int] = set()
    doc_current = and_(dv.superseded_at.is_(None), dv.valid_to.is_(None))
    for chunk in _chunks(numbers):
        found.update(
            pid
            for (pid,) in session.execute(
                select(Document.person_id)
                .join(dv, dv.entity_id == Document.id)
                .where(dv.number.in_(chunk), doc_current)
            )
        )
    for chunk in _chunks(tails):
        found.update(
            pid
            for (pid,) in session.execute(
                select(Document.person_id)
                .join(dv, dv.entity_id == Document.id)
                .where(func.substr(dv.number, 10, 9).in_(chunk), func.length(dv.number) == 18, doc_current)
            )
        )
    current = and_(pv.superseded_at.is_(None), pv.valid_to.is_(None))
    for chunk in _chunks(phones):
        found.update(
            pid for (pid,) in session.execute(select(pv.entity_id).where(current, pv.phone.in_(chunk)))
        )
    for chunk in _chunks(dates, 20000):
        rows = session.execute(
            select(pv.entity_id, pv.birth_date, pv.name).where(current, pv.birth_date.in_(chunk))
        )
        found.update(pid for pid, born, name in rows if (born, _sound(name[:1])) in pairs)
    return _in_scope(session, ctx, sorted(found))


def _in_scope(session: Session, ctx: Context, ids: Sequence[int]) -> list[int]:
    visible: list[int] = []
    for chunk in _chunks(ids):
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
    for chunk in _chunks(list(ids)):
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
    from liangshi.linkage.api import LinkRecord

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


def _document_holders(session: Session, numbers: Sequence[str]) -> dict[str, int]:
    dv = DocumentVersion
    held: dict[str, int] = {}
    for chunk in _chunks(list(numbers)):
        for number, pid in session.execute(
            select(dv.number, Document.person_id)
            .join(Document, Document.id == dv.entity_id)
            .where(dv.number.in_(chunk), dv.superseded_at.is_(None), dv.valid_to.is_(None))
        ):
            held[number] = int(pid)
    return held


def _person_input(n: _Norm, area_id: int, with_document: bool, today: dt.date) -> PersonCreate | None:
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


def person_input(
    n: _Norm, area_id: int, today: dt.date, *, with_document: bool = True
) -> PersonCreate | None:
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
    session: Session, ctx: Context, n: _Norm, area: Area, prov: Provenance, *, with_document: bool = True
) -> int | None:
    """Create one register person from a record, or None when it cannot make one (see `person_input`)."""
    data = person_input(n, area.id, ctx.today, with_document=with_document)
    return insert_persons(session, ctx, [data], area, prov)[0] if data is not None else None


# ---- resolve ---------------------------------------------------------------------------------------------------


def _target_area(session: Session, ctx: Context, area_id: int | None) -> Area:
    chosen = area_id if area_id is not None else ctx.actor.area_id
    area = session.get(Area, chosen) if chosen else None
    if area is None or not ctx.actor.covers_path(area.path):
        raise ValidationFailed(
            "mpi.area_required",
            "请指定辖区内的区划，用于登记新人员",
            "Give an area in your jurisdiction to hold new persons",
            {"field": "area_id"},
        )
    return area


def _check_source(source: str, records: Sequence[LinkRecord]) -> None:
    if not source or len(source) > 40:
        raise ValidationFailed(
            "mpi.source_invalid", "来源代码无效", "Invalid source code", {"field": "source"}
        )
    for r in records:
        rid = str(r.record_id or "").strip()
        if not rid or len(rid) > 100:
            raise ValidationFailed(
                "mpi.record_id_invalid",
                "记录编号为空或过长（最多100字符）",
                "A record id is empty or too long (at most 100 characters)",
                {"field": "record_id", "record_id": rid[:120]},
            )


def resolve(
    session: Session,
    ctx: Context,
    records: Sequence[LinkRecord],
    *,
    source: str,
    batch_ref: str | None,
    area_id: int | None = None,
) -> list[Resolution]:
    """Resolve a source's records against the master index in the actor's jurisdiction.

    Each record (one per (source, record_id); a record sent again changes nothing and answers as before):
    probability ≥ ACCEPT joins the best candidate person (keeping its id); REVIEW ≤ p < ACCEPT queues a review
    per candidate in that band; below, the records that are one new person (the engine's own dedupe within the
    batch) create one register person (provenance: department, the batch) when they carry a name, a sex and a
    birth date, else stay rejected. New persons are held in `area_id` (default: the actor's area). Candidates
    are the register persons in the actor's jurisdiction. The actor must hold `person.link` (records are linked,
    reviews queued) and `person.write` (persons registered), checked before anything is written; a department
    feed passes the writer its agreement authorises. Every write is audited under `ctx.actor`. Flushes, never
    commits. Returns one Resolution per distinct record id, in input order.
    """
    from liangshi.linkage import api as linkage

    ctx.actor.ensure("person.link")
    ctx.actor.ensure("person.write")
    _check_source(source, records)
    today = ctx.today
    norms: dict[str, _Norm] = {}
    for r in records:
        n = _normalise(r, today)
        norms.setdefault(n.record_id, n)
    existing: dict[str, PersonSourceRecord] = {}
    keys = list(norms)
    for chunk in _chunks(keys):
        for row in session.execute(
            select(PersonSourceRecord).where(
                PersonSourceRecord.source == source, PersonSourceRecord.source_record_id.in_(chunk)
            )
        ).scalars():
            existing[row.source_record_id] = row
    fresh = [n for rid, n in norms.items() if rid not in existing]
    results: dict[str, Resolution] = {
        rid: Resolution(rid, row.person_id, row.status, row.probability) for rid, row in existing.items()
    }
    if fresh:
        area = _target_area(session, ctx, area_id)
        results.update(_resolve_fresh(session, ctx, fresh, source, batch_ref, area, linkage))
    return [results[rid] for rid in keys]


def _resolve_fresh(
    session: Session,
    ctx: Context,
    fresh: list[_Norm],
    source: str,
    batch_ref: str | None,
    area: Area,
    linkage: Any,
) -> dict[str, Resolution]:
    today = ctx.today
    master = master_rows(session, candidate_person_ids(session, ctx, fresh))
    new_records = [_link_record(n, source) for n in fresh]
    matches: dict[str, list[Candidate]] = (
        linkage.match_against_master(new_records, master_records(master.values()), top=3, today=today)
        if master
        else {}
    )
    accept, review = float(linkage.ACCEPT), float(linkage.REVIEW)
    decided: dict[str, tuple[str, int | None, float | None, list[dict[str, Any]]]] = {}
    queued: dict[str, list[Candidate]] = {}
    unmatched: list[_Norm] = []
    for n in fresh:
        cands = sorted(matches.get(n.record_id, []), key=lambda c: -float(c.probability))
        cands = [c for c in cands if c.person_id is not None and int(c.person_id) in master]
        best = cands[0] if cands else None
        verdict = rules.band(float(best.probability), accept=accept, review=review) if best else rules.NEW
        if verdict == rules.LINKED and len(cands) > 1 and float(cands[1].probability) >= accept:
            # Two register persons both certain: the register itself may hold a duplicate; a person decides.
            verdict = rules.REVIEW
        if best is not None and verdict == rules.LINKED:
            decided[n.record_id] = (
                rules.LINKED,
                int(best.person_id),
                float(best.probability),
                _evidence_json(best.evidence),
            )
        elif best is not None and verdict == rules.REVIEW:
            queued[n.record_id] = [c for c in cands if float(c.probability) >= review]
            decided[n.record_id] = (
                rules.REVIEW,
                None,
                float(best.probability),
                _evidence_json(best.evidence),
            )
        else:
            unmatched.append(n)
    # A new record whose ID number a register person already holds is not a new person.
    holders = _document_holders(session, [n.id_number for n in unmatched if n.id_number])
    creatable: list[_Norm] = []
    for n in unmatched:
        holder = holders.get(n.id_number or "")
        if holder is None:
            creatable.append(n)
        elif holder in master or _in_scope(session, ctx, [holder]):
            row = master.get(holder) or master_rows(session, [holder])[holder]
            master[holder] = row
            p, w, ev = linkage.explain_pair(_link_record(n, source), master_records([row])[0], today=today)
            queued[n.record_id] = [linkage.Candidate(f"person:{holder}", holder, p, w, ev)]
            decided[n.record_id] = (rules.REVIEW, None, float(p), _evidence_json(ev))
        else:
            decided[n.record_id] = (
                rules.REJECTED,
                None,
                None,
                [{"field": "id_number", "level": "held_elsewhere"}],
            )
    prov = Provenance(source_kind="department", source_ref=(batch_ref or source)[:100], evidence="document")
    used = set(holders)
    chosen: list[tuple[list[_Norm], PersonCreate | None]] = []
    for group in _groups(creatable, source, linkage, today):
        data = None
        for n in group:
            with_doc = bool(n.id_number) and n.id_number not in used
            data = person_input(n, area.id, today, with_document=with_doc)
            if data is not None:
                used.update(d.number for d in data.documents)
                break
        chosen.append((group, data))
    made = iter(insert_persons(session, ctx, [d for _, d in chosen if d is not None], area, prov))
    for group, data in chosen:
        person_id = next(made) if data is not None else None
        for n in group:
            if person_id is None:
                decided[n.record_id] = (rules.REJECTED, None, None, [{"field": "*", "level": "insufficient"}])
            else:
                decided[n.record_id] = (rules.NEW, person_id, None, [])
    return _store(session, ctx, fresh, decided, queued, master, source, batch_ref, area)


def _groups(records: list[_Norm], source: str, linkage: Any, today: dt.date) -> list[list[_Norm]]:
    """Records of one batch that are one new person, in input order. Only records sharing a blocking key with
    another record of the batch (ID number or its tail, phone, a birth date with the surname's sound) can be;
    the engine's dedupe runs on those alone."""
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[Any, int] = {}
    for i, n in enumerate(records):
        keys: list[Any] = [("phone", n.phone)] if n.phone else []
        if n.id_number:
            keys += [("id", n.id_number), ("tail", n.id_number[-9:])]
        if n.name:
            keys += [("dob", d, _sound(n.name[:1])) for d in _dates(n)]
        for key in keys:
            j = first.setdefault(key, i)
            if j != i:
                parent[find(i)] = find(j)
    sizes: dict[int, int] = {}
    for i in range(len(records)):
        sizes[find(i)] = sizes.get(find(i), 0) + 1
    shared = [n for i, n in enumerate(records) if sizes[find(i)] > 1]
    clusters = linkage.dedupe([_link_record(n, source) for n in shared], today=today) if shared else {}
    groups: dict[Any, list[_Norm]] = {}
    for n in records:
        groups.setdefault(clusters.get(n.record_id, ("alone", n.record_id)), []).append(n)
    return list(groups.values())


def _store(
    session: Session,
    ctx: Context,
    fresh: list[_Norm],
    decided: dict[str, tuple[str, int | None, float | None, list[dict[str, Any]]]],
    queued: dict[str, list[Candidate]],
    master: dict[int, MasterRow],
    source: str,
    batch_ref: str | None,
    area: Area,
) -> dict[str, Resolution]:
    now = ctx.now
    values: list[dict[str, Any]] = []
    for n in fresh:
        status, pid, prob, evidence = decided[n.record_id]
        holder = master.get(pid) if pid is not None else None
        values.append(
            {
                "source": source,
                "source_record_id": n.record_id,
                "batch_ref": batch_ref,
                "name": n.name,
                "sex": n.sex,
                "birth_date": n.birth_date,
                "id_number": n.id_number,
                "phone": n.phone,
                "address": n.address,
                "person_id": pid,
                "status": status,
                "probability": prob,
                "evidence": json.dumps(evidence, ensure_ascii=False),
                "area_id": holder.area_id if holder else area.id,
                "county_code": holder.county_code if holder else area.county_code,
                "created_at": now,
                "updated_at": now,
            }
        )
    # Ids allocated up front, then COPY (PostgreSQL) or one executemany (SQLite): a 10,000-record batch through
    # the ORM costs seconds on PostgreSQL.
    new_ids = bulk.allocate_ids(session, PersonSourceRecord, len(values))
    for pk, v in zip(new_ids, values, strict=True):
        v["id"] = pk
    bulk.bulk_insert(session, PersonSourceRecord, values)
    pks = {str(v["source_record_id"]): int(v["id"]) for v in values}
    review_values = [
        {
            "source_record_pk": pks[rid],
            "left_person_id": None,
            "candidate_person_id": int(c.person_id),
            "probability": float(c.probability),
            "weight": float(c.weight),
            "evidence": json.dumps(_evidence_json(c.evidence), ensure_ascii=False),
            "status": rules.PENDING,
            "area_id": master[int(c.person_id)].area_id,
            "county_code": master[int(c.person_id)].county_code,
            "created_at": now,
        }
        for rid, cands in queued.items()
        for c in cands
    ]
    review_ids = (
        {
            (int(pk or 0), int(cand)): int(i)
            for i, pk, cand in session.execute(
                insert(MatchReview)
                .execution_options(render_nulls=True)
                .returning(MatchReview.id, MatchReview.source_record_pk, MatchReview.candidate_person_id),
                review_values,
            )
        }
        if review_values
        else {}
    )
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                f"mpi.record_{v['status']}",
                "person_source_record",
                pks[v["source_record_id"]],
                v["person_id"],
                {
                    "source": source,
                    "record_id": v["source_record_id"],
                    "batch_ref": batch_ref,
                    "probability": v["probability"],
                },
            )
            for v in values
        ]
        + [
            audit.Event(
                "mpi.review_queued",
                "match_review",
                int(i),
                int(c.person_id),
                {"probability": float(c.probability)},
            )
            for pk, c in [(pks[rid], c) for rid, cands in queued.items() for c in cands]
            for i in [review_ids[(pk, int(c.person_id))]]
        ],
    )
    return {
        v["source_record_id"]: Resolution(
            v["source_record_id"], v["person_id"], v["status"], v["probability"]
        )
        for v in values
    }


# ---- the review queue ------------------------------------------------------------------------------------------


def _visible_persons(ctx: Context) -> Any:
    return registry.scoped(select(Person.id), persons.PERSON, ctx.actor)


def list_reviews(
    session: Session, ctx: Context, *, status: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Reviews whose candidate person is in the jurisdiction, pending first, oldest first; audited."""
    ctx.actor.ensure("person.link")
    if status is not None and status not in rules.REVIEW_STATUSES:
        raise ValidationFailed(
            "mpi.review_status_unknown",
            "审核状态无效",
            "Unknown review status",
            {"field": "status", "allowed": list(rules.REVIEW_STATUSES)},
        )
    base = select(MatchReview).where(MatchReview.candidate_person_id.in_(_visible_persons(ctx)))
    if status is not None:
        base = base.where(MatchReview.status == status)
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    order = case((MatchReview.status == rules.PENDING, 0), else_=1)
    reviews = list(
        session.execute(
            base.order_by(order, MatchReview.created_at, MatchReview.id).offset(offset).limit(limit)
        ).scalars()
    )
    records = _records_of(session, [r.source_record_pk for r in reviews if r.source_record_pk])
    names = persons.names_on(
        session,
        [p for r in reviews for p in (r.candidate_person_id, r.left_person_id) if p is not None],
        ctx.today,
    )
    items = []
    for r in reviews:
        rec = records.get(r.source_record_pk or 0)
        items.append(
            {
                "id": r.id,
                "status": r.status,
                "probability": r.probability,
                "source": rec.source if rec else "register",
                "source_record_id": rec.source_record_id if rec else None,
                "left_person_id": r.left_person_id,
                "left_name": rec.name if rec else names.get(r.left_person_id or 0),
                "candidate_person_id": r.candidate_person_id,
                "candidate_name": names.get(r.candidate_person_id),
                "created_at": r.created_at,
                "decided_at": r.decided_at,
            }
        )
    registry.log(
        ctx,
        session,
        [audit.Event("mpi.review_list", "match_review", r.id, r.candidate_person_id) for r in reviews],
    )
    return items, int(total)


def _records_of(session: Session, pks: Sequence[int]) -> dict[int, PersonSourceRecord]:
    if not pks:
        return {}
    return {
        r.id: r
        for r in session.execute(
            select(PersonSourceRecord).where(PersonSourceRecord.id.in_(set(pks)))
        ).scalars()
    }


def _review_in_scope(session: Session, ctx: Context, review_id: int) -> MatchReview:
    review = session.execute(
        select(MatchReview).where(
            MatchReview.id == review_id, MatchReview.candidate_person_id.in_(_visible_persons(ctx))
        )
    ).scalar_one_or_none()
    if review is None:
        raise NotFound("mpi.review_not_found", "未找到该比对审核", "Review not found", {"id": review_id})
    return review


def _side(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: values.get(k) for k in FIELDS}
    if out["birth_date"] is not None:
        out["birth_date"] = str(out["birth_date"])
    if out["id_number"]:
        out["id_number"] = mask_id_number(str(out["id_number"]))
    return out


def _row_values(row: MasterRow | None) -> dict[str, Any]:
    if row is None:
        return {}
    return {k: getattr(row, k) for k in FIELDS}


def review_detail(session: Session, ctx: Context, review_id: int) -> dict[str, Any]:
    """One review side by side: both records field by field (ID numbers masked) with the per-field evidence."""
    ctx.actor.ensure("person.link")
    review = _review_in_scope(session, ctx, review_id)
    rec = session.get(PersonSourceRecord, review.source_record_pk) if review.source_record_pk else None
    wanted = [review.candidate_person_id] + ([review.left_person_id] if review.left_person_id else [])
    rows = master_rows(session, wanted)
    if rows.get(review.candidate_person_id) is None:
        # A retired candidate (merged away since): its last known facts.
        rows.update(_retired_rows(session, wanted))
    left = {k: getattr(rec, k) for k in FIELDS} if rec else _row_values(rows.get(review.left_person_id or 0))
    right = _row_values(rows.get(review.candidate_person_id))
    evidence = json.loads(review.evidence)
    by_field = {e["field"]: e for e in evidence}
    fields = [
        {
            "field": f,
            "left": _side(left)[f],
            "right": _side(right)[f],
            "level": by_field.get(f, {}).get("level"),
            "weight": by_field.get(f, {}).get("weight"),
        }
        for f in FIELDS
    ]
    subjects = [p for p in wanted if p is not None]
    registry.log(
        ctx,
        session,
        [audit.Event("mpi.review_read", "match_review", review.id, p) for p in subjects],
    )
    return {
        "id": review.id,
        "status": review.status,
        "probability": review.probability,
        "weight": review.weight,
        "left": {
            "kind": "source_record" if rec else "person",
            "source": rec.source if rec else "register",
            "source_record_id": rec.source_record_id if rec else None,
            "person_id": review.left_person_id,
        },
        "right": {"kind": "person", "person_id": review.candidate_person_id},
        "fields": fields,
        "evidence": evidence,
        "decided_by": review.decided_by,
        "decided_at": review.decided_at,
        "reason": review.reason,
    }


def _retired_rows(session: Session, ids: Sequence[int]) -> dict[int, MasterRow]:
    out: dict[int, MasterRow] = {}
    for pid in ids:
        person = session.get(Person, pid)
        row = history.latest_row(session, persons.PERSON, pid)
        if person is None or row is None:
            continue
        docs = [(d.doc_type, d.number) for d in persons.current_documents(session, pid)]
        out[pid] = MasterRow(
            pid,
            person.area_id,
            person.county_code,
            row.name,
            row.sex,
            row.birth_date,
            docs[0][1] if docs else None,
            row.phone,
            None,
            docs,
        )
    return out


def decide(
    session: Session, ctx: Context, review_id: int, *, decision: str, reason: str, force: bool = False
) -> dict[str, Any]:
    """Decide a review: `same` links the record to the candidate (or merges two register persons; `force` merges
    them even when their valid ID numbers differ, as `merge` allows), `distinct` keeps them apart (a record with
    no pending candidate left then becomes a new person). Reason required."""
    ctx.actor.ensure("person.link")
    rules.ensure_decision(decision)
    reason = _reason(reason)
    review = _review_in_scope(session, ctx, review_id)
    rules.ensure_pending(review.status, review.id)
    registry.get_entity(session, persons.PERSON, review.candidate_person_id, ctx.actor, write=True)
    event_id: int | None = None
    outcome: dict[str, Any] = {}
    if review.source_record_pk is not None:
        rec = session.get(PersonSourceRecord, review.source_record_pk)
        assert rec is not None
        if decision == "same":
            if history.open_row(session, persons.PERSON, review.candidate_person_id) is None:
                raise _retired(review.candidate_person_id)
            rec.person_id = review.candidate_person_id
            rec.status = rules.LINKED
            rec.probability = review.probability
            rec.updated_at = ctx.now
            session.execute(
                update(MatchReview)
                .where(
                    MatchReview.source_record_pk == rec.id,
                    MatchReview.status == rules.PENDING,
                    MatchReview.id != review.id,
                )
                .values(status=rules.CLOSED, decided_by=ctx.actor.user_id, decided_at=ctx.now, reason=reason)
            )
        else:
            others = session.execute(
                select(func.count()).where(
                    MatchReview.source_record_pk == rec.id,
                    MatchReview.status == rules.PENDING,
                    MatchReview.id != review.id,
                )
            ).scalar_one()
            if not others:
                _settle_distinct(session, ctx, rec)
        outcome = {"record_status": rec.status, "person_id": rec.person_id}
    else:
        assert review.left_person_id is not None
        if decision == "same":
            keep, other = sorted((review.left_person_id, review.candidate_person_id))
            event = merge(session, ctx, keep, other, reason=reason, force=force)
            event_id = event.id
            outcome = {"person_id": keep, "merged": other, "event_id": event.id}
    review.status = rules.LINKED if decision == "same" else rules.DISTINCT
    review.decided_by = ctx.actor.user_id
    review.decided_at = ctx.now
    review.reason = reason
    review.link_event_id = event_id
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "mpi.review_decide",
                "match_review",
                review.id,
                review.candidate_person_id,
                {"decision": decision, "reason": reason, **outcome},
            )
        ],
    )
    return {"id": review.id, "status": review.status, "decision": decision, **outcome}


def _settle_distinct(session: Session, ctx: Context, rec: PersonSourceRecord) -> None:
    """A record every candidate of which was judged distinct: a new person if it can make one."""
    area = session.get(Area, rec.area_id)
    assert area is not None
    n = _Norm(rec.source_record_id, rec.name, rec.sex, rec.birth_date, rec.id_number, rec.phone, rec.address)
    held = _document_holders(session, [rec.id_number]) if rec.id_number else {}
    prov = Provenance(
        source_kind="department", source_ref=(rec.batch_ref or rec.source)[:100], evidence="document"
    )
    pid = make_person(session, ctx, n, area, prov, with_document=not held)
    rec.person_id = pid
    rec.status = rules.NEW if pid is not None else rules.REJECTED
    rec.updated_at = ctx.now


# ---- merges, splits, undo ---------------------------------------------------------------------------------------


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(
            "mpi.reason_required", "请填写理由", "A reason is required", {"field": "reason"}
        )
    return text[:500]


def _retired(person_id: int) -> Conflict:
    return Conflict(
        "mpi.person_retired",
        "该人员已注销（或已被合并），不能再合并或拆分",
        "The person is retired (or merged away) and cannot be merged or split",
        {"id": person_id},
    )


def _doc_numbers(session: Session, person_id: int) -> set[str]:
    return {d.number for d in persons.current_documents(session, person_id) if d.doc_type == "resident_id"}


def _system_prov(what: str) -> Provenance:
    return Provenance(source_kind="system", source_ref=f"mpi.{what}")


def _closing(session: Session, person_id: int, today: dt.date) -> dt.date:
    row = history.open_row(session, persons.PERSON, person_id)
    return max(today, row.valid_from) if row is not None else today


def merge(
    session: Session, ctx: Context, keep_id: int, other_id: int, *, reason: str, force: bool = False
) -> PersonLinkEvent:
    """Merge person `other` into `keep`: other's documents, memberships, residences, permits, tenancies, stays
    and source records move to keep (exactly which rows is recorded), other is retired "merged into <keep>".

    Refused, writing nothing: merging into oneself; a person outside the jurisdiction (404); a retired person;
    two persons with different valid resident ID numbers, unless `force` by a station administrator or above.
    """
    ctx.actor.ensure("person.link")
    if force:
        # Asking to force is itself the station's call, whether or not the numbers turn out to differ.
        ctx.actor.ensure("person.link_force")
    reason = _reason(reason)
    rules.ensure_not_self(keep_id, other_id)
    keep = registry.get_entity(session, persons.PERSON, keep_id, ctx.actor, write=True)
    other = registry.get_entity(session, persons.PERSON, other_id, ctx.actor, write=True)
    for p in (keep, other):
        if history.open_row(session, persons.PERSON, p.id) is None:
            raise _retired(p.id)
    forced = False
    if rules.conflicting_ids(_doc_numbers(session, keep.id), _doc_numbers(session, other.id), ctx.today):
        if not force:
            raise rules.id_conflict()
        forced = True
    moved: dict[str, Any] = {}
    for label, (table, column) in MOVABLE.items():
        ids = sorted(int(i) for (i,) in session.execute(select(table.id).where(column == other.id)))
        if ids:
            for chunk in _chunks(ids):
                session.execute(
                    update(table)
                    .where(table.id.in_(chunk))
                    .values({column.key: keep.id})
                    .execution_options(synchronize_session=False)
                )
        moved[label] = ids
    history.bump_version(session, persons.PERSON, keep.id, keep.version)
    retired = history.retire(
        session,
        persons.PERSON,
        other,
        expected_version=other.version,
        effective=_closing(session, other.id, ctx.today),
        prov=_system_prov("merge"),
        actor_id=ctx.actor.user_id,
        now=ctx.now,
        reason=f"merged into {keep.id}",
    )
    moved["retired_row_id"] = retired.row_id
    event = _record_event(session, ctx, "merge", keep, other.id, json.dumps(moved), reason, forced=forced)
    session.expire_all()
    detail = {
        "event_id": event.id,
        "keep": keep_id,
        "other": other_id,
        "moved": {k: len(v) for k, v in moved.items() if isinstance(v, list)},
        "reason": reason,
        "forced": forced,
    }
    registry.log(
        ctx,
        session,
        [
            audit.Event("person.merge", "person", keep_id, keep_id, detail),
            audit.Event("person.merged_away", "person", other_id, other_id, detail),
        ],
    )
    return event


def split(
    session: Session, ctx: Context, person_id: int, *, source_record_ids: Sequence[int], reason: str
) -> PersonLinkEvent:
    """Move some of a person's source records (and the documents whose numbers they carry) to a new person
    made from the first record that can make one; recorded and undoable."""
    ctx.actor.ensure("person.link")
    reason = _reason(reason)
    person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor, write=True)
    if history.open_row(session, persons.PERSON, person.id) is None:
        raise _retired(person.id)
    wanted = sorted(set(int(i) for i in source_record_ids))
    if not wanted:
        raise ValidationFailed(
            "mpi.split_empty",
            "请选择要拆出的来源记录",
            "Choose the source records to split off",
            {"field": "source_record_ids"},
        )
    recs = list(
        session.execute(
            select(PersonSourceRecord)
            .where(PersonSourceRecord.id.in_(wanted))
            .order_by(PersonSourceRecord.id)
        ).scalars()
    )
    if len(recs) != len(wanted) or any(r.person_id != person.id for r in recs):
        raise ValidationFailed(
            "mpi.split_record_not_of_person",
            "所选来源记录不属于该人员",
            "A chosen source record does not belong to this person",
            {"field": "source_record_ids"},
        )
    area = session.get(Area, person.area_id)
    assert area is not None
    numbers = {r.id_number for r in recs if r.id_number}
    doc_ids = sorted(
        d.entity_id for d in persons.current_documents(session, person.id) if d.number in numbers
    )
    new_id = None
    for r in recs:
        n = _Norm(r.source_record_id, r.name, r.sex, r.birth_date, r.id_number, r.phone, r.address)
        new_id = make_person(session, ctx, n, area, _system_prov("split"), with_document=False)
        if new_id is not None:
            break
    if new_id is None:
        raise ValidationFailed(
            "mpi.split_insufficient",
            "所选来源记录缺少姓名、性别或出生日期，无法建立新人员",
            "The chosen records lack a name, sex or birth date to make a new person",
            {"field": "source_record_ids"},
        )
    for table, ids in ((PersonSourceRecord, wanted), (Document, doc_ids)):
        if ids:
            session.execute(
                update(table)
                .where(table.id.in_(ids))
                .values(person_id=new_id)
                .execution_options(synchronize_session=False)
            )
    history.bump_version(session, persons.PERSON, person.id, person.version)
    moved = {"source_records": wanted, "documents": doc_ids}
    event = _record_event(session, ctx, "split", person, new_id, json.dumps(moved), reason)
    session.expire_all()
    detail = {
        "event_id": event.id,
        "from": person_id,
        "to": new_id,
        "source_records": wanted,
        "reason": reason,
    }
    registry.log(
        ctx,
        session,
        [
            audit.Event("person.split", "person", person_id, person_id, detail),
            audit.Event("person.split_off", "person", new_id, new_id, detail),
        ],
    )
    return event


def _event_in_scope(session: Session, ctx: Context, event_id: int) -> PersonLinkEvent:
    event = session.get(PersonLinkEvent, event_id)
    if event is None or event.kind == "undo":
        raise NotFound(
            "mpi.event_not_found", "未找到该合并/拆分记录", "Merge or split not found", {"id": event_id}
        )
    try:
        registry.get_entity(session, persons.PERSON, event.keep_person_id, ctx.actor, write=True)
    except NotFound:
        raise NotFound(
            "mpi.event_not_found", "未找到该合并/拆分记录", "Merge or split not found", {"id": event_id}
        ) from None
    return event


def _stale(event_id: int, what: str) -> Conflict:
    return Conflict(
        "mpi.undo_stale",
        "合并/拆分之后记录又有变动，不能自动撤销",
        "The records changed after the merge or split; it cannot be undone automatically",
        {"id": event_id, "changed": what},
    )


def _record_event(
    session: Session,
    ctx: Context,
    kind: str,
    keep: Person,
    other_id: int,
    moved: str,
    reason: str,
    *,
    forced: bool = False,
    undoes: PersonLinkEvent | None = None,
) -> PersonLinkEvent:
    """Record a merge, split or undo (which rows moved between which persons, why, by whom), held where the
    kept person is (an undo where the event it undoes was)."""
    event = PersonLinkEvent(
        kind=kind,
        keep_person_id=keep.id,
        other_person_id=other_id,
        moved=moved,
        reason=reason,
        forced=forced,
        actor_id=ctx.actor.user_id,
        actor_name=ctx.actor.username,
        at=ctx.now,
        undoes_id=undoes.id if undoes else None,
        area_id=undoes.area_id if undoes else keep.area_id,
        county_code=undoes.county_code if undoes else keep.county_code,
    )
    session.add(event)
    session.flush()
    return event


def undo(session: Session, ctx: Context, event_id: int, *, reason: str) -> PersonLinkEvent:
    """Reverse a merge (rows move back, the merged person returns as a new version correcting the retirement)
    or a split (records and documents move back, the split-off person is retired); refused if later changes
    touched what moved."""
    ctx.actor.ensure("person.link")
    reason = _reason(reason)
    event = _event_in_scope(session, ctx, event_id)
    if event.undone_by is not None:
        raise Conflict(
            "mpi.already_undone",
            "该操作已撤销",
            "This was already undone",
            {"id": event_id, "undone_by": event.undone_by},
        )
    moved: dict[str, Any] = json.loads(event.moved)
    keep, other = event.keep_person_id, event.other_person_id
    if event.kind == "merge":
        tables = {label: MOVABLE[label] for label in MOVABLE if moved.get(label)}
        back_from, back_to = keep, other
    else:
        tables = {
            "source_records": MOVABLE["source_records"],
            "documents": MOVABLE["documents"],
        }
        back_from, back_to = other, keep
    for label, (table, column) in tables.items():
        ids = moved.get(label) or []
        still = (
            session.execute(
                select(func.count()).select_from(table).where(table.id.in_(ids), column == back_from)
            ).scalar_one()
            if ids
            else 0
        )
        if still != len(ids):
            raise _stale(event_id, label)
    if event.kind == "merge":
        retired = session.get(persons.PERSON.version, moved["retired_row_id"])
        if retired is None or retired.superseded_at is not None:
            raise _stale(event_id, "person")
    for label, (table, column) in tables.items():
        ids = moved.get(label) or []
        for chunk in _chunks(ids):
            session.execute(
                update(table)
                .where(table.id.in_(chunk))
                .values({column.key: back_to})
                .execution_options(synchronize_session=False)
            )
    if event.kind == "merge":
        _unretire(session, ctx, other, retired, f"undo merge #{event.id}: {reason}")
        person = session.get(Person, keep)
        assert person is not None
        history.bump_version(session, persons.PERSON, keep, person.version)
    else:
        new_person = session.get(Person, other)
        assert new_person is not None
        history.retire(
            session,
            persons.PERSON,
            new_person,
            expected_version=new_person.version,
            effective=_closing(session, other, ctx.today),
            prov=_system_prov("undo"),
            actor_id=ctx.actor.user_id,
            now=ctx.now,
            reason=f"split #{event.id} undone",
        )
        person = session.get(Person, keep)
        assert person is not None
        history.bump_version(session, persons.PERSON, keep, person.version)
    kept = session.get(Person, keep)
    assert kept is not None
    undo_event = _record_event(session, ctx, "undo", kept, other, event.moved, reason, undoes=event)
    event.undone_by = undo_event.id
    # A merge decided in the review queue: undoing it takes the decision back, so the pair waits again.
    reopened = list(
        session.execute(
            select(MatchReview.id).where(
                MatchReview.link_event_id == event.id, MatchReview.status == rules.LINKED
            )
        ).scalars()
    )
    if reopened:
        session.execute(
            update(MatchReview)
            .where(MatchReview.id.in_(reopened))
            .values(status=rules.PENDING, decided_by=None, decided_at=None, reason=None, link_event_id=None)
            .execution_options(synchronize_session=False)
        )
    session.flush()
    session.expire_all()
    detail = {
        "event_id": undo_event.id,
        "undoes": event_id,
        "kind": event.kind,
        "reason": reason,
        "reviews_reopened": reopened,
    }
    registry.log(
        ctx,
        session,
        [
            audit.Event(f"person.{event.kind}_undo", "person", keep, keep, detail),
            audit.Event(f"person.{event.kind}_undo", "person", other, other, detail),
        ],
    )
    return undo_event


def _unretire(session: Session, ctx: Context, person_id: int, retired: Any, reason: str) -> None:
    """The retirement was wrong: a new current version with the same facts, open again, corrects it."""
    person = session.get(Person, person_id)
    assert person is not None
    version = history.bump_version(session, persons.PERSON, person_id, person.version)
    retired.superseded_at = ctx.now
    prov = _system_prov("undo")
    session.add(
        persons.PERSON.version(
            entity_id=person_id,
            version=version,
            valid_from=retired.valid_from,
            valid_to=None,
            recorded_at=ctx.now,
            superseded_at=None,
            change="correct",
            reason=reason[:500],
            source_kind=prov.source_kind,
            source_ref=prov.source_ref,
            evidence=prov.evidence,
            document_ref=None,
            county_code=person.county_code,
            actor_id=ctx.actor.user_id,
            corrects_row_id=retired.row_id,
            replaces_row_id=None,
            **history.attributes_of(persons.PERSON, retired),
        )
    )
    session.flush()


def event_view(event: PersonLinkEvent) -> dict[str, Any]:
    """The API shape of a link event."""
    return {
        "id": event.id,
        "kind": event.kind,
        "keep_person_id": event.keep_person_id,
        "other_person_id": event.other_person_id,
        "moved": json.loads(event.moved),
        "reason": event.reason,
        "forced": event.forced,
        "actor": event.actor_name,
        "at": event.at,
        "undoes_id": event.undoes_id,
        "undone_by": event.undone_by,
    }


def get_event(session: Session, ctx: Context, event_id: int) -> dict[str, Any]:
    """A merge or split as recorded."""
    ctx.actor.ensure("person.link")
    event = _event_in_scope(session, ctx, event_id)
    registry.log(
        ctx, session, [audit.Event("mpi.event_read", "person_link_event", event.id, event.keep_person_id)]
    )
    return event_view(event)


# ---- dedupe over the register ----------------------------------------------------------------------------------


@dataclass
class LinkReport:
    """What `liangshi link persons` found."""

    persons: int
    pairs: int
    queued: int
    already_queued: int


def link_persons(
    session: Session, ctx: Context, *, county: str | None = None, progress: Any = None, batch: int = 10000
) -> LinkReport:
    """Match the register's own persons against each other and queue every pair at or above the review
    threshold (likely and uncertain duplicates) for a decision; nothing is merged without one. Pairs already
    pending or judged distinct are not queued again."""
    from liangshi.linkage import api as linkage

    ctx.actor.ensure("person.link")
    ids = all_person_ids(session, ctx, county)
    rows: dict[int, MasterRow] = {}
    for chunk in _chunks(ids, 20000):
        rows.update(master_rows(session, chunk))
    records = master_records(rows.values())
    found: dict[tuple[int, int], Candidate] = {}
    done = 0
    master: Any = records
    if len(records) > batch:
        # Normalise the register once, not once per chunk (the engine's documented fast path).
        from liangshi.linkage.master import prepare_master

        master = prepare_master(records, today=ctx.today)
    for chunk in _chunks(records, batch):
        matches = (
            linkage.match_against_master(list(chunk), master, top=4, today=ctx.today)
            if len(records) > 1
            else {}
        )
        for rec in chunk:
            me = int(rec.person_id or 0)
            for cand in matches.get(rec.record_id, []):
                other = int(cand.person_id)
                if other != me:
                    found.setdefault((min(me, other), max(me, other)), cand)
        done += len(chunk)
        if progress is not None:
            progress(done, len(records))
    existing = {
        (min(int(a or 0), b), max(int(a or 0), b))
        for a, b in session.execute(
            select(MatchReview.left_person_id, MatchReview.candidate_person_id).where(
                MatchReview.left_person_id.is_not(None),
                or_(MatchReview.status == rules.PENDING, MatchReview.status == rules.DISTINCT),
            )
        )
    }
    reviews = []
    for (keep, other), cand in sorted(found.items()):
        if (keep, other) in existing:
            continue
        reviews.append(
            MatchReview(
                left_person_id=other,
                candidate_person_id=keep,
                probability=float(cand.probability),
                weight=float(cand.weight),
                evidence=json.dumps(_evidence_json(cand.evidence), ensure_ascii=False),
                status=rules.PENDING,
                area_id=rows[keep].area_id,
                county_code=rows[keep].county_code,
                created_at=ctx.now,
            )
        )
    session.add_all(reviews)
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "mpi.review_queued",
                "match_review",
                r.id,
                r.candidate_person_id,
                {"probability": r.probability},
            )
            for r in reviews
        ],
    )
    return LinkReport(len(ids), len(found), len(reviews), len(found) - len(reviews))
