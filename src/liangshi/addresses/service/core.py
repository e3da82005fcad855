"""Street and door-plate use cases."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from sqlalchemy import and_, bindparam, case, func, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.addresses.maps import to_crs
from liangshi.addresses.models import ADDRESS as ADDRESS
from liangshi.addresses.models import STREET as STREET
from liangshi.addresses.models import Address, AddressVersion, Street, StreetVersion
from liangshi.addresses.numbering import PlateEntry, StreetReport, analyse_plates, propose_number
from liangshi.addresses.rules import (
    ensure_plate_transition,
    parse_plate_number,
    plate_key,
    render_plate_number,
    side_from_position,
    street_axis,
)
from liangshi.addresses.schemas import AddressCorrect, AddressCreate, AddressPatch, StreetCreate, StreetPatch
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.buildings.models import BUILDING, DWELLING, Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.errors import Conflict
from liangshi.registry import Context, Snapshot, history


def _street_name_taken(session: Session, county: str, name: str, except_id: int | None = None) -> bool:
    stmt = select(StreetVersion.entity_id).where(
        StreetVersion.county_code == county,
        StreetVersion.name == name,
        StreetVersion.superseded_at.is_(None),
        StreetVersion.valid_to.is_(None),
    )
    if except_id is not None:
        stmt = stmt.where(StreetVersion.entity_id != except_id)
    return session.execute(stmt.limit(1)).first() is not None


def _name_conflict() -> Conflict:
    return Conflict(
        "street.name_taken",
        "本区已有同名街路巷",
        "A street with this name exists in the district",
        {"field": "name"},
    )


def create_street(session: Session, ctx: Context, data: StreetCreate) -> Snapshot:
    """Name a new street in a district; the name is unique within the district."""
    ctx.actor.ensure("street.write")
    area = registry.ensure_area_in_scope(session, ctx, data.area_id)
    if _street_name_taken(session, area.county_code, data.name):
        raise _name_conflict()
    attrs = data.model_dump(include=set(STREET.attributes))
    street = Street(area_id=area.id, county_code=area.county_code)
    return registry.create(
        session,
        ctx,
        STREET,
        street,
        attrs,
        valid_from=data.valid_from,
        prov=data.provenance.to_domain(ctx.actor.username),
    )


def street_check(session: Session) -> Any:
    """Validation of a street's merged attributes on change or correction."""

    def check(street: Any, attrs: dict[str, Any]) -> None:
        if _street_name_taken(session, street.county_code, attrs["name"], except_id=street.id):
            raise _name_conflict()

    return check


def plate_changes(data: AddressPatch | AddressCorrect) -> dict[str, Any]:
    """Turn a plate patch into attribute changes (the number is parsed into base and sub)."""
    changes = data.model_dump(exclude_unset=True, include={"status", "lon", "lat", "chainage_m", "side"})
    if data.number is not None:
        changes["base_number"], changes["sub_number"] = parse_plate_number(data.number)
    return changes


def _plate_taken(
    session: Session, street_id: int, base: int, sub: int | None, kind: str, except_id: int | None
) -> bool:
    v = AddressVersion
    stmt = (
        select(Address.id)
        .join(v, v.entity_id == Address.id)
        .where(
            Address.street_id == street_id,
            v.superseded_at.is_(None),
            v.valid_to.is_(None),
            v.base_number == base,
            v.plate_kind == kind,
            v.status != "retired",
            v.sub_number.is_(None) if sub is None else v.sub_number == sub,
        )
    )
    if except_id is not None:
        stmt = stmt.where(Address.id != except_id)
    return session.execute(stmt.limit(1)).first() is not None


def _duplicate_plate() -> Conflict:
    return Conflict(
        "plate.duplicate_number",
        "该街路巷已有相同门牌号（一门一号）",
        "The street already has a plate with this number (one door, one number)",
        {"field": "number"},
    )


