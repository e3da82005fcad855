"""Street and door-plate routes."""

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.addresses import service
from liangshi.addresses.batch import XLSX, matches_workbook, read_upload
from liangshi.addresses.models import Address, Street, StreetVersion
from liangshi.addresses.plate_sheet import qr_svg
from liangshi.addresses.schemas import (
    AddressCorrect,
    AddressCreate,
    AddressPatch,
    PlateContactIn,
    StreetCorrect,
    StreetCreate,
    StreetPatch,
)
from liangshi.errors import ValidationFailed
from liangshi.http.crud import object_read, object_routes, page_read, paging
from liangshi.http.tx import unit
from liangshi.registry import Context, Snapshot
from liangshi.schemas import ObjectRead, PageRead

streets = APIRouter(prefix="/streets", tags=["streets 街路巷"])
addresses = APIRouter(prefix="/addresses", tags=["addresses 门楼牌"])
area_views = APIRouter(prefix="/areas", tags=["addresses 门楼牌"])


@area_views.get("/{area_id}/plate-installation", summary="门楼牌编制安装率 of an area on a date")
def plate_installation(
    area_id: int, request: Request, on: dt.date | None = Query(None, description="Date (default today)")
) -> dict[str, Any]:
    """Installed plates ÷ plates that should exist, with numerator, denominator and counts by status."""
    with unit(request) as (session, ctx):
        return service.installation_rate(session, ctx, area_id, on)


@area_views.get("/{area_id}/geojson", summary="Plates and buildings of an area as GeoJSON")
def area_geojson(
    area_id: int,
    request: Request,
    crs: str = Query("wgs84", pattern="^(wgs84|gcj02)$", description="wgs84, or gcj02 for Chinese map tiles"),
    on: dt.date | None = Query(None),
) -> dict[str, Any]:
    """A FeatureCollection of plate points, each with the buildings on it."""
    with unit(request) as (session, ctx):
        return service.geojson(session, ctx, area_id, crs=crs, on=on)


@area_views.get("/{area_id}/plate-gaps", summary="Door-plate numbering defects of an area, per street")
def area_plate_gaps(area_id: int, request: Request, on: dt.date | None = Query(None)) -> dict[str, Any]:
    """Missing numbers per side, duplicates, wrong-side and out-of-order numbers, as `liangshi plates gaps`."""
    with unit(request) as (session, ctx):
        return service.plate_gaps(session, ctx, area_id, on)


@streets.get("/{object_id}/proposal", summary="Propose a number for a new door between two plates")
def street_proposal(
    object_id: int,
    request: Request,
    lower: str = Query(..., max_length=20, description="The lower neighbour as written, e.g. 12"),
    upper: str = Query(..., max_length=20, description="The upper neighbour, e.g. 16"),
    reserved: str = Query("", max_length=200, description="Reserved numbers, e.g. 14,18"),
) -> dict[str, Any]:
    """A free number of the right parity (reserved first), else a sub-number of the lower neighbour."""
    reserved_numbers = []
    for part in (x.strip() for x in reserved.split(",")):
        if not part:
            continue
        try:
            reserved_numbers.append(int(part))
        except ValueError:
            raise ValidationFailed(
                "plate.reserved_invalid",
                f"预留号“{part}”无效：应为逗号分隔的正整数，如 14,18",
                f"Invalid reserved number {part!r}: expected comma-separated positive integers like 14,18",
                {"field": "reserved", "input": reserved},
            ) from None
    with unit(request) as (session, ctx):
        return service.propose_for_street(session, ctx, object_id, lower, upper, reserved_numbers)


class MatchIn(BaseModel):
    """Addresses to match."""

    model_config = ConfigDict(extra="forbid")
    texts: list[str] = Field(min_length=1, max_length=1000)


@addresses.post("/match", summary="Match free-text addresses to standard addresses")
def match_addresses(body: MatchIn, request: Request) -> list[dict[str, Any]]:
    """Each text parsed and matched, with the level reached, a confidence and the reasons."""
    with unit(request) as (session, ctx):
        return service.match_batch(session, ctx, body.texts)


@addresses.post(
    "/match.xlsx",
    summary="Match a column of addresses (xlsx, CSV or text upload); the matches as xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}}},
)
def match_addresses_xlsx(request: Request, file: UploadFile = File(...)) -> Response:
    """The first column's addresses matched; one row per address and a sheet of ranked candidates."""
    texts = read_upload(file.file)
    with unit(request) as (session, ctx):
        results = service.match_batch(session, ctx, texts)
    en = request.headers.get("accept-language", "").lower().startswith("en")
    return Response(
        matches_workbook(results, en),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="address-matches.xlsx"'},
    )


def base_url(request: Request) -> str:
    """Where a plate's QR code points: the configured public address, else the one this request came to."""
    configured: str | None = request.app.state.settings.public_base_url
    return configured or str(request.base_url)


def pdf_response(title: str, body: bytes, name: str) -> Response:
    """A PDF download (an ASCII file name, and the Chinese title as the RFC 5987 one)."""
    quoted = quote(f"{title}.pdf")
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quoted}"},
    )


@area_views.get("/{area_id}/plate-contact", summary="The station and grid contact an area's QR plates carry")
def get_plate_contact(area_id: int, request: Request) -> dict[str, Any]:
    """The area's own contact or its nearest enclosing area's (`from_area_id`)."""
    with unit(request) as (session, ctx):
        return service.plate_contact(session, ctx, area_id)


