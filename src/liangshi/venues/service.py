"""Venue use cases: register venues, issue and revoke their keys, take stays in bulk, follow-ups, retention.

A venue (hotel, internet café) is a registered object on a door plate. Its front-desk system posts check-ins and
check-outs with a key of its own (`vk_…`, stored as a SHA-256 only); the audit actor of those writes is the
synthetic `venue:<id>`, scoped to the venue's area. Each check-in is matched to a person by document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from sqlalchemy import Table, and_, bindparam, case, delete, func, literal_column, or_, select, text, update
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.access.rules import Actor
from liangshi.addresses import service as addresses
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.bulk import is_postgres
from liangshi.clock import CHINA_TZ
from liangshi.common.idnumber import check_document, mask_id_number, normalize_country
from liangshi.common.text import clean_person_name
from liangshi.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Document, DocumentVersion
from liangshi.registry import Context, Snapshot, history
from liangshi.registry.records import create_records
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.sealed import keys_for
from liangshi.venues import rules
from liangshi.venues.models import VENUE as VENUE
from liangshi.venues.models import Stay, StayBatch, Venue, VenueKey, VenueVersion
from liangshi.venues.schemas import KeyIn, StayItem, VenueCreate

FOLLOWUP_WINDOW = dt.timedelta(days=30)


# ---- venues and keys -----------------------------------------------------------------------------------------


def status_of(session: Session, venue_id: int) -> str:
    """The venue's status now: its open version's, else closed (retired)."""
    row = history.open_row(session, VENUE, venue_id)
    return str(row.status) if row is not None else "closed"


def register_venue(session: Session, ctx: Context, data: VenueCreate) -> Snapshot:
    """Register a venue on a plate in the caller's jurisdiction (station admins and above)."""
    ctx.actor.ensure("venue.write")
    plate = registry.get_entity(session, addresses.ADDRESS, data.address_id, ctx.actor, write=True)
    if history.open_row(session, addresses.ADDRESS, plate.id) is None:
        raise NotFound(
            "venue.address_retired",
            "该门牌已注销",
            "The door plate is retired",
            {"field": "address_id", "id": plate.id},
        )
    venue = Venue(
        venue_kind=data.venue_kind, address_id=plate.id, area_id=plate.area_id, county_code=plate.county_code
    )
    return registry.create(
        session,
        ctx,
        VENUE,
        venue,
        data.model_dump(include=set(VENUE.attributes)),
        valid_from=None,
        prov=data.provenance.to_domain(ctx.actor.username),
    )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _key_view(key: VenueKey) -> dict[str, Any]:
    return {
        "key_id": key.id,
        "venue_id": key.venue_id,
        "prefix": key.prefix,
        "name": key.name,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


def issue_key(session: Session, ctx: Context, venue_id: int, data: KeyIn) -> dict[str, Any]:
    """A new API key for a venue; the clear key is in this answer only, the registry keeps its SHA-256."""
    ctx.actor.ensure("venue.write")
    venue = registry.get_entity(session, VENUE, venue_id, ctx.actor, write=True)
    clear = rules.KEY_PREFIX + secrets.token_urlsafe(32)
    key = VenueKey(
        venue_id=venue.id,
        key_hash=_digest(clear),
        prefix=clear[:10],
        name=data.name,
        created_at=ctx.now,
        created_by=ctx.actor.user_id,
    )
    session.add(key)
    session.flush()
    registry.log(ctx, session, [audit.Event("venue.key_issue", "venue", venue.id, None, {"key_id": key.id})])
    return {**_key_view(key), "key": clear}


def list_keys(session: Session, ctx: Context, venue_id: int) -> list[dict[str, Any]]:
    """A venue's keys (never the keys themselves)."""
    ctx.actor.ensure("venue.write")
    venue = registry.get_entity(session, VENUE, venue_id, ctx.actor, write=True)
    keys = session.execute(select(VenueKey).where(VenueKey.venue_id == venue.id).order_by(VenueKey.id))
    return [_key_view(k) for k in keys.scalars()]


def revoke_key(session: Session, ctx: Context, venue_id: int, key_id: int) -> dict[str, Any]:
    """Revoke a venue key: from now on it authenticates nothing (revoking twice changes nothing)."""
    ctx.actor.ensure("venue.write")
    venue = registry.get_entity(session, VENUE, venue_id, ctx.actor, write=True)
    key = session.get(VenueKey, key_id)
    if key is None or key.venue_id != venue.id:
        raise NotFound(
            "venue_key.not_found", "未找到该密钥", "Key not found", {"field": "key_id", "id": key_id}
        )
    if key.revoked_at is None:
        key.revoked_at = ctx.now
        session.flush()
        registry.log(
            ctx, session, [audit.Event("venue.key_revoke", "venue", venue.id, None, {"key_id": key.id})]
        )
    return _key_view(key)


def venue_context(
    session: Session, key: str, venue_id: int, *, now: dt.datetime, today: dt.date
) -> tuple[Context, Venue]:
    """Authenticate a venue key for posting to a venue: 401 bad key, 404 no venue, 403 another venue, 409 closed."""
    if not key.startswith(rules.KEY_PREFIX):
        raise Unauthenticated("venue.key_required", "请使用场所密钥", "A venue key is required")
    row = session.execute(select(VenueKey).where(VenueKey.key_hash == _digest(key))).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("venue.key_invalid", "场所密钥无效或已吊销", "Invalid or revoked venue key")
    venue = session.get(Venue, venue_id)
    if venue is None:
        raise history.not_found(VENUE, venue_id)
    if row.venue_id != venue.id:
        raise Forbidden(
            "venue.key_other_venue",
            "该密钥属于另一场所",
            "The key belongs to another venue",
            {"venue_id": venue_id},
        )
    rules.ensure_open(status_of(session, venue.id))
    area = session.get(Area, venue.area_id)
    assert area is not None
    actor = Actor(
        user_id=None,
        username=f"venue:{venue.id}",
        role="venue",
        area_id=area.id,
        area_path=area.path,
        county_code=venue.county_code,
    )
    return Context(actor=actor, now=now, today=today, purpose="venue registration"), venue


# ---- stays ---------------------------------------------------------------------------------------------------


@dataclass
class _Open:
    """A stay known in this batch: already stored (`stay_id`) or about to be inserted (`row`)."""

    check_in_at: dt.datetime
    check_out_at: dt.datetime | None
    person_id: int | None
    stay_id: int | None = None
    row: dict[str, Any] | None = None


def _outcome(
    ref: str, status: str, *, code: str | None = None, person_id: int | None = None, flags: Sequence[str] = ()
) -> dict[str, Any]:
    return {"stay_ref": ref, "status": status, "code": code, "person_id": person_id, "flags": list(flags)}


Guest = tuple[str, str, str | None, str]  # document type, normalised number, country, name


def guest_of(item: StayItem, today: dt.date) -> Guest:
    """The guest's document type, normalised number, country and name, or ValidationFailed."""
    guest = item.guest
    if guest is None:
        raise ValidationFailed(
            "stay.guest_required", "入住登记须包含旅客证件", "A check-in needs the guest", {"field": "guest"}
        )
    number = check_document(
        guest.doc_type, guest.number, country=guest.country, today=today, field="guest.number"
    )
    if guest.country:
        country: str | None = normalize_country(guest.country, field="guest.country")
    else:
        country = "CHN" if guest.doc_type == "resident_id" else None
    name = clean_person_name(guest.name, field="guest.name")
    return guest.doc_type, number, country, name


def match_documents(session: Session, numbers: set[str]) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """(doc_type, number) -> [(person_id, country)] of current documents: one query for the whole batch."""
    if not numbers:
        return {}
    dv = DocumentVersion
    found: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for pid, doc_type, number, country in session.execute(
        select(Document.person_id, dv.doc_type, dv.number, dv.country)
        .join(dv, dv.entity_id == Document.id)
        .where(
            dv.number_idx.in_(list(keys_for(session, dv.number, numbers))),
            dv.superseded_at.is_(None),
            dv.valid_to.is_(None),
        )
    ):
        found.setdefault((doc_type, number), []).append((int(pid), country))
    return found


def person_for(
    matches: dict[tuple[str, str], list[tuple[int, str]]], doc_type: str, number: str, country: str | None
) -> int | None:
    """The one person holding the document (a passport also by its country); None if nobody or several do."""
    holders = matches.get((doc_type, number), [])
    if doc_type == "passport":
        holders = [h for h in holders if h[1] == country]
    return holders[0][0] if len(holders) == 1 else None


class VenuePlace(Protocol):
    """What a stay takes from its venue: the venue, its county and area."""

    @property
    def id(self) -> int: ...

    @property
    def county_code(self) -> str: ...

    @property
    def area_id(self) -> int: ...


def stay_row(
    venue: VenuePlace,
    ref: str,
    check_in_at: dt.datetime,
    guest: Guest,
    person_id: int | None,
    received_at: dt.datetime,
) -> tuple[dict[str, Any], list[str]]:
    """A new stay's row (id 0, to be allocated) and its flags: unknown person, foreign guest, late foreign report.

    `received_at` is when the check-in reached the registry: now for a check-in posted by the venue, the reported
    time for one imported from a venue's file.
    """
    doc_type, number, country, name = guest
    foreign = rules.is_foreign(doc_type, country)
    late = rules.is_late_foreign_report(foreign=foreign, check_in_at=check_in_at, received_at=received_at)
    flags = [
        flag
        for flag, on in (
            (rules.FLAG_UNKNOWN, person_id is None),
            (rules.FLAG_FOREIGN, foreign),
            (rules.FLAG_LATE, late),
        )
        if on
    ]
    row = {
        "id": 0,
        "venue_id": venue.id,
        "county_code": venue.county_code,
        "area_id": venue.area_id,
        "stay_ref": ref,
        "doc_type": doc_type,
        "doc_number": number,
        "doc_country": country,
        "guest_name": name,
        "person_id": person_id,
        "check_in_at": check_in_at,
        "check_out_at": None,
        "received_at": received_at,
        "foreign": foreign,
        "late_report": late,
        "unknown_person": person_id is None,
    }
    return row, flags


def record_check_outs(session: Session, check_outs: list[tuple[int, dt.datetime]]) -> None:
    """Set the check-out time of stored stays: (stay id, check-out) pairs, one executemany."""
    if not check_outs:
        return
    table = cast(Table, Stay.__table__)
    session.execute(
        update(table).where(table.c.id == bindparam("sid")).values(check_out_at=bindparam("out")),
        [{"sid": sid, "out": at} for sid, at in check_outs],
    )


def _lock_venue(session: Session, venue_id: int) -> None:
    # One submission per venue at a time (SQLite's BEGIN IMMEDIATE already serialises writers).
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(7400002, :v)"), {"v": venue_id % 2**31})
        # The batch's IN lists must be planned with their values: a generic plan of a prepared statement cannot
        # hash a list of 1,000 parameters and compares each row with every one of them.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def record_stays(
    session: Session, ctx: Context, venue: Venue, items: Sequence[StayItem], *, idempotency_key: str | None
) -> dict[str, Any]:
    """Take a batch of check-ins and check-outs; each item is accepted whole or rejected on its own.

    A batch whose idempotency key was already processed answers the stored summary (`duplicate: true`) and writes
    nothing. Documents are matched in one query, rows inserted in bulk, one audit entry per accepted item.
    """
    _lock_venue(session, venue.id)
    if idempotency_key is not None:
        stored = session.execute(
            select(StayBatch.summary).where(StayBatch.venue_id == venue.id, StayBatch.key == idempotency_key)
        ).scalar_one_or_none()
        if stored is not None:
            return {**json.loads(stored), "duplicate": True}
    now = ctx.now
    refs = {item.stay_ref for item in items}
    known: dict[str, _Open] = {
        ref: _Open(cin, cout, pid, stay_id=sid)
        for sid, ref, cin, cout, pid in session.execute(
            select(Stay.id, Stay.stay_ref, Stay.check_in_at, Stay.check_out_at, Stay.person_id).where(
                Stay.venue_id == venue.id, Stay.stay_ref.in_(refs)
            )
        )
    }
    guests: dict[int, tuple[str, str, str | None, str]] = {}
    outcomes: list[dict[str, Any] | None] = [None] * len(items)
    for i, item in enumerate(items):
        if item.event != "check_in":
            continue
        try:
            guests[i] = guest_of(item, ctx.today)
        except ValidationFailed as exc:
            outcomes[i] = _outcome(item.stay_ref, "rejected", code=exc.code)
    matches = match_documents(session, {g[1] for g in guests.values()})

    new_rows: list[dict[str, Any]] = []
    checkouts: list[tuple[int, dt.datetime]] = []
    events: list[tuple[str, _Open, list[str]]] = []
    for i, item in enumerate(items):
        if outcomes[i] is not None:
            continue
        ref, at = item.stay_ref, item.at.astimezone(dt.UTC)
        current = known.get(ref)
        try:
            rules.check_not_future(at, now=now, field="at")
        except ValidationFailed as exc:
            outcomes[i] = _outcome(ref, "rejected", code=exc.code)
            continue
        if item.event == "check_in":
            if current is not None:
                outcomes[i] = _outcome(ref, "duplicate", person_id=current.person_id)
                continue
            guest = guests[i]
            pid = person_for(matches, guest[0], guest[1], guest[2])
            row, flags = stay_row(venue, ref, at, guest, pid, now)
            new_rows.append(row)
            opened = _Open(at, None, pid, row=row)
            known[ref] = opened
            events.append(("stay.check_in", opened, flags))
            outcomes[i] = _outcome(ref, "accepted", person_id=pid, flags=flags)
        else:
            if current is None:
                outcomes[i] = _outcome(ref, "rejected", code="stay.checkout_without_checkin")
            elif current.check_out_at is not None:
                outcomes[i] = _outcome(ref, "duplicate", person_id=current.person_id)
            else:
                try:
                    rules.check_check_out(check_in_at=current.check_in_at, check_out_at=at, field="at")
                except ValidationFailed as exc:
                    outcomes[i] = _outcome(ref, "rejected", code=exc.code)
                    continue
                current.check_out_at = at
                if current.row is not None:
                    current.row["check_out_at"] = at
                else:
                    assert current.stay_id is not None
                    checkouts.append((current.stay_id, at))
                events.append(("stay.check_out", current, []))
                outcomes[i] = _outcome(ref, "accepted", person_id=current.person_id)

    # The venue's key authorised this writer (venue_context); its entries are per stay, below.
    create_records(session, ctx, "stay", Stay, new_rows, permission=None, audit_mode=None)
    record_check_outs(session, checkouts)
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                action,
                "stay",
                opened.stay_id if opened.row is None else opened.row["id"],
                opened.person_id,
                {"venue_id": venue.id, "flags": flags} if flags else {"venue_id": venue.id},
            )
            for action, opened, flags in events
        ],
    )
    done = [o for o in outcomes if o is not None]
    summary: dict[str, Any] = {
        "venue_id": venue.id,
        "received_at": now.isoformat(),
        "idempotency_key": idempotency_key,
        "accepted": sum(o["status"] == "accepted" for o in done),
        "rejected": sum(o["status"] == "rejected" for o in done),
        "duplicates": sum(o["status"] == "duplicate" for o in done),
        "items": done,
    }
    if idempotency_key is not None:
        session.add(
            StayBatch(
                venue_id=venue.id,
                key=idempotency_key,
                received_at=now,
                summary=json.dumps(summary, ensure_ascii=False),
            )
        )
        session.flush()
    return {**summary, "duplicate": False}