def street_side(session: Session, street_id: int | None, lon: float | None, lat: float | None) -> str | None:
    """The side (left/right) of its street a position lies on, from the street's start and bearing; None for a
    village plate, without a position, or when the street's start is written in words."""
    if street_id is None or lon is None or lat is None:
        return None
    sv = StreetVersion
    row = session.execute(
        select(sv.start_description, sv.bearing_deg).where(
            sv.entity_id == street_id, sv.superseded_at.is_(None), sv.valid_to.is_(None)
        )
    ).first()
    if row is None:
        return None
    return side_from_position(street_axis(row[0], row[1]), lon, lat)


def create_address(session: Session, ctx: Context, data: AddressCreate) -> Snapshot:
    """Record a door plate and its standard address."""
    ctx.actor.ensure("address.write")
    area = registry.ensure_area_in_scope(session, ctx, data.area_id)
    base, sub = parse_plate_number(data.number)
    if data.street_id is not None:
        street = registry.get_entity(session, STREET, data.street_id, ctx.actor)
        if street.county_code != area.county_code:
            raise Conflict(
                "address.street_elsewhere",
                "街路巷不在该区",
                "The street lies in another district",
                {"field": "street_id"},
            )
        if _plate_taken(session, street.id, base, sub, data.plate_kind, None):
            raise _duplicate_plate()
    attrs = {
        "plate_kind": data.plate_kind,
        "base_number": base,
        "sub_number": sub,
        "status": data.status,
        "lon": data.lon,
        "lat": data.lat,
        "chainage_m": data.chainage_m,
        "side": data.side or street_side(session, data.street_id, data.lon, data.lat),
    }
    address = Address(area_id=area.id, county_code=area.county_code, street_id=data.street_id)
    snap = registry.create(
        session,
        ctx,
        ADDRESS,
        address,
        attrs,
        valid_from=data.valid_from,
        prov=data.provenance.to_domain(ctx.actor.username),
    )
    # A stable address code: county code + a running number that never changes or gets reused.
    address.code = f"{area.county_code}{address.id:012d}"
    session.flush()
    return snap


def address_check(session: Session, *, lifecycle: bool) -> Any:
    """Validation of a plate's merged attributes: lifecycle step and one door one number."""

    def check(address: Any, attrs: dict[str, Any]) -> None:
        if lifecycle:
            current = history.open_row(session, ADDRESS, address.id)
            if current is not None:
                ensure_plate_transition(current.status, attrs["status"])
        if address.street_id is not None and _plate_taken(
            session,
            address.street_id,
            attrs["base_number"],
            attrs["sub_number"],
            attrs["plate_kind"],
            address.id,
        ):
            raise _duplicate_plate()

    return check


def change_address(session: Session, ctx: Context, address_id: int, data: AddressPatch) -> Snapshot:
    """A lifecycle step or other change of a plate from a date."""
    changes = plate_changes(data)
    if "side" not in changes and changes.get("lon") is not None and changes.get("lat") is not None:
        # A plate moved without a side given: its side follows the new position (as on creation).
        street_id = session.execute(select(Address.street_id).where(Address.id == address_id)).scalar()
        side = street_side(session, street_id, changes["lon"], changes["lat"])
        if side is not None:
            changes["side"] = side
    return registry.change(
        session,
        ctx,
        ADDRESS,
        address_id,
        changes,
        expected_version=data.expected_version,
        effective=data.effective,
        prov=data.provenance.to_domain(ctx.actor.username),
        reason=data.reason,
        check=address_check(session, lifecycle=True),
    )


def change_street(session: Session, ctx: Context, street_id: int, data: StreetPatch) -> Snapshot:
    """Rename or otherwise change a street from a date."""
    changes = data.model_dump(exclude_unset=True, include=set(STREET.attributes))
    return registry.change(
        session,
        ctx,
        STREET,
        street_id,
        changes,
        expected_version=data.expected_version,
        effective=data.effective,
        prov=data.provenance.to_domain(ctx.actor.username),
        reason=data.reason,
        check=street_check(session),
    )


