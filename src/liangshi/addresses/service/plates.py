"""QR door plates (二维码门牌): the contact each plate's code carries, the code itself, and the printable sheet of
an area's or a street's plates. What a code says is public (an address and a station's duty phone): no person."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.addresses.models import ADDRESS, STREET, Address, AddressVersion, PlateContact, StreetVersion
from liangshi.addresses.plate_sheet import PlateCard, render_sheet
from liangshi.addresses.rules import contact_text, plate_qr_payload
from liangshi.addresses.schemas import PlateContactIn
from liangshi.addresses.service.core import _subtree, describe
from liangshi.areas import service as areas
from liangshi.areas.models import Area, AreaVersion
from liangshi.audit import service as audit
from liangshi.errors import NotFound
from liangshi.registry import Context, history

MAX_SHEET_PLATES = (
    2000  # 250 A4 pages: a community or a long street; a whole district is printed by community
)


def set_plate_contact(session: Session, ctx: Context, area_id: int, data: PlateContactIn) -> dict[str, Any]:
    """Set who answers for the plates of an area (and the areas below it that have no contact of their own)."""
    ctx.actor.ensure("address.write")
    area = registry.ensure_area_in_scope(session, ctx, area_id)
    row = session.execute(select(PlateContact).where(PlateContact.area_id == area.id)).scalar_one_or_none()
    if row is None:
        row = PlateContact(area_id=area.id)
        session.add(row)
    row.station_name, row.station_phone = data.station_name, data.station_phone
    row.grid_name, row.grid_phone = data.grid_name, data.grid_phone
    row.updated_by, row.updated_at = ctx.actor.username, ctx.now
    session.flush()
    registry.log(ctx, session, [audit.Event("plate.contact_set", "area", area.id, None, data.model_dump())])
    return _contact_json(row, area.id)


def _contact_json(row: PlateContact | None, area_id: int) -> dict[str, Any]:
    if row is None:
        return {"area_id": area_id, "from_area_id": None, "station": None, "grid": None}
    return {
        "area_id": area_id,
        "from_area_id": row.area_id,
        "station": contact_text(row.station_name, row.station_phone),
        "grid": contact_text(row.grid_name, row.grid_phone),
        "station_name": row.station_name,
        "station_phone": row.station_phone,
        "grid_name": row.grid_name,
        "grid_phone": row.grid_phone,
    }


def _contact_rows(session: Session, paths: set[str]) -> dict[str, PlateContact | None]:
    """For each area path, the contact of the nearest area on it (itself first) that has one."""
    ids = {int(part) for path in paths for part in path.strip("/").split("/") if part}
    rows = {
        r.area_id: r
        for r in session.execute(select(PlateContact).where(PlateContact.area_id.in_(ids))).scalars()
    }
    found: dict[str, PlateContact | None] = {}
    for path in paths:
        chain = [int(part) for part in path.strip("/").split("/") if part]
        found[path] = next((rows[a] for a in reversed(chain) if a in rows), None)
    return found


def plate_contact(session: Session, ctx: Context, area_id: int) -> dict[str, Any]:
    """The contact an area's plates carry (its own or its nearest enclosing area's)."""
    ctx.actor.ensure("address.read")
    area = registry.ensure_area_in_scope(session, ctx, area_id)
    return _contact_json(_contact_rows(session, {area.path})[area.path], area.id)


def _card(
    session: Session, address_id: int, code: str, contact: PlateContact | None, base_url: str, on: dt.date
) -> PlateCard:
    station = contact_text(contact.station_name, contact.station_phone) if contact else None
    grid = contact_text(contact.grid_name, contact.grid_phone) if contact else None
    return PlateCard(
        text=describe(session, address_id, on)["text"],
        code=code,
        payload=plate_qr_payload(base_url, code, station, grid),
        station=station,
        grid=grid,
    )


def plate_qr(session: Session, ctx: Context, address_id: int, base_url: str) -> PlateCard:
    """One plate's card: its standard address, code and what its QR code holds."""
    ctx.actor.ensure("address.read")
    address = registry.get_entity(session, ADDRESS, address_id, ctx.actor)
    area = session.get(Area, address.area_id)
    assert area is not None
    contact = _contact_rows(session, {area.path})[area.path]
    return _card(session, address.id, str(address.code), contact, base_url, ctx.today)


def _no_plates(where: str) -> NotFound:
    return NotFound(
        "plate_sheet.no_plates",
        f"{where}没有可打印的门牌（没有未注销的门楼牌）",
        f"{where} has no plates to print (no door plate that is not retired)",
        {"area": where},
    )