@area_views.put("/{area_id}/plate-contact", summary="Set the station and grid contact of an area's QR plates")
def put_plate_contact(area_id: int, body: PlateContactIn, request: Request) -> dict[str, Any]:
    """A station's and a grid's name and duty phone (never a person's); areas below without one inherit it."""
    with unit(request) as (session, ctx):
        return service.set_plate_contact(session, ctx, area_id, body)


@area_views.get(
    "/{area_id}/plate-sheet.pdf",
    summary="Printable QR door plates of an area (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def area_plate_sheet(area_id: int, request: Request) -> Response:
    """Eight plates an A4 page: the standard address in Chinese, its code, QR code and contacts."""
    with unit(request) as (session, ctx):
        title, body = service.plate_sheet(session, ctx, base_url=base_url(request), area_id=area_id)
    return pdf_response(title, body, f"plates-area-{area_id}.pdf")


@streets.get(
    "/{street_id}/plate-sheet.pdf",
    summary="Printable QR door plates of a street (PDF)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def street_plate_sheet(street_id: int, request: Request) -> Response:
    """The street's plates within the jurisdiction, in number order, eight an A4 page."""
    with unit(request) as (session, ctx):
        title, body = service.plate_sheet(session, ctx, base_url=base_url(request), street_id=street_id)
    return pdf_response(title, body, f"plates-street-{street_id}.pdf")


@addresses.get("/{address_id}/qr", summary="What a plate's QR code holds")
def address_qr(address_id: int, request: Request) -> dict[str, Any]:
    """The plate's standard address, code, and the QR payload (address code and contacts only)."""
    with unit(request) as (session, ctx):
        card = service.plate_qr(session, ctx, address_id, base_url(request))
    return {
        "text": card.text,
        "code": card.code,
        "payload": card.payload,
        "station": card.station,
        "grid": card.grid,
    }


@addresses.get(
    "/{address_id}/qr.svg",
    summary="A plate's QR code as SVG",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def address_qr_svg(address_id: int, request: Request) -> Response:
    """The QR code alone, for a plate maker's own layout."""
    with unit(request) as (session, ctx):
        card = service.plate_qr(session, ctx, address_id, base_url(request))
    return Response(qr_svg(card.payload), media_type="image/svg+xml")


@area_views.get("/{area_id}/address-quality", summary="Address quality checks of an area")
def address_quality(area_id: int, request: Request, on: dt.date | None = Query(None)) -> dict[str, Any]:
    """Plates without a building, buildings whose plate is missing or not installed, plates on retired streets."""
    with unit(request) as (session, ctx):
        return service.quality(session, ctx, area_id, on)


@streets.post("", response_model=ObjectRead, status_code=201, summary="Name a street")
def create_street(body: StreetCreate, request: Request) -> ObjectRead:
    """A new street; its name is unique within the district."""
    with unit(request) as (session, ctx):
        return object_read(service.create_street(session, ctx, body))


@streets.get("", response_model=PageRead, summary="Search streets")
def list_streets(
    request: Request,
    name: str | None = None,
    area_id: int | None = None,
    page: tuple[int, int] = Depends(paging),
) -> PageRead:
    """Streets in your jurisdiction, by name prefix or area."""
    with unit(request) as (session, ctx):
        where = []
        if name:
            where.append(StreetVersion.name.startswith(name, autoescape=True))
        if area_id is not None:
            where.append(Street.area_id == area_id)
        result = registry.search(session, ctx, service.STREET, where=where, offset=page[0], limit=page[1])
        return page_read(result)


object_routes(
    streets,
    service.STREET,
    patch=StreetPatch,
    correct=StreetCorrect,
    check=lambda session, ctx: service.street_check(session),
)


def _address_extra(session: Session, ctx: Context, snap: Snapshot) -> dict[str, Any]:
    return service.describe(session, snap.entity.id, ctx.today)


@addresses.post("", response_model=ObjectRead, status_code=201, summary="Record a door plate")
def create_address(body: AddressCreate, request: Request) -> ObjectRead:
    """A new door plate / standard address; one door, one number per street."""
    with unit(request) as (session, ctx):
        snap = service.create_address(session, ctx, body)
        return object_read(snap, _address_extra(session, ctx, snap))


@addresses.get("", response_model=PageRead, summary="List door plates")
def list_addresses(
    request: Request,
    street_id: int | None = None,
    area_id: int | None = None,
    page: tuple[int, int] = Depends(paging),
) -> PageRead:
    """Plates in your jurisdiction, by street or area."""
    with unit(request) as (session, ctx):
        where = []
        if street_id is not None:
            where.append(Address.street_id == street_id)
        if area_id is not None:
            where.append(Address.area_id == area_id)
        result = registry.search(session, ctx, service.ADDRESS, where=where, offset=page[0], limit=page[1])
        return page_read(result, lambda snap: _address_extra(session, ctx, snap))


object_routes(
    addresses,
    service.ADDRESS,
    patch=AddressPatch,
    correct=AddressCorrect,
    extra=_address_extra,
    check=lambda session, ctx: service.address_check(session, lifecycle=True),
    correct_check=lambda session, ctx: service.address_check(session, lifecycle=False),
    changes=service.plate_changes,
)