@cache
def _describe_stmt() -> Any:
    # Built once (issue 19: 查房知人 describes its dwelling on every request).
    av, sv, on = AddressVersion, StreetVersion, bindparam("on", type_=AddressVersion.valid_from.type)
    return (
        select(
            Address.code,
            Address.area_id,
            Address.street_id,
            av.base_number,
            av.sub_number,
            sv.name,
            sv.numbering_style,
        )
        .outerjoin(av, and_(av.entity_id == Address.id, av.superseded_at.is_(None), history.valid_on(av, on)))
        .outerjoin(
            sv, and_(sv.entity_id == Address.street_id, sv.superseded_at.is_(None), history.valid_on(sv, on))
        )
        .where(Address.id == bindparam("address_id"))
    )


def describe(session: Session, address_id: int, on: dt.date) -> dict[str, Any]:
    """The standard address as text parts: areas from the city down, street, plate number (as valid on a date)."""
    row: Any = session.execute(_describe_stmt(), {"address_id": address_id, "on": on}).first()
    if row is None:
        return {}
    code, area_id, street_id, base, sub, street_name, style = row
    if base is None:
        # Not valid on that date (retired, or recorded later): the plate as last known.
        arow = history.latest_row(session, ADDRESS, address_id)
        assert arow is not None
        base, sub = arow.base_number, arow.sub_number
    if street_id is not None and street_name is None:
        srow = history.latest_row(session, STREET, street_id)
        assert srow is not None
        street_name, style = srow.name, srow.numbering_style
    return _described(session, code, area_id, base, sub, street_name, style, on)


def _described(
    session: Session,
    code: str,
    area_id: int,
    base: int,
    sub: int | None,
    street_name: str | None,
    style: str | None,
    on: dt.date,
) -> dict[str, Any]:
    """An address's description from its plate and street as read: the areas' names, street, number, text."""
    parts = _area_names(session, area_id, on)
    number = render_plate_number(base, sub, style or "dash")
    text = "".join(parts) + (street_name or "") + number
    return {"code": code, "areas": parts, "street": street_name, "number": number, "text": text}


_CHUNK = 900  # ids per IN (...) list: well under every backend's bound-parameter limit


# The statements of an address's description, built once (issue 19: on every 查人知住 building them cost more
# than running them): `:ids` an expanding IN list, `:on` the date.
@cache
def _plates_valid_stmt() -> Any:
    av, sv, on = AddressVersion, StreetVersion, bindparam("on", type_=AddressVersion.valid_from.type)
    return (
        select(
            Address.id,
            Address.code,
            Address.area_id,
            Address.street_id,
            av.base_number,
            av.sub_number,
            sv.name,
            sv.numbering_style,
        )
        .join(av, and_(av.entity_id == Address.id, av.superseded_at.is_(None), history.valid_on(av, on)))
        .outerjoin(
            sv,
            and_(sv.entity_id == Address.street_id, sv.superseded_at.is_(None), history.valid_on(sv, on)),
        )
        .where(Address.id.in_(bindparam("ids", expanding=True)))
    )


@cache
def _dwellings_valid_stmt() -> Any:
    dv, bv, on = DwellingVersion, BuildingVersion, bindparam("on", type_=DwellingVersion.valid_from.type)
    return (
        select(Dwelling.id, Building.address_id, bv.label, dv.unit, dv.room)
        .select_from(Dwelling)
        .join(Building, Building.id == Dwelling.building_id)
        .join(dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, on)))
        .join(bv, and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, on)))
        .where(Dwelling.id.in_(bindparam("ids", expanding=True)))
    )


def describe_many(session: Session, address_ids: list[int], on: dt.date) -> dict[int, dict[str, Any]]:
    """`describe` of many addresses at once: one query per 900 addresses valid on the date (plate and street),
    `describe` itself only for those not valid that day (the last-known fallback)."""
    ids = list(dict.fromkeys(address_ids))
    found: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(_plates_valid_stmt(), {"ids": ids[start : start + _CHUNK], "on": on}).all()
        found.update({int(r[0]): tuple(r[1:]) for r in rows})
    _prefetch_area_names(session, {int(r[1]) for r in found.values()}, on)
    out: dict[int, dict[str, Any]] = {}
    for address_id in ids:
        row = found.get(address_id)
        if row is None or row[3] is None or (row[2] is not None and row[5] is None):
            out[address_id] = describe(session, address_id, on)  # not valid that day: as last known
            continue
        code, area_id, _street_id, base, sub, street_name, style = row
        out[address_id] = _described(session, code, area_id, base, sub, street_name, style, on)
    return out


