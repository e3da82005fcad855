"""自主申报: a resident's own declaration from a scanned QR door plate (a tenant's arrival or departure, with the
persons living with them), held as a change set awaiting a collector's visit (上门核录) before anything counts.

The declaration writes no registry fact: it is a change set of the `declaration` flow in status `pending_visit`
whose payload is what was declared. On the spot the collector either verifies it, proposing what they found as
collected work through the usual flows (a person at the dwelling, a departure), which the station then reviews,
or declines it as untrue. Nothing of a person goes back to the declarer: the receipt names the plate's address
(public) and a reference number only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from liangshi.access.rules import Actor
from liangshi.addresses import service as addresses
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings.models import Building, Dwelling
from liangshi.campaign import service as collection
from liangshi.campaign.models import DeclarationCount
from liangshi.campaign.schemas import DeclarationIn, DeparturesFound, PersonsFound
from liangshi.clock import Clock
from liangshi.common.idnumber import check_document, mask_id_number
from liangshi.errors import LiangshiError, NotFound, ValidationFailed
from liangshi.persons import service as people
from liangshi.registry import Context, Provenance, changesets, history, log
from liangshi.registry.changesets import ChangeSet
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.review.rules import DistrictPolicy

FLOW = "declaration"
ACTIONS = {"arrival": "declared_arrival", "departure": "declared_departure"}


class TooManyDeclarations(LiangshiError):
    """A client or a plate sent more declarations than the hourly limit."""

    http_status = 429


def too_many(scope: str, limit: int) -> TooManyDeclarations:
    """The refusal of one declaration too many (per client address or per plate, each hour)."""
    return TooManyDeclarations(
        "declaration.rate_limited",
        f"申报过于频繁（每小时最多{limit}次），请稍后再试或联系责任派出所",
        f"Too many declarations (at most {limit} an hour): try later or call the station",
        {"scope": scope, "limit": limit},
    )


class RateLimit:
    """Declarations per client address and per plate in fixed windows (an hour), counted in the database
    (`declaration_counts`) so that every server process (`serve --workers N`) shares one limit."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        per_ip: int,
        per_plate: int,
        window_s: float = 3600.0,
        clock: Clock | None = None,
    ) -> None:
        self.sessions, self.per_ip, self.per_plate, self.window_s = sessions, per_ip, per_plate, window_s
        self.clock = clock or Clock()

    @staticmethod
    def _opened(session: Session, key: str, bucket: int) -> bool:
        # The window's counter at zero if it is not there yet; True when this call made it.
        row = {"key": key, "bucket": bucket, "count": 0}
        if session.get_bind().dialect.name == "postgresql":
            made = session.execute(pg_insert(DeclarationCount).values(row).on_conflict_do_nothing())
        else:
            made = session.execute(sqlite_insert(DeclarationCount).values(row).on_conflict_do_nothing())
        return bool(getattr(made, "rowcount", 0))

    def _count(self, session: Session, key: str, bucket: int, limit: int) -> bool:
        # One atomic conditional increment: two processes cannot both take the last place of a window.
        taken = session.execute(
            update(DeclarationCount)
            .where(
                DeclarationCount.key == key,
                DeclarationCount.bucket == bucket,
                DeclarationCount.count < limit,
            )
            .values(count=DeclarationCount.count + 1)
        )
        return bool(getattr(taken, "rowcount", 0))

    def take(self, client: str, code: str, now: float | None = None) -> None:
        """Count one declaration from `client` to plate `code`, or refuse it (429) and count nothing."""
        bucket = int((self.clock.now().timestamp() if now is None else now) // self.window_s)
        keys = ((f"ip:{client[:70]}", self.per_ip, "client"), (f"plate:{code[:70]}", self.per_plate, "plate"))
        with self.sessions.begin() as session:  # a refusal rolls back whatever this call counted
            opened = False
            for key, limit, scope in keys:
                opened = self._opened(session, key, bucket) or opened
                if not self._count(session, key, bucket, limit):
                    raise too_many(scope, limit)
            if opened:  # a new window began: the counters of windows gone by are dropped
                session.execute(delete(DeclarationCount).where(DeclarationCount.bucket < bucket))


def _plate(session: Session, code: str, today: dt.date) -> dict[str, Any]:
    found = addresses.plate_by_code(session, code, today) if code.isdigit() and len(code) <= 24 else None
    if found is None:
        raise NotFound(
            "declaration.plate_not_found",
            "未找到该门牌（二维码无效或门牌已注销）",
            "No such plate (the code is invalid or the plate is retired)",
            {"code": code[:30]},
        )
    return found


def plate_for_scan(session: Session, code: str, today: dt.date) -> dict[str, Any]:
    """What the public sees of a scanned plate: its standard address and contacts (no person), or 404."""
    found = _plate(session, code, today)
    return {k: found[k] for k in ("code", "text", "station", "grid")}


def _public_actor(area_id: int, area_path: str) -> Actor:
    # The declarer is nobody the register knows: an actor without a user and without permissions, in the plate's
    # area only so that the audit entry says where the declaration went.
    return Actor(
        user_id=None, username="public", role="public", area_id=area_id, area_path=area_path, county_code=""
    )


def declare(
    session: Session, *, code: str, data: DeclarationIn, now: dt.datetime, today: dt.date
) -> dict[str, Any]:
    """Store a resident's declaration at a plate for a collector's visit; return the receipt (no personal data)."""
    plate = _plate(session, code, today)
    if data.date > today:
        raise ValidationFailed(
            "declaration.date_in_future",
            "日期不能晚于今天",
            "The date cannot be later than today",
            {"field": "date"},
        )
    persons = []
    for n, person in enumerate(data.persons):
        number = None
        if person.id_number:
            number = check_document(
                "resident_id", person.id_number, today=today, field=f"persons.{n}.id_number"
            )
        persons.append({"name": person.name, "id_number": number, "phone": person.phone})
    ctx = Context(
        actor=_public_actor(plate["area_id"], plate["area_path"]), now=now, today=today, purpose="自主申报"
    )
    cs = changesets.propose(
        session,
        ctx,
        area_id=plate["area_id"],
        flow=FLOW,
        action=ACTIONS[data.kind],
        summary=f"{plate['text']} ({len(persons)})",
        items=[],
        prov=Provenance("system", f"自主申报:{code}", "observed"),
        tags=[data.kind, *(["tenant"] if data.tenant else [])],
        payload={
            "code": code,
            "address_id": plate["address_id"],
            "address": plate["text"],
            "kind": data.kind,
            "date": data.date.isoformat(),
            "room": data.room,
            "tenant": data.tenant,
            "note": data.note,
            "persons": persons,
            # How far the written room reached onto the standard address (plate, building or room), kept with
            # the declaration so that the collector's desk shows it and offers the dwelling found.
            "match": addresses.match_within_plate(session, plate["address_id"], data.room, today),
        },
        status="pending_visit",
        require_scope=False,
    )
    return {
        "reference": cs.id,
        "status": cs.status,
        "address": plate["text"],
        "station": plate["station"],
        "grid": plate["grid"],
    }


def _payload(cs: ChangeSet) -> dict[str, Any]:
    return dict(json.loads(cs.payload or "{}"))


def _read(cs: ChangeSet) -> dict[str, Any]:
    """A declaration as the desk shows it: ID numbers masked (the collector checks the document at the door)."""
    p = _payload(cs)
    persons = [
        {**person, "id_number": mask_id_number(person["id_number"]) if person.get("id_number") else None}
        for person in p.get("persons", [])
    ]
    return {
        "id": cs.id,
        "status": cs.status,
        "kind": p.get("kind"),
        "address_id": p.get("address_id"),
        "address": p.get("address"),
        "date": p.get("date"),
        "room": p.get("room"),
        "tenant": p.get("tenant"),
        "note": p.get("note"),
        "persons": persons,
        "proposed_at": cs.proposed_at,
        "verified_as": p.get("verified_as", []),
        "match": p.get("match") or {"level": "plate", "building_id": None, "dwelling_id": None},
        "declined_because": p.get("declined_because"),
    }


def declarations(
    session: Session, ctx: Context, *, status: str = "pending_visit", limit: int = 200
) -> list[dict[str, Any]]:
    """Declarations of the actor's jurisdiction in a status (default: awaiting a visit), oldest first; audited."""
    ctx.actor.ensure("residence.write")
    c = ChangeSet
    rows = list(
        session.execute(
            select(c)
            .where(c.flow == FLOW, c.status == status, c.area_path.startswith(ctx.actor.area_path))
            .order_by(c.proposed_at, c.id)
            .limit(limit)
        ).scalars()
    )
    log(
        ctx,
        session,
        [audit.Event("changeset.list", "change_set", cs.id, None, {"flow": FLOW}) for cs in rows],
    )
    return [_read(cs) for cs in rows]


def _load(session: Session, ctx: Context, declaration_id: int, action: str) -> ChangeSet:
    ctx.actor.ensure("residence.write")
    cs = changesets.load(session, ctx, declaration_id)
    if cs.flow != FLOW:
        raise NotFound(
            "changeset.not_found", "未找到该变更集", "Change set not found", {"id": declaration_id}
        )
    changesets.LIFECYCLE.ensure(cs.status, action, id=cs.id)
    return cs


def _close(session: Session, ctx: Context, cs: ChangeSet, action: str, status: str, **values: Any) -> None:
    changesets.decide(
        session, ctx, cs, action, status, {k: v for k, v in values.items() if k != "declined_because"}
    )
    cs.payload = json.dumps({**_payload(cs), **values, "visited_by": ctx.actor.username}, ensure_ascii=False)
    session.flush()


def verify_arrival(
    session: Session,
    ctx: Context,
    declaration_id: int,
    data: PersonsFound,
    *,
    policy: DistrictPolicy | None = None,
) -> dict[str, Any]:
    """上门核录 of a declared arrival: each person the collector found at the plate's dwelling is proposed as
    collected work (a person at the dwelling, for the station's review); the declaration is verified."""
    cs = _load(session, ctx, declaration_id, "verify")
    if _payload(cs)["kind"] != "arrival":
        raise _wrong_kind()
    address_id = session.execute(
        select(Building.address_id)
        .join(Dwelling, Dwelling.building_id == Building.id)
        .where(Dwelling.id == data.dwelling_id)
    ).scalar_one_or_none()
    if address_id != _payload(cs)["address_id"]:
        raise ValidationFailed(
            "declaration.dwelling_elsewhere",
            "该房屋不在申报的门牌地址上",
            "The dwelling is not at the declared plate's address",
            {"field": "dwelling_id"},
        )
    made = [
        collection.add_person_at_dwelling(session, ctx, data.dwelling_id, person, policy=policy).id
        for person in data.persons
    ]
    _close(session, ctx, cs, "verify", "verified", verified_as=made)
    return _read(cs)


def verify_departure(
    session: Session,
    ctx: Context,
    declaration_id: int,
    data: DeparturesFound,
    *,
    policy: DistrictPolicy | None = None,
) -> dict[str, Any]:
    """上门核录 of a declared departure: each residence the collector found ended is proposed as a departure (for
    review); the declaration is verified."""
    cs = _load(session, ctx, declaration_id, "verify")
    if _payload(cs)["kind"] != "departure":
        raise _wrong_kind()
    made = [
        collection.propose_departure(session, ctx, found.residence_id, found.departure, policy=policy).id
        for found in data.departures
    ]
    _close(session, ctx, cs, "verify", "verified", verified_as=made)
    return _read(cs)


def decline(session: Session, ctx: Context, declaration_id: int, reason: str) -> dict[str, Any]:
    """上门核录 found the declaration untrue (nobody of that name there, a prank): closed, nothing written."""
    cs = _load(session, ctx, declaration_id, "decline")
    _close(session, ctx, cs, "decline", "closed", declined_because=reason)
    return _read(cs)


def _wrong_kind() -> ValidationFailed:
    return ValidationFailed(
        "declaration.wrong_kind",
        "核录内容与申报类型（来人或人走）不符",
        "The verification does not fit the declaration's kind (arrival or departure)",
        {"field": "kind"},
    )


__all__: Sequence[str] = (
    "RateLimit",
    "declarations",
    "declare",
    "decline",
    "plate_for_scan",
    "verify_arrival",
    "verify_departure",
    "verify_departure_as_declared",
)


def limiter_of(state: Any) -> RateLimit:
    """The application's declaration rate limit (made on first use from its settings)."""
    limit: RateLimit | None = getattr(state, "declaration_limit", None)
    if limit is None:
        settings = state.settings
        limit = RateLimit(
            state.sessions,
            settings.declaration_per_ip_hour,
            settings.declaration_per_plate_hour,
            clock=state.clock,
        )
        state.declaration_limit = limit
    return limit


def verify_arrival_as_declared(
    session: Session,
    ctx: Context,
    declaration_id: int,
    *,
    dwelling_id: int,
    category: str,
    sexes: Sequence[str | None] = (),
    policy: DistrictPolicy | None = None,
) -> dict[str, Any]:
    """上门核录 confirming a declared arrival as declared (the web desk): each declared person at the dwelling the
    collector picked, in the residence category they found; a sex only where no ID number says it."""
    cs = _load(session, ctx, declaration_id, "verify")
    p = _payload(cs)
    found = [
        {
            "name": person["name"],
            "id_number": person.get("id_number"),
            "phone": person.get("phone"),
            "sex": (sexes[n] if n < len(sexes) else None) or None,
            "arrival_date": p["date"],
            "category": category,
        }
        for n, person in enumerate(p.get("persons", []))
    ]
    data = PersonsFound.model_validate({"dwelling_id": dwelling_id, "persons": found})
    return verify_arrival(session, ctx, declaration_id, data, policy=policy)


def dwellings_at(session: Session, ctx: Context, address_id: int) -> list[dict[str, Any]]:
    """The dwellings of a plate's buildings, for the collector to pick the one the declaration concerns."""
    ctx.actor.ensure("residence.write")
    text = addresses.describe_dwelling
    ids = session.execute(
        select(Dwelling.id)
        .join(Building, Building.id == Dwelling.building_id)
        .where(Building.address_id == address_id)
    ).scalars()
    return [{"id": int(i), "text": text(session, int(i), ctx.today)["text"]} for i in ids]


def residents_at(
    session: Session, ctx: Context, address_id: int, declared: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The persons living today at a plate's dwellings (open residences), for the collector to tick those found
    gone at a declared departure; `declared` marks the residents named in the declaration. Audited as occupants."""
    ctx.actor.ensure("residence.write")
    rv = ResidenceVersion
    rows = session.execute(
        select(Residence.id, Residence.person_id, Residence.dwelling_id, Residence.version)
        .join(Dwelling, Dwelling.id == Residence.dwelling_id)
        .join(Building, Building.id == Dwelling.building_id)
        .join(
            rv,
            and_(rv.entity_id == Residence.id, rv.superseded_at.is_(None), history.valid_on(rv, ctx.today)),
        )
        .where(
            Building.address_id == address_id,
            rv.departure_date.is_(None),
            Residence.area_id.in_(select(Area.id).where(Area.path.startswith(ctx.actor.area_path))),
        )
        .order_by(Residence.dwelling_id, Residence.id)
    ).all()
    names = people.names_on(session, [int(r.person_id) for r in rows], ctx.today)
    rooms = {
        int(d): addresses.describe_dwelling(session, int(d), ctx.today)["text"]
        for d in {r.dwelling_id for r in rows}
    }
    log(
        ctx,
        session,
        [
            audit.Event("dwelling.occupants", "dwelling", r.dwelling_id, r.person_id, {"flow": FLOW})
            for r in rows
        ],
    )
    wanted = {n.strip() for n in declared}
    return [
        {
            "residence_id": int(r.id),
            "version": int(r.version),
            "dwelling_id": int(r.dwelling_id),
            "dwelling": rooms[int(r.dwelling_id)],
            "name": names.get(r.person_id),
            "declared": names.get(r.person_id) in wanted,
        }
        for r in rows
    ]


def verify_departure_as_declared(
    session: Session,
    ctx: Context,
    declaration_id: int,
    *,
    residence_ids: Sequence[int],
    reason: str,
    destination: str | None = None,
    policy: DistrictPolicy | None = None,
) -> dict[str, Any]:
    """上门核录 confirming a declared departure (the web desk): each residence the collector ticked is proposed as
    a departure on the declared date, with the reason and destination they were told, for the station's review."""
    cs = _load(session, ctx, declaration_id, "verify")
    p = _payload(cs)
    if p["kind"] != "departure":
        raise _wrong_kind()
    if not residence_ids:
        raise ValidationFailed(
            "declaration.none_departed",
            "请勾选核实已搬离的人员",
            "Tick the persons found to have left",
            {"field": "residence_id"},
        )
    found = {r["residence_id"]: r for r in residents_at(session, ctx, p["address_id"])}
    departures = []
    for rid in dict.fromkeys(residence_ids):
        if rid not in found:
            raise ValidationFailed(
                "declaration.resident_elsewhere",
                "该人员不住在申报的门牌地址上",
                "The person does not live at the declared plate's address",
                {"field": "residence_id", "id": rid},
            )
        departures.append(
            {
                "residence_id": rid,
                "departure": {
                    "expected_version": found[rid]["version"],
                    "departure_date": p["date"],
                    "reason": reason,
                    "destination": destination or None,
                },
            }
        )
    data = DeparturesFound.model_validate({"departures": departures})
    return verify_departure(session, ctx, declaration_id, data, policy=policy)
