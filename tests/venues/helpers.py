"""Shared builders for the venue tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from liangshi.venues import service as venues
from liangshi.venues.models import Stay, StayBatch
from liangshi.venues.schemas import KeyIn, StayItem, VenueCreate
from tests import factories
from tests.conftest import INSIDE, NOW, World

H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def plate(world: World, area: str = INSIDE, district: str = "420704") -> int:
    """A door plate (with a building and a dwelling) in an area; returns the address id."""
    with world.session() as s:
        p = factories.place(
            s, world.ctx(s, "district_admin_chen"), area_id=world.area(area), district_id=world.area(district)
        )
        return p.address_id


def venue(world: World, kind: str = "hotel", name: str = "滨湖宾馆", address_id: int | None = None) -> int:
    """A venue registered by the station administrator; returns its id."""
    address = address_id or plate(world)
    with world.session() as s:
        snap = venues.register_venue(
            s,
            world.ctx(s, "station_admin_li"),
            VenueCreate(venue_kind=kind, address_id=address, name=name),  # type: ignore[arg-type]
        )
        return int(snap.entity.id)


def key(world: World, venue_id: int) -> str:
    """A clear venue key."""
    with world.session() as s:
        return str(venues.issue_key(s, world.ctx(s, "station_admin_li"), venue_id, KeyIn())["key"])


def person(world: World, name: str = "张伟", id_number: str | None = None) -> tuple[int, str]:
    """A person with a resident ID; returns (person id, ID number)."""
    number = id_number or factories.make_id()
    with world.session() as s:
        pid = factories.person(
            s,
            world.ctx(s, "police_liu"),
            area_id=world.area(INSIDE),
            name=name,
            id_number=number,
            male=int(number[16]) % 2 == 1,
            birth=dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        )
    return pid, number


def check_in(
    ref: str, number: str, at: dt.datetime = NOW - H, name: str = "张伟", **guest: Any
) -> dict[str, Any]:
    """A check-in item (a resident ID unless `doc_type` is given)."""
    g = {"doc_type": "resident_id", "number": number, "name": name, **guest}
    return {"stay_ref": ref, "event": "check_in", "at": at.isoformat(), "guest": g}


def check_out(ref: str, at: dt.datetime = NOW - H / 2) -> dict[str, Any]:
    """A check-out item."""
    return {"stay_ref": ref, "event": "check_out", "at": at.isoformat()}


def post(
    world: World, venue_id: int, items: list[dict[str, Any]], *, venue_key: str | None = None
) -> dict[str, Any]:
    """Record stays through the service as the venue (authenticated with a fresh key unless one is given)."""
    clear = venue_key or key(world, venue_id)
    with world.session() as s:
        ctx, v = venues.venue_context(s, clear, venue_id, now=world.clock.now(), today=world.clock.today())
        return venues.record_stays(
            s, ctx, v, [StayItem.model_validate(i) for i in items], idempotency_key=None
        )


def counts(world: World) -> tuple[int, int, int]:
    """Stays, stay batches, audit entries."""
    with world.session() as s:
        return tuple(  # type: ignore[return-value]
            s.execute(select(func.count()).select_from(m)).scalar_one() for m in (Stay, StayBatch, AuditEntry)
        )


def stays(world: World) -> dict[str, Stay]:
    """Every stored stay by its reference."""
    with world.session() as s:
        return {st.stay_ref: st for st in s.execute(select(Stay)).scalars()}