def describe_dwelling(session: Session, dwelling_id: int, on: dt.date) -> dict[str, Any]:
    """The dwelling's full standard address: plate address + building + unit + room (also
    `buildings.service.describe_dwelling`; it lives here because `match_address` names the dwelling it found)."""
    found: Any = session.execute(_dwellings_valid_stmt(), {"ids": [dwelling_id], "on": on}).first()
    row = None if found is None else tuple(found[1:])
    if row is None:
        # Not valid on that date (retired, or recorded later): describe it as last known.
        dwelling = session.get(Dwelling, dwelling_id)
        if dwelling is None:
            return {}
        building = session.get(Building, dwelling.building_id)
        assert building is not None
        brow = history.latest_row(session, BUILDING, building.id)
        drow = history.latest_row(session, DWELLING, dwelling.id)
        assert brow is not None and drow is not None
        row = (building.address_id, brow.label, drow.unit, drow.room)
    address_id, label, unit, room = row
    base = describe(session, address_id, on)
    detail = label + (f"{unit}单元" if unit else "") + f"{room}室"
    return {**base, "building": label, "unit": unit, "room": room, "text": base.get("text", "") + detail}


def describe_dwellings(session: Session, dwelling_ids: list[int], on: dt.date) -> dict[int, dict[str, Any]]:
    """`describe_dwelling` of many dwellings at once: one query for all valid on the date, the
    last-known fallback only for the rest, and each plate address described once."""
    ids = list(dict.fromkeys(dwelling_ids))
    if not ids:
        return {}
    found: dict[int, tuple[Any, ...]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(_dwellings_valid_stmt(), {"ids": ids[start : start + _CHUNK], "on": on}).all()
        found.update({int(r[0]): tuple(r[1:]) for r in rows})
    bases = describe_many(session, [int(r[0]) for r in found.values()], on)
    out: dict[int, dict[str, Any]] = {}
    for dwelling_id in ids:
        if dwelling_id not in found:
            out[dwelling_id] = describe_dwelling(session, dwelling_id, on)
            continue
        address_id, label, unit, room = found[dwelling_id]
        base = bases[int(address_id)]
        detail = label + (f"{unit}单元" if unit else "") + f"{room}室"
        out[dwelling_id] = {
            **base,
            "building": label,
            "unit": unit,
            "room": room,
            "text": base.get("text", "") + detail,
        }
    return out


def plates_of(session: Session, address_ids: list[int], on: dt.date) -> dict[int, dict[str, Any]]:
    """Street and plate number of many addresses at once (as valid on a date), for lists."""
    if not address_ids:
        return {}
    av, sv = AddressVersion, StreetVersion
    rows = session.execute(
        select(Address.id, Address.street_id, av.base_number, av.sub_number, sv.name, sv.numbering_style)
        .join(av, and_(av.entity_id == Address.id, av.superseded_at.is_(None), history.valid_on(av, on)))
        .outerjoin(
            sv, and_(sv.entity_id == Address.street_id, sv.superseded_at.is_(None), history.valid_on(sv, on))
        )
        .where(Address.id.in_(address_ids))
    )
    return {
        int(aid): {
            "street_id": street_id,
            "street": street,
            "base_number": base,
            "sub_number": sub,
            "number": render_plate_number(base, sub, style or "dash"),
        }
        for aid, street_id, base, sub, street, style in rows
    }


def _prefetch_area_names(session: Session, area_ids: set[int], on: dt.date) -> None:
    # `_area_names` of many areas filled in one statement while the process holds their lineages (two otherwise:
    # areas.cached_lineages, kept across requests until an area changes), not one lineage per area.
    cache: dict[tuple[int, dt.date], list[str]] = session.info.setdefault("area_names", {})
    missing = {a for a in area_ids if (a, on) not in cache}
    for area_id, line in areas.cached_lineages(session, missing, on).items():
        cache[(area_id, on)] = [a.name for a in line if a.level != "province"]


def _area_names(session: Session, area_id: int, on: dt.date) -> list[str]:
    # Area names rarely change and one request describes many addresses in the same areas: cache per session
    # (request) over the process's cache (areas.cached_lineages).
    cache: dict[tuple[int, dt.date], list[str]] = session.info.setdefault("area_names", {})
    key = (area_id, on)
    if key not in cache:
        line = areas.cached_lineages(session, [area_id], on).get(area_id)
        cache[key] = [a.name for a in line if a.level != "province"] if line is not None else []
    return cache[key]


# ---- area views: installation rate, map, quality ---------------------------------------------------------------


def _subtree(session: Session, ctx: Context, area_id: int) -> tuple[Any, Any]:
    area = registry.get_entity(session, areas.AREA, area_id, ctx.actor)
    if not ctx.actor.covers_path(area.path):
        # Areas above the jurisdiction are readable by name only; their contents are not.
        raise history.not_found(areas.AREA, area_id)
    return area, select(Area.id).where(Area.path.startswith(area.path))


def plates_due(day: dt.date) -> list[Any]:
    """Plate versions that should exist on a date (valid on it, not retired): the installation KPI's denominator."""
    v = AddressVersion
    return [v.superseded_at.is_(None), history.valid_on(v, day), v.status != "retired"]


def plate_installed() -> Any:
    """The plate is installed: the installation KPI's numerator."""
    return AddressVersion.status == "installed"


def plate_counts_by_area(session: Session, area_ids: Any, day: dt.date) -> dict[int, tuple[int, int]]:
    """Per area (the plate's own area): (installed plates, plates that should exist — not retired) on a date."""
    v = AddressVersion
    rows = session.execute(
        select(
            Address.area_id,
            func.count(),
            func.coalesce(func.sum(case((plate_installed(), 1), else_=0)), 0),
        )
        .join(Address, Address.id == v.entity_id)
        .where(Address.area_id.in_(area_ids), *plates_due(day))
        .group_by(Address.area_id)
    ).all()
    return {int(area_id): (int(installed), int(total)) for area_id, total, installed in rows}


def installation_rate(session: Session, ctx: Context, area_id: int, on: dt.date | None) -> dict[str, Any]:
    """门楼牌编制安装率: installed plates ÷ plates that should exist (not retired), in an area on a date."""
    ctx.actor.ensure("address.read")
    day = on or ctx.today
    area, ids = _subtree(session, ctx, area_id)
    v = AddressVersion
    rows = session.execute(
        select(v.status, func.count())
        .join(Address, Address.id == v.entity_id)
        .where(
            Address.area_id.in_(ids),
            v.superseded_at.is_(None),
            history.valid_on(v, day),
            v.status != "retired",
        )
        .group_by(v.status)
    ).all()
    by_status = {str(status): int(n) for status, n in rows}
    total = sum(by_status.values())
    installed = by_status.get("installed", 0)
    return {
        "area_id": area.id,
        "area_code": area.code,
        "on": day,
        "numerator": installed,
        "denominator": total,
        "rate": round(installed / total, 6) if total else None,
        "by_status": by_status,
    }


def geojson(session: Session, ctx: Context, area_id: int, *, crs: str, on: dt.date | None) -> dict[str, Any]:
    """Plates and the buildings on them in an area as a GeoJSON FeatureCollection (WGS-84 or GCJ-02)."""
    ctx.actor.ensure("address.read")
    day = on or ctx.today
    _, ids = _subtree(session, ctx, area_id)
    v, sv, bv = AddressVersion, StreetVersion, BuildingVersion
    plates = session.execute(
        select(
            Address.id,
            Address.code,
            v.base_number,
            v.sub_number,
            v.status,
            v.plate_kind,
            v.lon,
            v.lat,
            sv.name,
            sv.numbering_style,
            Address.street_id,
        )
        .join(v, and_(v.entity_id == Address.id, v.superseded_at.is_(None), history.valid_on(v, day)))
        .outerjoin(
            sv, and_(sv.entity_id == Address.street_id, sv.superseded_at.is_(None), history.valid_on(sv, day))
        )
        .where(Address.area_id.in_(ids), v.lon.is_not(None), v.lat.is_not(None))
        .order_by(Address.id)
    ).all()
    buildings: dict[int, list[dict[str, Any]]] = {}
    for bid, address_id, label, use, visit in session.execute(
        select(Building.id, Building.address_id, bv.label, bv.use, bv.visit_status)
        .join(bv, and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, day)))
        .where(Building.area_id.in_(ids))
    ):
        buildings.setdefault(address_id, []).append(
            {"id": bid, "label": label, "use": use, "visit_status": visit}
        )
    features = []
    for aid, code, base, sub, status, kind, lon, lat, street, style, street_id in plates:
        x, y = to_crs(lon or 0.0, lat or 0.0, crs)  # rows without a position were filtered out
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {
                    "kind": "plate",
                    "id": aid,
                    "code": code,
                    "plate_kind": kind,
                    "status": status,
                    "street": street,
                    "street_id": street_id,
                    "number": render_plate_number(base, sub, style or "dash"),
                    "buildings": buildings.get(aid, []),
                },
            }
        )
    return {"type": "FeatureCollection", "crs": crs, "features": features}


