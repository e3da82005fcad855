"""Person, document, household and membership use cases."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from liangshi import registry
from liangshi.access import service as access
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings.models import DWELLING
from liangshi.common.idnumber import (
    check_id_number,
    mask_id_number,
    mask_id_numbers_in,
    normalize_id_text,
)
from liangshi.common.phone import normalize_phone
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.exchange.models import ImportAuditEntry
from liangshi.persons import rules
from liangshi.persons.models import DOCUMENT as DOCUMENT
from liangshi.persons.models import HOUSEHOLD as HOUSEHOLD
from liangshi.persons.models import MEMBERSHIP as MEMBERSHIP
from liangshi.persons.models import PERSON as PERSON
from liangshi.persons.models import (
    Document,
    DocumentVersion,
    Household,
    HouseholdVersion,
    Membership,
    MembershipVersion,
    Person,
    PersonVersion,
)
from liangshi.persons.rules import HEAD, birth_date_from_id, check_document_agrees
from liangshi.persons.schemas import (
    DocumentAdd,
    DocumentIn,
    HouseholdCreate,
    MemberAdd,
    MemberEnd,
    PersonCreate,
)
from liangshi.registry import Context, Page, Snapshot, history
from liangshi.rentals.models import RentalTenant
from liangshi.residence.models import Residence
from liangshi.sealed import key_for, session_keyring
from liangshi.venues.models import Stay


def _document_holder(session: Session, doc_type: str, number: str, country: str) -> int | None:
    v = DocumentVersion
    row = session.execute(
        select(Document.person_id)
        .join(v, v.entity_id == Document.id)
        .where(
            v.doc_type == doc_type,
            v.number_idx == key_for(session, v.number, number),
            v.country == country,
            v.superseded_at.is_(None),
            v.valid_to.is_(None),
        )
    ).first()
    return int(row[0]) if row else None


def _document_taken() -> Conflict:
    # Do not say who holds it: that person may be outside the caller's jurisdiction.
    return Conflict(
        "person.document_taken",
        "该证件号码已登记在另一人员名下",
        "This document number is already registered to another person",
        {"field": "documents"},
    )


def _add_documents(
    session: Session,
    ctx: Context,
    person: Person,
    docs: Sequence[DocumentIn],
    attrs: dict[str, Any],
    valid_from: dt.date | None,
    prov: Any,
) -> None:
    for doc in docs:
        entity = Document(person_id=person.id, area_id=person.area_id, county_code=person.county_code)
        registry.create(
            session,
            ctx,
            DOCUMENT,
            entity,
            document_attributes(session, ctx, doc, attrs),
            valid_from=valid_from,
            prov=prov,
        )


def document_attributes(
    session: Session, ctx: Context, doc: DocumentIn, attrs: dict[str, Any]
) -> dict[str, Any]:
    """A new document's version attributes for a person with these attributes, after the checks a document added
    to them meets: it agrees with their birth date and sex (422), and nobody holds it yet (409
    `person.document_taken`)."""
    country = doc.country or ("CHN" if doc.doc_type == "resident_id" else attrs.get("nationality") or "CHN")
    check_document_agrees(
        doc.doc_type, doc.number, birth_date=attrs.get("birth_date"), sex=attrs["sex"], today=ctx.today
    )
    if _document_holder(session, doc.doc_type, doc.number, country) is not None:
        raise _document_taken()
    return {"doc_type": doc.doc_type, "number": doc.number, "country": country}


def create_person(session: Session, ctx: Context, data: PersonCreate) -> Snapshot:
    """Register a person with their documents; the ID number fills a missing birth date."""
    ctx.actor.ensure("person.write")
    area = registry.ensure_area_in_scope(session, ctx, data.area_id)
    attrs = data.model_dump(include=set(PERSON.attributes))
    if attrs["birth_date"] is None:
        for doc in data.documents:
            attrs["birth_date"] = attrs["birth_date"] or birth_date_from_id(
                doc.doc_type, doc.number, ctx.today
            )
    seen = {(d.doc_type, d.number) for d in data.documents}
    if len(seen) != len(data.documents):
        raise ValidationFailed(
            "person.document_repeated", "证件重复填写", "A document is listed twice", {"field": "documents"}
        )
    person = Person(area_id=area.id, county_code=area.county_code)
    prov = data.provenance.to_domain(ctx.actor.username)
    snap = registry.create(session, ctx, PERSON, person, attrs, valid_from=data.valid_from, prov=prov)
    _add_documents(session, ctx, person, data.documents, attrs, data.valid_from, prov)
    return snap


def person_check(session: Session, ctx: Context) -> Any:
    """On change or correction, the person must still agree with their ID documents."""

    def check(person: Any, attrs: dict[str, Any]) -> None:
        for doc in current_documents(session, person.id):
            check_document_agrees(
                doc.doc_type, doc.number, birth_date=attrs["birth_date"], sex=attrs["sex"], today=ctx.today
            )

    return check


def add_document(session: Session, ctx: Context, person_id: int, data: DocumentAdd) -> Snapshot:
    """Add an identity document to a person (e.g. a new permanent residence card)."""
    ctx.actor.ensure("person.write")
    person = registry.get_entity(session, PERSON, person_id, ctx.actor, write=True)
    history.bump_version(session, PERSON, person.id, data.expected_version)
    row = history.latest_row(session, PERSON, person.id)
    _add_documents(
        session,
        ctx,
        person,
        [data],
        history.attributes_of(PERSON, row),
        data.valid_from,
        data.provenance.to_domain(ctx.actor.username),
    )
    return registry.snapshot(session, PERSON, person, today=ctx.today)


def current_documents(session: Session, person_id: int) -> list[DocumentVersion]:
    """A person's current documents."""
    return list(session.execute(_current_documents_stmt(), {"person_id": person_id}).scalars())


