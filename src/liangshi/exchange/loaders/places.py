"""The loaders of places: areas and streets (through their services), door plates, buildings and dwellings (in bulk)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from liangshi.addresses.models import ADDRESS
from liangshi.addresses.rules import parse_plate_number, parse_stored_side, side_from_position
from liangshi.addresses.schemas import AddressCreate, StreetCreate
from liangshi.addresses.service import create_street
from liangshi.areas.models import Area
from liangshi.areas.schemas import AreaCreate
from liangshi.areas.service import create_area
from liangshi.buildings.models import BUILDING, DWELLING
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.exchange.loaders.job import Job, Outcome, each_row, per_row, write_new
from liangshi.exchange.loaders.resolver import (
    PlateKey,
    PlateRef,
    Rejected,
    parse_date,
    parse_float,
    parse_int,
)
from liangshi.exchange.rows import AreaRef, Row
from liangshi.registry import NewItem


def _since(job: Job, row: Row) -> dt.date:
    """Since when a place exists: the row's valid_from (not after the import day), else the import day."""
    day = parse_date(row.get("valid_from"), "valid_from")
    if day is None:
        return job.today
    if day > job.today:
        raise Rejected(
            "valid_from",
            "import.valid_from_in_future",
            "起始日期不能晚于今天",
            "valid_from cannot be in the future",
        )
    return day