def quality(
    session: Session, ctx: Context, area_id: int, on: dt.date | None, *, sample: int = 20
) -> dict[str, Any]:
    """Address quality checks in an area: plates without a building, buildings whose plate is missing or not
    installed, plates installed on a retired street — counts and the first ids of each."""
    ctx.actor.ensure("address.read")
    day = on or ctx.today
    _, ids = _subtree(session, ctx, area_id)
    v, bv, sv = AddressVersion, BuildingVersion, StreetVersion
    valid_plate = and_(v.entity_id == Address.id, v.superseded_at.is_(None), history.valid_on(v, day))
    has_building = (
        select(Building.id)
        .join(bv, and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, day)))
        .where(Building.address_id == Address.id)
        .exists()
    )
    checks: dict[str, Any] = {
        "address_without_building": select(Address.id)
        .join(v, valid_plate)
        .where(Address.area_id.in_(ids), v.status != "retired", v.plate_kind == "door", ~has_building),
        "building_plate_not_installed": select(Building.id)
        .join(bv, and_(bv.entity_id == Building.id, bv.superseded_at.is_(None), history.valid_on(bv, day)))
        .join(Address, Address.id == Building.address_id)
        .outerjoin(v, valid_plate)
        .where(Building.area_id.in_(ids), (v.row_id.is_(None)) | (v.status != "installed")),
        "plate_on_retired_street": select(Address.id)
        .join(v, valid_plate)
        .where(
            Address.area_id.in_(ids),
            Address.street_id.is_not(None),
            v.status == "installed",
            ~select(sv.row_id)
            .where(sv.entity_id == Address.street_id, sv.superseded_at.is_(None), history.valid_on(sv, day))
            .exists(),
        ),
    }
    result: dict[str, Any] = {"area_id": area_id, "on": day}
    for name, stmt in checks.items():
        count = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        first = [int(i) for i in session.execute(stmt.order_by(None).limit(sample)).scalars()]
        result[name] = {"count": int(count), "ids": first}
    return result