def plate_cards(
    session: Session, ctx: Context, *, base_url: str, area_id: int | None = None, street_id: int | None = None
) -> tuple[str, list[PlateCard]]:
    """The title and the plate cards of a sheet: the plates (not retired) of an area (a street or community,
    every area below it included) or of a street within the actor's jurisdiction, in street and number order."""
    ctx.actor.ensure("address.read")
    on = ctx.today
    v, sv = AddressVersion, StreetVersion
    stmt = (
        select(Address.id, Address.code, Area.path)
        .join(v, and_(v.entity_id == Address.id, v.superseded_at.is_(None), history.valid_on(v, on)))
        .join(Area, Area.id == Address.area_id)
        .outerjoin(
            sv, and_(sv.entity_id == Address.street_id, sv.superseded_at.is_(None), history.valid_on(sv, on))
        )
        .where(v.status != "retired", Address.code.is_not(None), Area.path.startswith(ctx.actor.area_path))
        .order_by(sv.name, v.base_number, v.sub_number, Address.id)
    )
    if street_id is not None:
        street = registry.get_entity(session, STREET, street_id, ctx.actor)
        srow = history.open_row(session, STREET, street.id) or history.latest_row(session, STREET, street.id)
        title = str(srow.name) if srow is not None else str(street.id)
        stmt = stmt.where(Address.street_id == street.id)
    else:
        assert area_id is not None
        area, inside = _subtree(session, ctx, area_id)
        title = areas.names_of(session, [area.id], on).get(area.id) or str(area.code)
        stmt = stmt.where(Address.area_id.in_(inside))
    rows = session.execute(stmt.limit(MAX_SHEET_PLATES + 1)).all()
    if not rows:
        raise _no_plates(title)
    if len(rows) > MAX_SHEET_PLATES:
        raise NotFound(
            "plate_sheet.too_many",
            f"一次最多打印{MAX_SHEET_PLATES}块门牌，请按社区或街路巷分别打印",
            f"At most {MAX_SHEET_PLATES} plates a sheet: print by community or street",
            {"limit": MAX_SHEET_PLATES},
            http_status=422,
        )
    contacts = _contact_rows(session, {path for _, _, path in rows})
    cards = [_card(session, int(aid), str(code), contacts[path], base_url, on) for aid, code, path in rows]
    return title, cards


def plate_sheet(
    session: Session, ctx: Context, *, base_url: str, area_id: int | None = None, street_id: int | None = None
) -> tuple[str, bytes]:
    """The printable plate sheet (PDF) of an area or a street: (title, PDF bytes)."""
    title, cards = plate_cards(session, ctx, base_url=base_url, area_id=area_id, street_id=street_id)
    pdf = render_sheet(f"二维码门牌 {title}", cards)
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "plate.sheet",
                "street" if street_id is not None else "area",
                street_id if street_id is not None else area_id,
                None,
                {"plates": len(cards)},
            )
        ],
    )
    return title, pdf


def plate_by_code(session: Session, code: str, on: dt.date) -> dict[str, Any] | None:
    """What a scanned code opens, for anyone (public: the address and its contact, nothing of a person): the
    plate's ids, its standard address and its buildings' ids; None for an unknown or retired plate."""
    address = session.execute(select(Address).where(Address.code == code)).scalar_one_or_none()
    if address is None:
        return None
    row = history.open_row(session, ADDRESS, address.id)
    if row is None or row.status == "retired":
        return None
    area = session.get(Area, address.area_id)
    assert area is not None
    contact = _contact_rows(session, {area.path})[area.path]
    return {
        "address_id": address.id,
        "area_id": address.area_id,
        "area_path": area.path,
        "code": code,
        "text": describe(session, address.id, on)["text"],
        "station": contact_text(contact.station_name, contact.station_phone) if contact else None,
        "grid": contact_text(contact.grid_name, contact.grid_phone) if contact else None,
    }


SHEET_LEVELS = ("subdistrict", "town", "township", "community", "village", "group", "grid")


def sheet_places(
    session: Session, *, street: str | None, community: str | None, district: str | None, on: dt.date
) -> list[int]:
    """The ids a sheet's place stands for, as a user writes it: a street's current name (within a district code),
    or a community's code or current name (a township's too)."""
    if street is not None:
        sv = StreetVersion
        stmt = select(sv.entity_id).where(
            sv.name == street, sv.superseded_at.is_(None), sv.valid_to.is_(None)
        )
        if district:
            stmt = stmt.where(sv.county_code == district)
        return sorted({int(i) for i in session.execute(stmt).scalars()})
    by_code = session.execute(select(Area.id).where(Area.code == community)).scalars().all()
    if by_code:
        return [int(i) for i in by_code]
    av = AreaVersion
    stmt = (
        select(Area.id)
        .join(av, and_(av.entity_id == Area.id, av.superseded_at.is_(None), history.valid_on(av, on)))
        .where(av.name == community, Area.level.in_(SHEET_LEVELS))
    )
    if district:
        stmt = stmt.where(Area.county_code == district)
    return sorted({int(i) for i in session.execute(stmt).scalars()})