# ---- reads ---------------------------------------------------------------------------------------------------


def _venue_names(session: Session, venue_ids: set[int]) -> dict[int, str]:
    if not venue_ids:
        return {}
    v = VenueVersion
    rows = session.execute(
        select(v.entity_id, v.name)
        .where(v.entity_id.in_(venue_ids), v.superseded_at.is_(None))
        .order_by(v.valid_from, v.row_id)
    )
    return {int(vid): str(name) for vid, name in rows}


def _merged_nights(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """Nights covered by possibly overlapping stays (a guest in two rooms at once counts once)."""
    total = 0
    merged: list[list[dt.datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        total += rules.nights(start, end, CHINA_TZ)
    return total


def followups(session: Session, ctx: Context, area_id: int, days: int) -> dict[str, Any]:
    """Hotel guests seen in an area whose hotel stays in the city add up to more than `days` nights in the last
    30 days and who have no open residence: the 旅店 follow-up list. Each listed guest is an audited read.
    """
    ctx.actor.ensure("venue.read")
    ctx.actor.ensure("person.read")
    area = registry.ensure_area_in_scope(session, ctx, area_id)
    now = ctx.now
    since = now - FOLLOWUP_WINDOW
    hotels = select(Venue.id).where(Venue.venue_kind == "hotel")
    overlap = and_(
        Stay.venue_id.in_(hotels),
        Stay.check_in_at < now,
        or_(Stay.check_out_at.is_(None), Stay.check_out_at > since),
    )
    # The guests by their document number's keyed-hash index (the number itself is sealed).
    seen_here = (
        select(Stay.doc_number_idx)
        .where(overlap, Stay.area_id.in_(select(Area.id).where(Area.path.startswith(area.path))))
        .distinct()
    )
    rows = session.execute(
        select(
            Stay.doc_type,
            Stay.doc_number,
            Stay.doc_country,
            Stay.guest_name,
            Stay.person_id,
            Stay.venue_id,
            Stay.check_in_at,
            Stay.check_out_at,
        ).where(overlap, Stay.doc_number_idx.in_(seen_here))
    ).all()
    groups: dict[tuple[str, str, str | None], list[Any]] = {}
    for r in rows:
        groups.setdefault((r.doc_type, r.doc_number, r.doc_country), []).append(r)
    listed: list[dict[str, Any]] = []
    for (doc_type, number, country), stays in groups.items():
        intervals = [(max(s.check_in_at, since), min(s.check_out_at or now, now)) for s in stays]
        total = _merged_nights(intervals)
        if total <= days:
            continue
        last = max(stays, key=lambda s: s.check_in_at)
        pid = next(
            (s.person_id for s in sorted(stays, key=lambda s: s.check_in_at, reverse=True) if s.person_id),
            None,
        )
        listed.append(
            {
                "person_id": pid,
                "unknown_person": pid is None,
                "name": last.guest_name,
                "document": {"doc_type": doc_type, "number": mask_id_number(number), "country": country},
                "venue_id": last.venue_id,
                "nights": total,
                "stays": len(stays),
                "last_check_in_at": last.check_in_at,
            }
        )
    resident_ids = _with_open_residence(session, {g["person_id"] for g in listed if g["person_id"]})
    listed = [g for g in listed if g["person_id"] not in resident_ids]
    names = _venue_names(session, {g["venue_id"] for g in listed})
    for g in listed:
        g["venue_name"] = names.get(g["venue_id"])
    listed.sort(key=lambda g: (-g["nights"], g["name"]))
    if listed:
        registry.log(
            ctx,
            session,
            [
                audit.Event(
                    "venue.followup_read",
                    "person" if g["person_id"] else None,
                    g["person_id"],
                    g["person_id"],
                    {"area_id": area.id, "nights": g["nights"]},
                )
                for g in listed
            ],
        )
    return {"area_id": area.id, "days": days, "since": since, "until": now, "guests": listed}


def _with_open_residence(session: Session, person_ids: set[int]) -> set[int]:
    if not person_ids:
        return set()
    rv = ResidenceVersion
    return {
        int(pid)
        for (pid,) in session.execute(
            select(Residence.person_id)
            .join(rv, and_(rv.entity_id == Residence.id, rv.superseded_at.is_(None), rv.valid_to.is_(None)))
            .where(Residence.person_id.in_(person_ids))
        )
    }


def stays_of_person(session: Session, ctx: Context, person_id: int) -> list[dict[str, Any]]:
    """A person's venue stays (查人知住: hotels and internet cafés), newest first; the read is audited."""
    ctx.actor.ensure("venue.read")
    ctx.actor.ensure("person.read")
    person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor)
    rows = session.execute(
        select(Stay, Venue.venue_kind)
        .join(Venue, Venue.id == Stay.venue_id)
        .where(Stay.person_id == person.id)
        .order_by(Stay.check_in_at.desc())
    ).all()
    names = _venue_names(session, {s.venue_id for s, _ in rows})
    registry.log(ctx, session, [audit.Event("person.stays_read", "person", person.id, person.id)])
    return [
        {
            "stay_id": s.id,
            "venue_id": s.venue_id,
            "venue_kind": kind,
            "venue_name": names.get(s.venue_id),
            "check_in_at": s.check_in_at,
            "check_out_at": s.check_out_at,
            "received_at": s.received_at,
            "document": {"doc_type": s.doc_type, "number": mask_id_number(s.doc_number)},
            "foreign": s.foreign,
            "late_report": s.late_report,
        }
        for s, kind in rows
    ]


def stays_at_venue(
    session: Session, ctx: Context, venue_id: int, *, late_only: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    """A venue's guest register (住宿/上网登记), newest first, ID numbers masked; `late_only`: the foreign guests
    reported after the deadline (境外人员迟报). Each listed guest known to the registry is an audited read."""
    ctx.actor.ensure("venue.read")
    ctx.actor.ensure("person.read")
    venue = registry.get_entity(session, VENUE, venue_id, ctx.actor)
    stmt = select(Stay).where(Stay.venue_id == venue.id)
    if late_only:
        stmt = stmt.where(Stay.late_report.is_(True))
    stays = list(session.execute(stmt.order_by(Stay.check_in_at.desc()).limit(limit)).scalars())
    registry.log(
        ctx,
        session,
        [audit.Event("venue.stays_read", "venue", venue.id, s.person_id) for s in stays if s.person_id],
    )
    return [
        {
            "stay_id": s.id,
            "person_id": s.person_id,
            "guest_name": s.guest_name,
            "document": {
                "doc_type": s.doc_type,
                "number": mask_id_number(s.doc_number),
                "country": s.doc_country,
            },
            "check_in_at": s.check_in_at,
            "check_out_at": s.check_out_at,
            "received_at": s.received_at,
            "foreign": s.foreign,
            "late_report": s.late_report,
        }
        for s in stays
    ]


# ---- retention -----------------------------------------------------------------------------------------------


def purge(
    session: Session,
    actor: Actor,
    *,
    now: dt.datetime,
    retention_days: dict[str, int],
    dry_run: bool,
) -> dict[str, Any]:
    """Delete stays that ended before their venue kind's retention period; audited as `venues.purge`."""
    result: dict[str, Any] = {}
    for kind, days in retention_days.items():
        cutoff = now - dt.timedelta(days=days)
        old = and_(
            Stay.venue_id.in_(select(Venue.id).where(Venue.venue_kind == kind)),
            Stay.check_in_at < cutoff,
            or_(Stay.check_out_at.is_(None), Stay.check_out_at < cutoff),
        )
        count = int(session.execute(select(func.count()).select_from(Stay).where(old)).scalar_one())
        if count and not dry_run:
            session.execute(delete(Stay).where(old).execution_options(synchronize_session=False))
        result[kind] = {"days": days, "cutoff": cutoff.isoformat(), "stays": count}
    if not dry_run:
        ctx = Context(actor=actor, now=now, today=now.astimezone(CHINA_TZ).date(), purpose="retention")
        registry.log(ctx, session, [audit.Event("venues.purge", None, None, None, {"deleted": result})])
    return {"dry_run": dry_run, "kinds": result}


def stays_for_timeline(session: Session, person_id: int) -> list[dict[str, Any]]:
    """A person's stays as timeline events (the caller has checked access and audits the read)."""
    rows = session.execute(
        select(Stay, Venue.venue_kind)
        .join(Venue, Venue.id == Stay.venue_id)
        .where(Stay.person_id == person_id)
    ).all()
    names = _venue_names(session, {s.venue_id for s, _ in rows})
    return [
        {
            "kind": "stay",
            "id": s.id,
            "from": s.check_in_at.date(),
            "to": s.check_out_at.date() if s.check_out_at else None,
            "what": kind,
            "where": names.get(s.venue_id),
        }
        for s, kind in rows
    ]


# ---- counts per area for the KPIs ----------------------------------------------------------------------------


def stay_good(session: Session, limit: dt.timedelta) -> Any:
    """A stay with a verified identity document (`rules.identity_verified`) that reached the registry within
    `limit` of its check-in: the venue KPI's numerator, as SQL on `Stay`."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite keeps datetimes as UTC text: compare the elapsed seconds through julianday().
        elapsed = (func.julianday(Stay.received_at) - func.julianday(Stay.check_in_at)) * 86400.0
        timely = elapsed <= limit.total_seconds()
    else:
        timely = Stay.received_at - Stay.check_in_at <= limit
    return and_(literal_column(rules.identity_verified_sql("stays.")), timely)


def stay_counts(
    session: Session, area_ids: Any, start: dt.datetime, end: dt.datetime, limit: dt.timedelta
) -> dict[int, tuple[int, int]]:
    """Per area: (stays checked in during [start, end) with a verified identity document
    (`rules.identity_verified`) that reached the registry within `limit` of the check-in, all stays checked in
    then)."""
    good = stay_good(session, limit)
    rows = session.execute(
        select(Stay.area_id, func.coalesce(func.sum(case((good, 1), else_=0)), 0), func.count())
        .where(Stay.check_in_at >= start, Stay.check_in_at < end, Stay.area_id.in_(area_ids))
        .group_by(Stay.area_id)
    ).all()
    return {int(a): (int(g), int(n)) for a, g, n in rows}