# ---- numbering over the register, address matching -------------------------------------------------------------


def _street_plates(session: Session, where: Any, on: dt.date) -> list[tuple[int, str, str, PlateEntry]]:
    """(address id, street name, style, entry) of door plates on streets, as valid on a date."""
    v, sv = AddressVersion, StreetVersion
    rows = session.execute(
        select(Address.id, sv.name, sv.numbering_style, v.base_number, v.sub_number, v.chainage_m, v.side)
        .join(v, and_(v.entity_id == Address.id, v.superseded_at.is_(None), history.valid_on(v, on)))
        .join(
            sv, and_(sv.entity_id == Address.street_id, sv.superseded_at.is_(None), history.valid_on(sv, on))
        )
        .where(where, v.status != "retired", v.plate_kind == "door")
        .order_by(sv.name, v.base_number, v.sub_number)
    ).all()
    return [
        (
            aid,
            name,
            style,
            PlateEntry(name, plate_key(base, sub), base, sub, _numbering_side(side), chainage, None),
        )
        for aid, name, style, base, sub, chainage, side in rows
    ]


def _numbering_side(stored: str | None) -> str | None:
    """The numbering side (odd / even) a stored side states; a left / right side states none by itself (which
    parity belongs there is the street's convention, judged by `plate.wrong_side`)."""
    return stored if stored in ("odd", "even") else None


