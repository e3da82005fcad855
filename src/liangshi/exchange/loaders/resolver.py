"""Natural keys to ids for the loaders, and how a row is refused: areas, streets, plates, buildings, dwellings,
venues and document holders, read once per county and cached for the length of an import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from liangshi.access.rules import Actor
from liangshi.addresses.models import Address, AddressVersion, StreetVersion
from liangshi.addresses.rules import parse_plate_number, street_axis
from liangshi.areas.models import Area
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.bulk import where_in
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.exchange import formats
from liangshi.exchange.rows import AreaRef, Row
from liangshi.persons.models import (
    Document,
    DocumentVersion,
    PersonVersion,
)
from liangshi.persons.service import document_query
from liangshi.sealed import keys_for
from liangshi.venues.models import Venue, VenueVersion


@dataclass(frozen=True)
class RowError:
    """A rejected row: where, which field, why."""

    line: int
    field: str
    code: str
    message_zh: str
    message_en: str


class Rejected(Exception):
    """A row refused: carries its error."""

    def __init__(self, field: str, code: str, zh: str, en: str) -> None:
        super().__init__(code)
        self.field, self.code, self.zh, self.en = field, code, zh, en


def reject_from(exc: LiangshiError | ValidationError, default_field: str) -> Rejected:
    """A row error from a domain error or a pydantic validation error."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",)) or default_field
        ctx = err.get("ctx") or {}
        return Rejected(
            loc, str(err.get("type")), str(ctx.get("zh") or err["msg"]), str(ctx.get("en") or err["msg"])
        )
    return Rejected(str(exc.data.get("field", default_field)), exc.code, exc.message_zh, exc.message_en)


PlateKey = tuple[int | None, int | None, int, int | None]  # street id, village area id, base, sub

# Positions closer than this (degrees; metres for the chainage) are one place: a value read back from either
# database compares equal to the file's, this only absorbs the last bit of a float.
_SAME_PLACE = 1e-9