def load_areas(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Areas through the area service (few rows)."""

    def build(row: Row) -> bool:
        existing = job.session.execute(select(Area.id).where(Area.code == row["code"])).first()
        if existing is not None:
            return True
        data = AreaCreate.model_validate(
            {
                **{k: row.get(k) for k in ("code", "name", "level", "parent_code")},
                "valid_from": _since(job, row),
            }
        )
        create_area(job.session, job.ctx(), data)
        return False

    return per_row(job, rows, build, "code")


def load_streets(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Streets through the street service (a name is unique within its district)."""

    def build(row: Row) -> bool:
        district = job.resolver.area(row.get("district_code"), "district_code")
        try:
            job.resolver.street(district.county, row.get("name"))
            return True
        except Rejected:
            pass
        data = StreetCreate.model_validate(
            {
                "area_id": district.id,
                "name": row.get("name"),
                "street_type": row.get("street_type"),
                "numbering_style": row.get("numbering_style") or "dash",
                "start_description": row.get("start_description"),
                "bearing_deg": parse_int(row.get("bearing_deg"), "bearing_deg"),
                "valid_from": _since(job, row),
            }
        )
        create_street(job.session, job.ctx(), data)
        job.resolver.reset()
        return False

    return per_row(job, rows, build, "name")


# ---- bulk kinds ------------------------------------------------------------------------------------------------


def load_plates(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Door plates. One door, one number is the rule, yet a file may break it (two doors of one number, one
    number in two communities): each such plate is recorded as its own, for the checks to find; only a row naming
    a plate already held (same community, same place) counts as existing."""
    outcome = Outcome()
    new: list[tuple[AreaRef, PlateKey, AddressCreate, dt.date]] = []

    def handle(line: int, row: Row) -> bool:
        area = job.resolver.area(row.get("community_code"))
        since = _since(job, row)
        street_id = job.resolver.street(area.county, row.get("street"))
        lon, lat = parse_float(row.get("lon"), "lon"), parse_float(row.get("lat"), "lat")
        side = parse_stored_side(row.get("side"))
        if side is None and street_id is not None:
            # Not written: the side the position lies on, seen from the street's start along its bearing.
            side = side_from_position(job.resolver.street_axis(street_id), lon, lat)
        data = AddressCreate.model_validate(
            {
                "area_id": area.id,
                "street_id": street_id,
                "number": row.get("number") or "",
                "plate_kind": row.get("plate_kind") or "door",
                "status": row.get("status") or "planned",
                "lon": lon,
                "lat": lat,
                "chainage_m": parse_float(row.get("chainage_m"), "chainage_m"),
                "side": side,
            }
        )
        base, sub = parse_plate_number(data.number)
        key: PlateKey = (street_id, None if street_id else area.id, base, sub)
        # One number may be carried by several plates (a duplicate number; 一号多址 across communities): a row is
        # the plate already held only if it is that plate (its community and place), else it is another door and
        # is recorded, for the checks to find. A repeated row (a re-run of the file) counts as existing.
        held = job.resolver.plates(area.county).setdefault(key, [])
        if any(ref.same_plate(area.id, data.lon, data.lat, data.chainage_m) for ref in held):
            return True
        held.append(PlateRef(-1, area.id, data.lon, data.lat, data.chainage_m))  # taken by this chunk
        new.append((area, key, data, since))
        return False

    each_row(rows, outcome, handle, "number")
    items = [
        NewItem(
            area.id,
            {
                "plate_kind": data.plate_kind,
                "base_number": key[2],
                "sub_number": key[3],
                "status": data.status,
                "lon": data.lon,
                "lat": data.lat,
                "chainage_m": data.chainage_m,
                "side": data.side,
            },
            {"street_id": data.street_id},
            since,
        )
        for area, key, data, since in new
    ]
    counties = {area.id: area.county for area, _, _, _ in new}
    # A stable address code: county code + a running number that is never reused.
    ids = write_new(
        job, ADDRESS, items, identity=lambda i, item: {"code": f"{counties[item.area_id]}{i:012d}"}
    )
    for entity_id, (area, key, data, _) in zip(ids, new, strict=True):
        held = job.resolver.plates(area.county)[key]
        taken = PlateRef(-1, area.id, data.lon, data.lat, data.chainage_m)
        held[held.index(taken)] = PlateRef(entity_id, area.id, data.lon, data.lat, data.chainage_m)
    return outcome


def load_buildings(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Buildings on plates; one label per plate."""
    outcome = Outcome()
    new: list[tuple[AreaRef, int, BuildingCreate, dt.date]] = []

    def handle(line: int, row: Row) -> bool:
        area, _, address_id = job.resolver.plate(row)
        since = _since(job, row)
        data = BuildingCreate.model_validate(
            {
                "address_id": address_id,
                "label": row.get("building") or "",
                "floors_above": parse_int(row.get("floors_above"), "floors_above"),
                "floors_below": parse_int(row.get("floors_below"), "floors_below"),
                "units": parse_int(row.get("units"), "units"),
                "use": row.get("use") or "residential",
                "structure": row.get("structure"),
                "year_built": parse_int(row.get("year_built"), "year_built"),
            }
        )
        buildings = job.resolver.buildings(area.county)
        if (address_id, data.label) in buildings:
            return True
        buildings[(address_id, data.label)] = -1
        new.append((area, address_id, data, since))
        return False

    each_row(rows, outcome, handle, "building")
    fields = set(BUILDING.attributes)
    items = [
        NewItem(area.id, data.model_dump(include=fields), {"address_id": address_id}, since)
        for area, address_id, data, since in new
    ]
    ids = write_new(job, BUILDING, items)
    for entity_id, (area, address_id, data, _) in zip(ids, new, strict=True):
        job.resolver.buildings(area.county)[(address_id, data.label)] = entity_id
    return outcome


def load_dwellings(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Dwellings in buildings; one room number per unit."""
    outcome = Outcome()
    new: list[tuple[AreaRef, int, DwellingCreate, dt.date]] = []

    def handle(line: int, row: Row) -> bool:
        area, bid = job.resolver.building(row)
        since = _since(job, row)
        data = DwellingCreate.model_validate(
            {
                "building_id": bid,
                "unit": parse_int(row.get("unit"), "unit"),
                "floor": parse_int(row.get("floor"), "floor"),
                "room": row.get("room") or "",
                "use": row.get("use") or "residential",
                "floor_area_m2": parse_float(row.get("floor_area_m2"), "floor_area_m2"),
                "owner_name": row.get("owner_name"),
                "status": row.get("status") or "unknown",
            }
        )
        dwellings = job.resolver.dwellings(area.county)
        key = (bid, data.unit, data.room)
        if key in dwellings:
            return True
        dwellings[key] = (-1, data.status)
        new.append((area, bid, data, since))
        return False

    each_row(rows, outcome, handle, "room")
    fields = set(DWELLING.attributes)
    items = [
        NewItem(area.id, data.model_dump(include=fields), {"building_id": bid}, since)
        for area, bid, data, since in new
    ]
    ids = write_new(job, DWELLING, items)
    for entity_id, (area, bid, data, _) in zip(ids, new, strict=True):
        job.resolver.dwellings(area.county)[(bid, data.unit, data.room)] = (entity_id, data.status)
    return outcome