@cache
def _current_documents_stmt() -> Any:
    # Built once (issue 19: on every 查人知住 and 查房知人 building the statement cost more than running it).
    v = DocumentVersion
    return (
        select(v)
        .join(Document, Document.id == v.entity_id)
        .where(Document.person_id == bindparam("person_id"), v.superseded_at.is_(None), v.valid_to.is_(None))
        .order_by(v.entity_id)
    )


def first_documents(session: Session, person_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each person's first current document (by document id), masked: what the lists show beside a name."""
    if not person_ids:
        return {}
    v = DocumentVersion
    rows = session.execute(
        select(Document.person_id, v.doc_type, v.number)
        .join(v, v.entity_id == Document.id)
        .where(Document.person_id.in_(set(person_ids)), v.superseded_at.is_(None), v.valid_to.is_(None))
        .order_by(Document.id)
    ).all()
    out: dict[int, dict[str, Any]] = {}
    for pid, doc_type, number in rows:
        out.setdefault(int(pid), {"doc_type": doc_type, "number": mask_id_number(number), "masked": True})
    return out


def documents_view(
    session: Session, ctx: Context, person_id: int, *, unmask_reason: str | None
) -> list[dict[str, Any]]:
    """Documents as shown to the caller: masked unless their role may unmask and they gave a reason."""
    docs = current_documents(session, person_id)
    unmask = unmask_reason is not None
    if unmask:
        ctx.actor.ensure("person.unmask")
        registry.log(
            ctx,
            session,
            [audit.Event("person.unmask", "person", person_id, person_id, {"reason": unmask_reason})],
        )
    return [
        {
            "id": d.entity_id,
            "doc_type": d.doc_type,
            "country": d.country,
            "number": d.number if unmask else mask_id_number(d.number),
            "masked": not unmask,
        }
        for d in docs
    ]


def access_log(
    session: Session, ctx: Context, person_id: int, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The person's right to know: who read or changed their data, when and why, newest first (audited).

    Besides the entries that name the person, the entries in which an import chunk created the person or their
    documents, residences … (one entry per table per chunk, naming no single person).
    """
    ctx.actor.ensure("person.access_log")
    registry.get_entity(session, PERSON, person_id, ctx.actor)
    imported = import_entries_of_person(session, person_id)
    rows, total = audit.access_log(session, person_id, limit=limit, offset=offset, also=imported)
    registry.log(ctx, session, [audit.Event("person.access_log", "person", person_id, None)])
    # Each entry with its inclusion proof under the latest signed tree head (none yet: sequenced within a second).
    head = audit.latest_head(session)
    indexes = [row.leaf_index for row in rows if row.leaf_index is not None]
    proofs = audit.inclusion_proofs(session, indexes, head.tree_size) if head else {}
    views = [
        access_view(row, head, None if row.leaf_index is None else proofs.get(row.leaf_index)) for row in rows
    ]
    return views, total


# The kinds an import audits in chunks that are a person's data: their id column and their person column.
PERSONAL_OBJECTS: dict[str, tuple[Any, Any]] = {
    "person": (Person.id, Person.id),
    "document": (Document.id, Document.person_id),
    "membership": (Membership.id, Membership.person_id),
    "residence": (Residence.id, Residence.person_id),
    "rental_tenant": (RentalTenant.id, RentalTenant.person_id),
    "stay": (Stay.id, Stay.person_id),
}


def import_entries_of_person(session: Session, person_id: int) -> list[int]:
    """The import chunks' audit entries (seqs) that created this person or their documents, residences ….

    A chunk's entry names no single person (one entry per table per chunk, detail "ids"). The batch's index rows
    give the entries of a kind in PERSONAL_OBJECTS whose id range holds one of the person's objects; each
    candidate's own id list decides. The import writes nothing per person for this, one index row per entry.
    """
    index = ImportAuditEntry
    candidates = []
    for kind, (id_column, person_column) in PERSONAL_OBJECTS.items():
        candidates.append(
            select(index.seq, id_column.label("object_id"))
            .join(id_column.table, and_(id_column >= index.first_id, id_column <= index.last_id))
            .where(index.object_kind == kind, person_column == person_id)
        )
    wanted: dict[int, set[int]] = {}
    for seq, object_id in session.execute(union_all(*candidates)).all():
        wanted.setdefault(seq, set()).add(object_id)
    if not wanted:
        return []
    details = audit.details_of(session, wanted)
    return sorted(seq for seq, ids in wanted.items() if ids & set(details.get(seq, {}).get("ids", ())))


def access_view(entry: Any, head: audit.Head | None = None, proof: list[str] | None = None) -> dict[str, Any]:
    """One access-log entry as shown: who, when, what (action, object, import batch) and why, ID numbers masked;
    with its place in the audit tree and its inclusion proof under `head` when there is one."""
    detail = json.loads(entry.detail) if entry.detail else {}
    reason = detail.get("reason") if isinstance(detail, dict) else None
    batch = detail.get("batch") if isinstance(detail, dict) and entry.object_id is None else None
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": entry.actor_name,
        "action": entry.action,
        "action_label": audit.labels(entry.action),
        "object_kind": entry.object_kind,
        "object_id": entry.object_id,
        "import_batch": batch if isinstance(batch, int) else None,
        "purpose": mask_id_numbers_in(entry.purpose) if entry.purpose else None,
        "reason": mask_id_numbers_in(str(reason)) if reason else None,
        "leaf_index": entry.leaf_index,
        "leaf_hash": entry.leaf_hash,
        "tree_size": head.tree_size if head and proof is not None else None,
        "inclusion_proof": proof,
        "proven": audit.proven(entry, head, proof),
    }


def names_on(session: Session, person_ids: Sequence[int], on: dt.date) -> dict[int, str]:
    """Each person's name as valid on a date, else as last known (records often start after the facts)."""
    ids = set(person_ids)
    rows = session.execute(_names_stmt(), {"ids": list(ids)}).all() if ids else []
    names: dict[int, str] = {}
    for pid, name, start, end in rows:
        if pid not in names or (start <= on and (end is None or end > on)):
            names[int(pid)] = name
    return names


@cache
def _names_stmt() -> Any:
    v = PersonVersion
    return (
        select(v.entity_id, v.name, v.valid_from, v.valid_to)
        .where(v.entity_id.in_(bindparam("ids", expanding=True)), v.superseded_at.is_(None))
        .order_by(v.valid_from)
    )


def document_query(number: str, today: dt.date) -> str:
    """A document number as stored: normalised, and an old 15-digit ID number upgraded to 18 digits."""
    value = normalize_id_text(number)
    if len(value) == 15 and value.isdigit():
        value = check_id_number(value, today=today).normalized or value
    return value


def phone_query(text: str) -> str:
    """A phone number as stored (E.164) when it is one, else the text as typed."""
    try:
        return normalize_phone(text)
    except ValidationFailed:
        return text.strip()


def person_by_document(session: Session, ctx: Context, number: str) -> Person | None:
    """The person (identity row) in the caller's jurisdiction holding a document number (any type), or None: the
    row `registry.get_entity` returns, read with the same scope, so that a caller need not read it again."""
    value = document_query(number, ctx.today)
    key = key_for(session, DocumentVersion.number, value)
    for (pid,) in session.execute(_holders_stmt(), {"number_idx": key}).all():
        person: Person | None = session.execute(
            registry.scoped_by_id(PERSON, ctx.actor), {"entity_id": pid}
        ).scalar_one_or_none()
        if person is not None:
            return person
    return None


@cache
def _holders_stmt() -> Any:
    # The persons holding a current document of that number, built once (issue 19).
    v = DocumentVersion
    return (
        select(Document.person_id)
        .join(v, v.entity_id == Document.id)
        .where(v.number_idx == bindparam("number_idx"), v.superseded_at.is_(None), v.valid_to.is_(None))
    )


def person_id_by_document(session: Session, ctx: Context, number: str) -> int | None:
    """The person in the caller's jurisdiction holding a document number (any type), or None."""
    person = person_by_document(session, ctx, number)
    return None if person is None else int(person.id)


def _key_prefix(session: Session, column: Any, key: str) -> ColumnElement[bool]:
    """A prefix match on a pinyin key ([a-z0-9] only) that the column's index can serve.

    SQLite's LIKE is case-insensitive and cannot use a BINARY index; GLOB is case-sensitive and can. PostgreSQL's
    LIKE uses the varchar_pattern_ops index. The key has no wildcard characters, so neither needs escaping.
    """
    if session.get_bind().dialect.name == "sqlite":
        return column.op("GLOB")(key + "*")  # type: ignore[no-any-return]
    return column.like(key + "%")  # type: ignore[no-any-return]


def key_prefix(session: Session, column: Any, key: str) -> ColumnElement[bool]:
    """A prefix match on a pinyin key column that its index serves (for searches built elsewhere: mpi)."""
    return _key_prefix(session, column, key)


def _name_prefix(session: Session, column: Any, text: str) -> ColumnElement[bool]:
    """A name prefix match that the name index can serve (GLOB on SQLite when the text has no GLOB characters)."""
    if session.get_bind().dialect.name == "sqlite" and not any(c in text for c in "*?[]"):
        return column.op("GLOB")(text + "*")  # type: ignore[no-any-return]
    return column.startswith(text, autoescape=True)  # type: ignore[no-any-return]


def search_persons(
    session: Session,
    ctx: Context,
    *,
    name: str | None,
    id_number: str | None,
    phone: str | None,
    area_id: int | None,
    offset: int,
    limit: int,
) -> Page:
    """Find persons in the caller's jurisdiction by name prefix (or pinyin/initials), document, phone or area."""
    v = PersonVersion
    where: list[Any] = []
    if name:
        key = rules.search_key(name)
        if key is None:
            where.append(_name_prefix(session, v.name, name))
        else:
            # Letters only: also pinyin (zhangsan, zhangs) or initials (zs) of Chinese names.
            where.append(
                or_(
                    _name_prefix(session, v.name, name),
                    _key_prefix(session, v.name_pinyin, key),
                    _key_prefix(session, v.name_initials, key),
                )
            )
    if phone:
        # Encrypted at rest: compared through the keyed-hash index (docs/encryption.md).
        where.append(v.phone_idx == session_keyring(session).index("person.phone", phone_query(phone)))
    if id_number:
        value = document_query(id_number, ctx.today)
        dv = DocumentVersion
        where.append(
            exists(
                select(Document.id)
                .join(dv, dv.entity_id == Document.id)
                .where(
                    Document.person_id == Person.id,
                    dv.number_idx == key_for(session, dv.number, value),
                    dv.superseded_at.is_(None),
                    dv.valid_to.is_(None),
                )
            )
        )
    if area_id is not None:
        where.append(Person.area_id.in_(select(Area.id).where(Area.path.like(f"%/{int(area_id)}/%"))))
    return registry.search(session, ctx, PERSON, where=where, offset=offset, limit=limit)


# ---- households -----------------------------------------------------------------------------------------------


def _open_memberships(session: Session, *conds: Any) -> list[tuple[Membership, MembershipVersion]]:
    v = MembershipVersion
    rows = session.execute(
        select(Membership, v)
        .join(v, and_(v.entity_id == Membership.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
        .where(*conds)
    )
    return [(m, r) for m, r in rows]


def _check_member(
    session: Session, ctx: Context, household: Household, person_id: int, relationship: str
) -> None:
    registry.get_entity(session, PERSON, person_id, ctx.actor)
    members = _open_memberships(session, Membership.household_id == household.id)
    if any(m.person_id == person_id for m, _ in members):
        raise Conflict(
            "household.already_member",
            "该人员已是本户成员",
            "The person is already a member",
            {"field": "person_id"},
        )
    if relationship == HEAD and any(r.relationship == HEAD for _, r in members):
        raise Conflict(
            "household.head_exists",
            "本户已有户主",
            "The household already has a head",
            {"field": "relationship"},
        )
    if household.household_kind == "registered":
        others = _open_memberships(
            session,
            Membership.person_id == person_id,
            Membership.household_id.in_(select(Household.id).where(Household.household_kind == "registered")),
        )
        if others:
            raise Conflict(
                "household.registered_elsewhere",
                "该人员已在另一户籍户中",
                "The person already belongs to another registered household",
                {"field": "person_id"},
            )


def check_new_member(
    session: Session, ctx: Context, household: Household, person_id: int | None, relationship: str
) -> None:
    """The checks a new member meets (already a member, a second head, a second registered household), for a
    membership proposed for review; a person not yet in the register (`None`) is only checked for the head."""
    if person_id is not None:
        _check_member(session, ctx, household, person_id, relationship)
        return
    members = _open_memberships(session, Membership.household_id == household.id)
    if relationship == HEAD and any(r.relationship == HEAD for _, r in members):
        raise Conflict(
            "household.head_exists",
            "本户已有户主",
            "The household already has a head",
            {"field": "relationship"},
        )


def check_new_household(session: Session, ctx: Context, data: HouseholdCreate) -> None:
    """The checks a new household's members meet, for a household proposed for review (as `create_household`
    checks them one by one): each person once, at most one head, none already in a registered household when
    it is registered."""
    household = Household(household_kind=data.household_kind)
    seen: set[int] = set()
    for n, member in enumerate(data.members):
        if member.person_id in seen:
            raise Conflict(
                "household.already_member",
                "该人员已是本户成员",
                "The person is already a member",
                {"field": f"members.{n}.person_id"},
            )
        if member.relationship == HEAD and any(m.relationship == HEAD for m in data.members[:n]):
            raise Conflict(
                "household.head_exists",
                "本户已有户主",
                "The household already has a head",
                {"field": f"members.{n}.relationship"},
            )
        seen.add(member.person_id)
        _check_member(session, ctx, household, member.person_id, member.relationship)


def _add_member(
    session: Session,
    ctx: Context,
    household: Household,
    person_id: int,
    relationship: str,
    valid_from: dt.date | None,
    prov: Any,
) -> None:
    _check_member(session, ctx, household, person_id, relationship)
    membership = Membership(
        household_id=household.id,
        person_id=person_id,
        area_id=household.area_id,
        county_code=household.county_code,
    )
    registry.create(
        session, ctx, MEMBERSHIP, membership, {"relationship": relationship}, valid_from=valid_from, prov=prov
    )


def create_household(session: Session, ctx: Context, data: HouseholdCreate) -> Snapshot:
    """Create a household with its members (at most one head, relationships by GB/T 4761)."""
    ctx.actor.ensure("household.write")
    area = registry.ensure_area_in_scope(session, ctx, data.area_id)
    if data.dwelling_id is not None:
        registry.get_entity(session, DWELLING, data.dwelling_id, ctx.actor)
    household = Household(household_kind=data.household_kind, area_id=area.id, county_code=area.county_code)
    prov = data.provenance.to_domain(ctx.actor.username)
    snap = registry.create(
        session,
        ctx,
        HOUSEHOLD,
        household,
        {"dwelling_id": data.dwelling_id, "household_number": data.household_number},
        valid_from=data.valid_from,
        prov=prov,
    )
    for member in data.members:
        _add_member(session, ctx, household, member.person_id, member.relationship, data.valid_from, prov)
    return snap


def add_member(session: Session, ctx: Context, household_id: int, data: MemberAdd) -> Snapshot:
    """Add a member; a stale expected version (someone else edited the household) is refused."""
    ctx.actor.ensure("household.write")
    household = registry.get_entity(session, HOUSEHOLD, household_id, ctx.actor, write=True)
    history.bump_version(session, HOUSEHOLD, household.id, data.expected_version)
    _add_member(
        session,
        ctx,
        household,
        data.person_id,
        data.relationship,
        data.effective,
        data.provenance.to_domain(ctx.actor.username),
    )
    return registry.snapshot(session, HOUSEHOLD, household, today=ctx.today)


def end_member(
    session: Session, ctx: Context, household_id: int, membership_id: int, data: MemberEnd
) -> Snapshot:
    """End a membership from a date (moved out, died, split off)."""
    ctx.actor.ensure("household.write")
    household = registry.get_entity(session, HOUSEHOLD, household_id, ctx.actor, write=True)
    history.bump_version(session, HOUSEHOLD, household.id, data.expected_version)
    membership = session.get(Membership, membership_id)
    if membership is None or membership.household_id != household.id:
        raise history.not_found(MEMBERSHIP, membership_id)
    membership_id, person_id, expected = membership.id, membership.person_id, membership.version
    current = registry.open_versions(session, MEMBERSHIP, [membership_id])[membership_id]
    registry.retire_many(
        session,
        ctx,
        [registry.Retirement(MEMBERSHIP, current, data.effective or ctx.today, expected_version=expected)],
        prov=data.provenance.to_domain(ctx.actor.username),
        reason=data.reason,
        permissions=("household.write",),
        events=[
            audit.Event(
                "membership.retire",
                "membership",
                membership_id,
                person_id,
                {"household_id": household.id, "reason": data.reason},
            )
        ],
    )
    return registry.snapshot(session, HOUSEHOLD, household, today=ctx.today)


def members_view(session: Session, ctx: Context, household_id: int, on: dt.date) -> list[dict[str, Any]]:
    """Members of a household valid on a date, with names (a read of each member's data, audited)."""
    mv = MembershipVersion
    rows = session.execute(
        select(Membership, mv)
        .join(mv, mv.entity_id == Membership.id)
        .where(Membership.household_id == household_id, mv.superseded_at.is_(None), history.valid_on(mv, on))
        .order_by(mv.relationship, Membership.id)
    ).all()
    names = names_on(session, [m.person_id for m, _ in rows], on)
    result: list[dict[str, Any]] = [
        {
            "membership_id": m.id,
            "person_id": m.person_id,
            "name": names.get(m.person_id),
            "relationship": r.relationship,
            "since": r.valid_from.isoformat(),
        }
        for m, r in rows
    ]
    registry.log(
        ctx,
        session,
        [audit.Event("household.member_read", "household", household_id, m["person_id"]) for m in result],
    )
    return result


def households_of(session: Session, ctx: Context, person_id: int, on: dt.date) -> list[dict[str, Any]]:
    """The households a person belongs to on a date: kind, number, dwelling, the person's relationship to the head
    (GB/T 4761) and every member with theirs (the members' names are a read of their data: audited by
    members_view). Households outside the caller's jurisdiction are left out."""
    ctx.actor.ensure("household.read")
    mv = MembershipVersion
    rows = session.execute(
        select(Membership.household_id, mv.relationship)
        .join(mv, mv.entity_id == Membership.id)
        .where(Membership.person_id == person_id, mv.superseded_at.is_(None), history.valid_on(mv, on))
        .order_by(Membership.household_id)
    ).all()
    result: list[dict[str, Any]] = []
    for household_id, relationship in rows:
        try:
            snap = registry.snapshot(
                session,
                HOUSEHOLD,
                registry.get_entity(session, HOUSEHOLD, int(household_id), ctx.actor),
                on=on,
                today=ctx.today,
            )
        except NotFound:
            continue
        attrs = snap.attributes() if snap.row is not None else {}
        result.append(
            {
                "household_id": int(household_id),
                "household_kind": snap.entity.household_kind,
                "household_number": attrs.get("household_number"),
                "dwelling_id": attrs.get("dwelling_id"),
                "relationship": relationship,
                "members": members_view(session, ctx, int(household_id), on),
            }
        )
    return result


def households_at_dwelling(
    session: Session, ctx: Context, dwelling_id: int, on: dt.date
) -> list[dict[str, Any]]:
    """The households living at a dwelling on a date, each with its version, head and member count (to join one)."""
    ctx.actor.ensure("household.read")
    registry.get_entity(session, DWELLING, dwelling_id, ctx.actor)
    hv, mv = HouseholdVersion, MembershipVersion
    households = session.execute(
        select(Household)
        .join(hv, hv.entity_id == Household.id)
        .where(hv.dwelling_id == dwelling_id, hv.superseded_at.is_(None), history.valid_on(hv, on))
        .order_by(Household.id)
    ).scalars()
    result: list[dict[str, Any]] = []
    events: list[audit.Event] = []
    for household in households:
        members = session.execute(
            select(Membership.person_id, mv.relationship)
            .join(mv, mv.entity_id == Membership.id)
            .where(
                Membership.household_id == household.id, mv.superseded_at.is_(None), history.valid_on(mv, on)
            )
        ).all()
        heads = [int(p) for p, r in members if r == HEAD]
        head_name = names_on(session, heads[:1], on).get(heads[0]) if heads else None
        result.append(
            {
                "household_id": household.id,
                "version": household.version,
                "head": head_name,
                "members": len(members),
            }
        )
        if heads:
            # The head's name is personal data: its read is logged as a member read.
            events.append(audit.Event("household.member_read", "household", household.id, heads[0]))
    registry.log(ctx, session, events)
    return result


def provenance_of(session: Session, ctx: Context, person_id: int) -> dict[str, dict[str, Any]]:
    """Where each current value comes from: the version that set it (source, collector, date), audited.

    Walks the current knowledge (rows not superseded) in valid-time order; a value's provenance is the row where
    it last changed, so a correction or a change names who made it and an unchanged value keeps its first source.
    """
    _entity, rows = registry.versions(session, ctx, PERSON, person_id)
    by_id = {r.row_id: r for r in rows}

    def source(row: Any, name: str) -> Any:
        # A correction rewrites the whole row: a value it did not change still comes from the row it corrects.
        seen = 0
        while row.change == "correct" and row.corrects_row_id in by_id and seen < 1000:
            earlier = by_id[row.corrects_row_id]
            if getattr(earlier, name) != getattr(row, name):
                break
            row, seen = earlier, seen + 1
        return row

    known = sorted((r for r in rows if r.superseded_at is None), key=lambda r: (r.valid_from, r.row_id))
    origin: dict[str, Any] = {}
    previous: dict[str, Any] = {}
    for row in known:
        for name in PERSON.attributes:
            value = getattr(row, name)
            if name not in origin or previous.get(name) != value:
                origin[name] = source(row, name)
            previous[name] = value
    names = access.usernames(session, {r.actor_id for r in origin.values() if r.actor_id is not None})
    return {
        name: {
            "source_kind": row.source_kind,
            "source_ref": row.source_ref,
            "evidence": row.evidence,
            "document_ref": row.document_ref,
            "actor": names.get(row.actor_id) if row.actor_id is not None else None,
            "recorded_at": row.recorded_at,
            "valid_from": row.valid_from,
            "change": row.change,
            "reason": row.reason,
        }
        for name, row in origin.items()
    }
