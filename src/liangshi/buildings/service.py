"""Building and dwelling use cases."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.addresses.service import describe_dwelling as describe_dwelling
from liangshi.addresses.service import describe_dwellings as describe_dwellings
from liangshi.areas.models import Area
from liangshi.buildings import rules
from liangshi.buildings.models import BUILDING as BUILDING
from liangshi.buildings.models import DWELLING as DWELLING
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.errors import Conflict
from liangshi.registry import Context, Snapshot, history
from liangshi.residence.models import Residence, ResidenceVersion


def create_building(session: Session, ctx: Context, data: BuildingCreate) -> Snapshot:
    """Record a building on a plate in the actor's jurisdiction."""
    ctx.actor.ensure("building.write")
    address = registry.get_entity(session, addresses.ADDRESS, data.address_id, ctx.actor)
    attrs = data.model_dump(include=set(BUILDING.attributes))
    building = Building(address_id=address.id, area_id=address.area_id, county_code=address.county_code)
    return registry.create(
        session,
        ctx,
        BUILDING,
        building,
        attrs,
        valid_from=data.valid_from,
        prov=data.provenance.to_domain(ctx.actor.username),
    )


def _room_taken(
    session: Session, building_id: int, unit: int | None, room: str, except_id: int | None
) -> bool:
    v = DwellingVersion
    stmt = (
        select(Dwelling.id)
        .join(v, v.entity_id == Dwelling.id)
        .where(
            Dwelling.building_id == building_id,
            v.superseded_at.is_(None),
            v.valid_to.is_(None),
            v.room == room,
            v.unit.is_(None) if unit is None else v.unit == unit,
        )
    )
    if except_id is not None:
        stmt = stmt.where(Dwelling.id != except_id)
    return session.execute(stmt.limit(1)).first() is not None


def _room_conflict() -> Conflict:
    return Conflict(
        "dwelling.room_taken",
        "该楼栋单元已有此房号",
        "The building already has this unit and room",
        {"field": "room"},
    )


def create_dwelling(session: Session, ctx: Context, data: DwellingCreate) -> Snapshot:
    """Record a dwelling in a building; one room number per unit."""
    ctx.actor.ensure("dwelling.write")
    building = registry.get_entity(session, BUILDING, data.building_id, ctx.actor)
    if history.open_row(session, BUILDING, building.id) is None:
        raise Conflict(
            "building.retired",
            "该楼栋已注销，不能再修改",
            "The building is retired and cannot be changed",
            {"field": "building_id"},
        )
    if _room_taken(session, building.id, data.unit, data.room, None):
        raise _room_conflict()
    attrs = data.model_dump(include=set(DWELLING.attributes))
    dwelling = Dwelling(building_id=building.id, area_id=building.area_id, county_code=building.county_code)
    return registry.create(
        session,
        ctx,
        DWELLING,
        dwelling,
        attrs,
        valid_from=data.valid_from,
        prov=data.provenance.to_domain(ctx.actor.username),
    )


def dwelling_check(session: Session) -> Any:
    """Validation of a dwelling's merged attributes on change or correction."""

    def check(dwelling: Any, attrs: dict[str, Any]) -> None:
        if _room_taken(session, dwelling.building_id, attrs["unit"], attrs["room"], dwelling.id):
            raise _room_conflict()

    return check