def _near(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= _SAME_PLACE


@dataclass(frozen=True)
class PlateRef:
    """A current plate under its number: its community and where it stands. Several plates may carry one number
    (a duplicate number, 一号多址): the register holds them so that the checks can find them."""

    id: int
    area_id: int
    lon: float | None
    lat: float | None
    chainage_m: float | None

    def same_plate(
        self, area_id: int, lon: float | None, lat: float | None, chainage_m: float | None
    ) -> bool:
        """Whether a row names this very plate: the same community and the same place (position and chainage,
        or both unknown). A row that differs in either is another door carrying the same number."""
        return (
            self.area_id == area_id
            and _near(self.lon, lon)
            and _near(self.lat, lat)
            and _near(self.chainage_m, chainage_m)
        )


@dataclass(frozen=True)
class VenueRef:
    """A current venue as stay rows refer to it (by its community and name)."""

    id: int
    area_id: int
    county_code: str
    kind: str
    address_id: int
    status: str


class Resolver:
    """Natural keys to ids, cached per county for the length of an import."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.reset()

    def reset(self) -> None:
        """Forget everything (after a chunk rolled back)."""
        self._areas: dict[str, AreaRef] | None = None
        self._streets: dict[tuple[str, str], int] | None = None
        self._axes: dict[int, tuple[float, float, float] | None] | None = None
        self._plates: dict[str, dict[PlateKey, list[PlateRef]]] = {}
        self._buildings: dict[str, dict[tuple[int, str], int]] = {}
        self._dwellings: dict[str, dict[tuple[int, int | None, str], tuple[int, str]]] = {}
        self._venues: dict[tuple[int, str], list[VenueRef]] | None = None

    def area(self, code: str | None, field: str = "community_code") -> AreaRef:
        """An area in the actor's jurisdiction by code."""
        if self._areas is None:
            self._areas = {
                c: AreaRef(i, county, path, level)
                for i, c, county, path, level in self.session.execute(
                    select(Area.id, Area.code, Area.county_code, Area.path, Area.level)
                )
            }
        ref = self._areas.get(code or "")
        if ref is None or not self.actor.covers_path(ref.path):
            raise Rejected(field, "area.not_found", f"未找到区划“{code}”", f"Area {code!r} not found")
        return ref

    def street(self, county: str, name: str | None) -> int | None:
        """A street by district and current name; None for village plates (no street)."""
        if not name:
            return None
        if self._streets is None:
            v = StreetVersion
            self._streets = {
                (county_code, street_name): sid
                for sid, county_code, street_name in self.session.execute(
                    select(v.entity_id, v.county_code, v.name).where(
                        v.superseded_at.is_(None), v.valid_to.is_(None)
                    )
                )
            }
        sid = self._streets.get((county, name))
        if sid is None:
            raise Rejected(
                "street", "street.not_found", f"本区没有街路巷“{name}”", f"No street {name!r} in the district"
            )
        return sid

    def street_axis(self, street_id: int) -> tuple[float, float, float] | None:
        """A street's start and bearing (addresses.rules.street_axis), for the side of its plates."""
        if self._axes is None or street_id not in self._axes:  # first look, or a street created since
            v = StreetVersion
            self._axes = {
                sid: street_axis(start, bearing)
                for sid, start, bearing in self.session.execute(
                    select(v.entity_id, v.start_description, v.bearing_deg).where(
                        v.superseded_at.is_(None), v.valid_to.is_(None)
                    )
                )
            }
        return self._axes.get(street_id)

    def plates(self, county: str) -> dict[PlateKey, list[PlateRef]]:
        """Current plates of a county by (street, village, base, sub), in the order they were recorded."""
        if county not in self._plates:
            v = AddressVersion
            rows = self.session.execute(
                select(
                    Address.id,
                    Address.street_id,
                    Address.area_id,
                    v.base_number,
                    v.sub_number,
                    v.lon,
                    v.lat,
                    v.chainage_m,
                )
                .join(v, and_(v.entity_id == Address.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
                .where(Address.county_code == county, v.status != "retired")
                .order_by(Address.id)
            )
            plates: dict[PlateKey, list[PlateRef]] = {}
            for aid, street_id, area_id, base, sub, lon, lat, chainage in rows:
                key = (street_id, None if street_id else area_id, base, sub)
                plates.setdefault(key, []).append(PlateRef(aid, area_id, lon, lat, chainage))
            self._plates[county] = plates
        return self._plates[county]

    def plate(self, row: Row) -> tuple[AreaRef, PlateKey, int]:
        """The plate a row names, or rejection. Where several plates carry the number, the one in the row's
        community, and of those the first recorded (a file that names a building by its plate's number cannot
        say which of two doors with one number it stands at; the duplicate is a check's finding)."""
        area = self.area(row.get("community_code"))
        street_id = self.street(area.county, row.get("street"))
        try:
            base, sub = parse_plate_number(row.get("number") or "")
        except ValidationFailed as exc:
            raise reject_from(exc, "number") from None
        key: PlateKey = (street_id, None if street_id else area.id, base, sub)
        found = self.plates(area.county).get(key)
        if not found:
            raise Rejected("number", "plate.not_found", "未找到该门牌", "No such door plate")
        ref = next((p for p in found if p.area_id == area.id), found[0])
        return area, key, ref.id

    def buildings(self, county: str) -> dict[tuple[int, str], int]:
        """Current buildings of a county by (plate, label)."""
        if county not in self._buildings:
            v = BuildingVersion
            self._buildings[county] = {
                (address_id, label): bid
                for bid, address_id, label in self.session.execute(
                    select(Building.id, Building.address_id, v.label)
                    .join(
                        v, and_(v.entity_id == Building.id, v.superseded_at.is_(None), v.valid_to.is_(None))
                    )
                    .where(Building.county_code == county)
                )
            }
        return self._buildings[county]

    def building(self, row: Row) -> tuple[AreaRef, int]:
        """The building a row names."""
        area, _, address_id = self.plate(row)
        bid = self.buildings(area.county).get((address_id, row.get("building") or ""))
        if bid is None:
            raise Rejected("building", "building.not_found", "未找到该楼栋", "No such building")
        return area, bid

    def dwellings(self, county: str) -> dict[tuple[int, int | None, str], tuple[int, str]]:
        """Current dwellings of a county by (building, unit, room), with their status."""
        if county not in self._dwellings:
            v = DwellingVersion
            self._dwellings[county] = {
                (building_id, unit, room): (did, status)
                for did, building_id, unit, room, status in self.session.execute(
                    select(Dwelling.id, Dwelling.building_id, v.unit, v.room, v.status)
                    .join(
                        v, and_(v.entity_id == Dwelling.id, v.superseded_at.is_(None), v.valid_to.is_(None))
                    )
                    .where(Dwelling.county_code == county)
                )
            }
        return self._dwellings[county]

    def dwelling(self, row: Row) -> tuple[AreaRef, int, str]:
        """The dwelling a row names, with its status."""
        area, bid = self.building(row)
        unit = parse_int(row.get("unit"), "unit")
        found = self.dwellings(area.county).get((bid, unit, row.get("room") or ""))
        if found is None:
            raise Rejected("room", "dwelling.not_found", "未找到该房屋", "No such dwelling")
        return area, found[0], found[1]

    def venues(self) -> dict[tuple[int, str], list[VenueRef]]:
        """Current venues by (area, name): few, read once per import."""
        if self._venues is None:
            v = VenueVersion
            self._venues = {}
            for vid, area_id, county, kind, address_id, name, status in self.session.execute(
                select(
                    Venue.id,
                    Venue.area_id,
                    Venue.county_code,
                    Venue.venue_kind,
                    Venue.address_id,
                    v.name,
                    v.status,
                )
                .join(v, and_(v.entity_id == Venue.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
                .order_by(Venue.id)
            ):
                ref = VenueRef(int(vid), int(area_id), str(county), str(kind), int(address_id), str(status))
                self._venues.setdefault((ref.area_id, str(name)), []).append(ref)
        return self._venues

    def venue(self, row: Row) -> VenueRef:
        """The venue a row names by its community and name (the one current venue of that name there)."""
        area = self.area(row.get("community_code"))
        found = self.venues().get((area.id, row.get("venue") or ""), [])
        if not found:
            raise Rejected(
                "venue", "venue.not_found", "本社区没有该名称的场所", "No venue of that name in the community"
            )
        if len(found) > 1:
            raise Rejected(
                "venue",
                "venue.name_ambiguous",
                "本社区有多个同名场所，无法确定",
                "Several venues of the community have that name",
            )
        return found[0]

    def persons_by_document(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
        """Holders of current documents (type, number) -> (person id, current name)."""
        wanted = set(keys)
        if not wanted:
            return {}
        # Three lookups by index rather than one join, so that no plan can scan whole tables per chunk.
        dv, pv = DocumentVersion, PersonVersion
        # The current-row conditions are checked here, not in SQL: with them PostgreSQL prefers the partial
        # unique index, whose leading column is the type, and tests every number against the whole list.
        # The numbers go as one array parameter (SQLAlchemy would render and bind 2,000 separate ones).
        # The numbers are sealed (docs/encryption.md): looked up by their keyed-hash index entries.
        by_key = keys_for(self.session, dv.number, sorted({n for _, n in wanted}))
        found = where_in(
            self.session,
            f"SELECT doc_type, number_idx, entity_id, superseded_at, valid_to FROM {dv.__tablename__}",
            "number_idx",
            sorted(by_key),
        )
        docs = [
            (t, by_key[k], int(e))
            for t, k, e, superseded, valid_to in found
            if (t, by_key[k]) in wanted and superseded is None and valid_to is None
        ]
        if not docs:
            return {}
        holder = {
            int(d): int(p)
            for d, p in self.session.execute(
                select(Document.id, Document.person_id).where(Document.id.in_([e for _, _, e in docs]))
            )
        }
        names = {
            int(p): str(name)
            for p, name in self.session.execute(
                select(pv.entity_id, pv.name).where(
                    pv.entity_id.in_(set(holder.values())), pv.superseded_at.is_(None), pv.valid_to.is_(None)
                )
            )
        }
        return {(t, n): (holder[e], names.get(holder[e], "")) for t, n, e in docs}


def parse_int(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise Rejected(field, "number.invalid", f"“{value}”不是数字", f"{value!r} is not a number") from None


def parse_float(value: str | None, field: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise Rejected(field, "number.invalid", f"“{value}”不是数字", f"{value!r} is not a number") from None


def parse_date(value: str | None, field: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return formats.parse_date(value, field)
    except ValidationFailed as exc:
        raise reject_from(exc, field) from None


def doc_key(row: Row, today: dt.date) -> tuple[str, str]:
    number = row.get("id_number")
    if not number:
        raise Rejected(
            "id_number", "import.id_number_required", "缺少证件号码", "The document number is missing"
        )
    return row.get("doc_type") or "resident_id", document_query(number, today)


def document_holders(
    resolver: Resolver, rows: Sequence[tuple[int, Row]], today: dt.date
) -> dict[tuple[str, str], tuple[int, str]]:
    """Current holders of the documents a chunk names (rows without a usable document are skipped here)."""
    keys = []
    for _, row in rows:
        try:
            keys.append(doc_key(row, today))
        except Rejected:
            continue
    return resolver.persons_by_document(keys)


def holder_id(holders: dict[tuple[str, str], tuple[int, str]], key: tuple[str, str]) -> int:
    found = holders.get(key)
    if found is None:
        raise Rejected(
            "id_number", "person.not_found", "未找到持该证件的人员", "No person holds this document"
        )
    return found[0]