def plate_gaps(session: Session, ctx: Context, area_id: int, on: dt.date | None) -> dict[str, Any]:
    """Numbering defects per street for the plates of an area (the same engine as `liangshi plates gaps`)."""
    ctx.actor.ensure("address.read")
    _, ids = _subtree(session, ctx, area_id)
    plates = _street_plates(session, Address.area_id.in_(ids), on or ctx.today)
    reports = analyse_plates(entry for _, _, _, entry in plates)
    return {street: report.to_json() for street, report in reports.items()}


def street_view(session: Session, ctx: Context, street_id: int, on: dt.date | None) -> dict[str, Any]:
    """A street's door plates in the caller's jurisdiction by side (odd / even, along the chainage), with the
    numbering defects of those plates (missing numbers, duplicates, wrong side, out of order)."""
    ctx.actor.ensure("address.read")
    day = on or ctx.today
    street = registry.get_entity(session, STREET, street_id, ctx.actor)
    srow = history.row_as_of(session, STREET, street.id, on=day) or history.latest_row(
        session, STREET, street.id
    )
    assert srow is not None
    v = AddressVersion
    inside = Address.area_id.in_(select(Area.id).where(Area.path.startswith(ctx.actor.area_path)))
    rows = session.execute(
        select(Address.id, Address.area_id, v.base_number, v.sub_number, v.chainage_m, v.status, v.side)
        .join(v, and_(v.entity_id == Address.id, v.superseded_at.is_(None), history.valid_on(v, day)))
        .where(Address.street_id == street.id, inside, v.status != "retired", v.plate_kind == "door")
        .order_by(v.base_number, v.sub_number)
    ).all()
    entries = [
        PlateEntry(srow.name, plate_key(b, sub), b, sub, _numbering_side(side), ch, None)
        for _, _, b, sub, ch, _, side in rows
    ]
    report = analyse_plates(entries).get(srow.name)
    report = report or StreetReport(srow.name)
    flagged = set(report.duplicates) | set(report.parity_violations) | set(report.order_violations)
    plates: dict[str, list[dict[str, Any]]] = {"odd": [], "even": []}
    for (aid, area_id, base, sub, chainage, status, stored), entry in zip(rows, entries, strict=True):
        # Listed on the numbering side it was seen on where that is stored, else by its number's parity.
        plates[entry.side or ("odd" if base % 2 else "even")].append(
            {
                "address_id": aid,
                "area_id": area_id,
                "number": render_plate_number(base, sub, srow.numbering_style),
                "key": entry.key,
                "base": base,
                "sub": sub,
                "chainage_m": chainage,
                "status": status,
                "side": stored,
                "defect": entry.key in flagged,
            }
        )
    for side in plates.values():
        # Along the street: by chainage where known, else by number.
        side.sort(key=lambda p: (p["chainage_m"] is None, p["chainage_m"] or 0.0, p["base"], p["sub"] or 0))
    return {
        "street_id": street.id,
        "name": srow.name,
        "street_type": srow.street_type,
        "numbering_style": srow.numbering_style,
        "start_description": srow.start_description,
        "area_id": street.area_id,
        "on": day,
        "plates": plates,
        "defects": report.to_json(),
    }


def propose_for_street(
    session: Session, ctx: Context, street_id: int, lower: str, upper: str, reserved: list[int]
) -> dict[str, Any]:
    """Propose a number for a new door between two plates of a street, in the street's style."""
    ctx.actor.ensure("address.read")
    street = registry.get_entity(session, STREET, street_id, ctx.actor)
    plates = _street_plates(session, Address.street_id == street.id, ctx.today)
    srow = history.latest_row(session, STREET, street.id)
    assert srow is not None
    proposal = propose_number(
        [entry for _, _, _, entry in plates],
        srow.name,
        lower,
        upper,
        reserved=reserved,
        style=srow.numbering_style,
    )
    return proposal.to_json()