def buildings_in_area(
    session: Session, ctx: Context, area_id: int, on: dt.date | None = None, *, limit: int = 2000
) -> list[dict[str, Any]]:
    """The buildings of an area in the jurisdiction, grouped by street in plate order (a collector's round)."""
    ctx.actor.ensure("building.read")
    area = registry.ensure_area_in_scope(session, ctx, area_id)
    day = on or ctx.today
    bv, dv = BuildingVersion, DwellingVersion
    dwellings = (
        select(func.count(Dwelling.id))
        .join(dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, day)))
        .where(Dwelling.building_id == Building.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Building.id, Building.address_id, bv.label, bv.visit_status, bv.floors_above, dwellings)
        .join(bv, and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, day)))
        .where(Building.area_id.in_(select(Area.id).where(Area.path.startswith(area.path))))
        .order_by(Building.id)
        .limit(limit)
    ).all()
    plates = addresses.plates_of(session, [int(r[1]) for r in rows], day)
    streets: dict[Any, dict[str, Any]] = {}
    for bid, address_id, label, visit_status, floors, count in rows:
        plate = plates.get(int(address_id), {})
        street = streets.setdefault(
            plate.get("street_id"),
            {"street_id": plate.get("street_id"), "street": plate.get("street"), "buildings": []},
        )
        street["buildings"].append(
            {
                "building_id": bid,
                "label": label,
                "number": plate.get("number"),
                "order": (plate.get("base_number") or 0, plate.get("sub_number") or 0, label),
                "visit_status": visit_status,
                "floors_above": floors,
                "dwellings": int(count),
            }
        )
    result = sorted(streets.values(), key=lambda s: (s["street"] is None, s["street"] or ""))
    for street in result:
        street["buildings"].sort(key=lambda b: b["order"])
    return result


def current_dwelling_ids(session: Session, building_id: int, on: dt.date) -> set[int]:
    """Ids of the building's dwellings valid on the date."""
    dv = DwellingVersion
    return {
        int(i)
        for (i,) in session.execute(
            select(Dwelling.id)
            .join(dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, on)))
            .where(Dwelling.building_id == building_id)
        )
    }


def grid(session: Session, ctx: Context, building_id: int, on: dt.date | None) -> dict[str, Any]:
    """楼盘表: the building's units × floors × rooms, each cell with its status and how many live there."""
    ctx.actor.ensure("dwelling.read")
    building = registry.get_entity(session, BUILDING, building_id, ctx.actor)
    day = on or ctx.today
    brow = history.row_as_of(session, BUILDING, building.id, on=day) or history.latest_row(
        session, BUILDING, building.id
    )
    dv, rv = DwellingVersion, ResidenceVersion
    occupants = (
        select(func.count(Residence.id))
        .join(rv, and_(rv.entity_id == Residence.id, rv.superseded_at.is_(None), history.valid_on(rv, day)))
        .where(Residence.dwelling_id == Dwelling.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Dwelling.id, dv.unit, dv.floor, dv.room, dv.use, dv.status, occupants)
        .join(dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, day)))
        .where(Dwelling.building_id == building.id)
    ).all()
    units: dict[int | None, dict[int | None, list[dict[str, Any]]]] = {}
    for did, unit, floor, room, use, status, count in rows:
        units.setdefault(unit, {}).setdefault(floor, []).append(
            {
                "dwelling_id": did,
                "room": room,
                "use": use,
                "status": status,
                "occupants": int(count),
                "occupancy": rules.occupancy(status, int(count)),
            }
        )

    def order(value: int | None) -> int:
        return -10_000 if value is None else value

    return {
        "building_id": building.id,
        "area_id": building.area_id,
        "address_id": building.address_id,
        "address": addresses.describe(session, building.address_id, day).get("text"),
        "label": brow.label if brow else None,
        "floors_above": brow.floors_above if brow else None,
        "on": day,
        "units": [
            {
                "unit": unit,
                # Top floor first, as a 楼盘表 is drawn; rooms left to right.
                "floors": [
                    {"floor": floor, "rooms": sorted(cells, key=lambda c: (len(c["room"]), c["room"]))}
                    for floor, cells in sorted(floors.items(), key=lambda kv: order(kv[0]), reverse=True)
                ],
            }
            for unit, floors in sorted(units.items(), key=lambda kv: order(kv[0]))
        ],
        "dwellings": len(rows),
        "occupants": sum(int(r[6]) for r in rows),
    }
