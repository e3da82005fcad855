"""Per-kind bulk loaders: validate rows with the API's rules, resolve natural keys, insert in bulk.

Each loader takes a chunk of rows and returns what it loaded, what already existed (re-imports change nothing) and
the rejected rows with their line, field and reason. Rows are checked with the same schemas and rules as the API;
what the services check one object at a time (uniqueness, one head per household, one open residence) is checked
here for the whole chunk with a few queries, then the rows are written with bulk inserts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session

from liangshi.access.rules import Actor
from liangshi.addresses.models import Address, AddressVersion, StreetVersion
from liangshi.addresses.rules import parse_plate_number
from liangshi.addresses.schemas import AddressCreate, StreetCreate
from liangshi.addresses.service import create_street
from liangshi.areas.models import Area
from liangshi.areas.schemas import AreaCreate
from liangshi.areas.service import create_area
from liangshi.audit import service as audit
from liangshi.buildings.models import Building, BuildingVersion, Dwelling, DwellingVersion
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.buildings.service import BUILDING, DWELLING
from liangshi.bulk import allocate_ids, bulk_insert, insert_tuples, stamp, where_in
from liangshi.clock import CHINA_TZ
from liangshi.common.idnumber import mask_id_number
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.exchange import formats, person_columns
from liangshi.exchange.models import ImportAuditEntry
from liangshi.exchange.rows import Chunk, Row
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
from liangshi.persons.rules import HEAD, ID_KINDS, birth_date_from_id, check_document_agrees, name_keys
from liangshi.persons.schemas import DocumentIn, MemberIn, PersonCreate
from liangshi.persons.service import PERSON, document_query
from liangshi.registry import Context, Provenance, entity_row, version_meta
from liangshi.rentals.models import Rental, RentalTenant, RentalTenantVersion, RentalVersion
from liangshi.rentals.rules import check_agreement, check_lease, parse_signed
from liangshi.rentals.schemas import RentalCreate
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.rules import check_dates, check_departure
from liangshi.residence.schemas import ArrivalIn
from liangshi.venues import rules as venue_rules
from liangshi.venues import service as venues
from liangshi.venues.models import Stay, Venue, VenueVersion
from liangshi.venues.schemas import StayItem, VenueCreate


@dataclass(frozen=True)
class RowError:
    """A rejected row: where, which field, why."""

    line: int
    field: str
    code: str
    message_zh: str
    message_en: str


@dataclass
class Outcome:
    """What a chunk came to."""

    loaded: int = 0
    existing: int = 0
    errors: list[RowError] = field(default_factory=list)


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


@dataclass
class Job:
    """Everything a loader needs besides the rows."""

    session: Session
    actor: Actor
    now: dt.datetime
    today: dt.date
    prov: Provenance
    batch_id: int
    resolver: Resolver

    def ctx(self) -> Context:
        """A use-case context for the per-row services."""
        return Context(
            actor=self.actor, now=self.now, today=self.today, purpose=f"import batch {self.batch_id}"
        )


@dataclass(frozen=True)
class AreaRef:
    """An area as rows refer to it."""

    id: int
    county: str
    path: str
    level: str


PlateKey = tuple[int | None, int | None, int, int | None]  # street id, village area id, base, sub


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
        self._plates: dict[str, dict[PlateKey, int]] = {}
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

    def plates(self, county: str) -> dict[PlateKey, int]:
        """Current plates of a county by (street, village, base, sub)."""
        if county not in self._plates:
            v = AddressVersion
            rows = self.session.execute(
                select(Address.id, Address.street_id, Address.area_id, v.base_number, v.sub_number)
                .join(v, and_(v.entity_id == Address.id, v.superseded_at.is_(None), v.valid_to.is_(None)))
                .where(Address.county_code == county, v.status != "retired")
            )
            self._plates[county] = {
                (street_id, None if street_id else area_id, base, sub): aid
                for aid, street_id, area_id, base, sub in rows
            }
        return self._plates[county]

    def plate(self, row: Row) -> tuple[AreaRef, PlateKey, int]:
        """The plate a row names, or rejection."""
        area = self.area(row.get("community_code"))
        street_id = self.street(area.county, row.get("street"))
        try:
            base, sub = parse_plate_number(row.get("number") or "")
        except ValidationFailed as exc:
            raise reject_from(exc, "number") from None
        key: PlateKey = (street_id, None if street_id else area.id, base, sub)
        aid = self.plates(area.county).get(key)
        if aid is None:
            raise Rejected("number", "plate.not_found", "未找到该门牌", "No such door plate")
        return area, key, aid

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
        unit = _int(row.get("unit"), "unit")
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
        found = where_in(
            self.session,
            f"SELECT doc_type, number, entity_id, superseded_at, valid_to FROM {dv.__tablename__}",
            "number",
            sorted({n for _, n in wanted}),
        )
        docs = [
            (t, n, int(e))
            for t, n, e, superseded, valid_to in found
            if (t, n) in wanted and superseded is None and valid_to is None
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


def _int(value: str | None, field: str) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value))
    except ValueError:
        raise Rejected(field, "number.invalid", f"“{value}”不是数字", f"{value!r} is not a number") from None


def _float(value: str | None, field: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise Rejected(field, "number.invalid", f"“{value}”不是数字", f"{value!r} is not a number") from None


def _date(value: str | None, field: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return formats.parse_date(value, field)
    except ValidationFailed as exc:
        raise reject_from(exc, field) from None


def _each(
    rows: Sequence[tuple[int, Row]],
    outcome: Outcome,
    handle: Callable[[int, Row], bool | None],
    default_field: str,
) -> None:
    """Run a row handler; it returns True when the row already existed. Errors become row errors."""
    for line, row in rows:
        try:
            existed = handle(line, row)
        except Rejected as r:
            outcome.errors.append(RowError(line, r.field, r.code, r.zh, r.en))
            continue
        except (LiangshiError, ValidationError) as exc:
            refused = reject_from(exc, default_field)
            outcome.errors.append(RowError(line, refused.field, refused.code, refused.zh, refused.en))
            continue
        if existed:
            outcome.existing += 1
        else:
            outcome.loaded += 1


def _meta(
    job: Job, entity_id: int, county: str, valid_from: dt.date, valid_to: dt.date | None = None
) -> dict[str, Any]:
    return version_meta(
        entity_id=entity_id,
        county=county,
        valid_from=valid_from,
        valid_to=valid_to,
        now=job.now,
        prov=job.prov,
        actor_id=job.actor.user_id,
    )


def _audit(job: Job, events: list[audit.Event]) -> list[int]:
    return audit.record(job.session, job.actor, events, purpose=f"import batch {job.batch_id}", now=job.now)


@dataclass
class New:
    """An object a chunk creates: where, its identity references, its first version, whose data it is."""

    area: AreaRef
    refs: dict[str, Any]
    attrs: dict[str, Any]
    valid_from: dt.date
    valid_to: dt.date | None = None
    subject: int | None = None


def _write_new(
    job: Job,
    kind: str,
    entity: type[Any],
    version: type[Any],
    items: list[New],
    identity: Callable[[int, New], dict[str, Any]] | None = None,
) -> list[int]:
    """Allocate ids, bulk-insert identities and first versions, audit them in one entry; returns the ids."""
    ids = allocate_ids(job.session, entity, len(items))
    entities, versions = [], []
    for entity_id, item in zip(ids, items, strict=True):
        extra = identity(entity_id, item) if identity else {}
        entities.append(
            entity_row(
                entity_id=entity_id,
                county=item.area.county,
                area_id=item.area.id,
                now=job.now,
                **item.refs,
                **extra,
            )
        )
        row = {**_meta(job, entity_id, item.area.county, item.valid_from, item.valid_to), **item.attrs}
        if version is PersonVersion:
            # Bulk inserts bypass column defaults: the name's search keys are filled here.
            row["name_pinyin"], row["name_initials"] = name_keys(row["name"])
        versions.append(row)
    bulk_insert(job.session, entity, entities)
    bulk_insert(job.session, version, versions)
    _audit_created(job, kind, ids, [item.subject for item in items])
    return ids


def _audit_created(job: Job, kind: str, ids: list[int], subjects: Sequence[int | None]) -> None:
    """One audit entry for the objects of one kind a chunk created: their ids and whose data they are.

    Per chunk rather than per object: a hash-chained entry per imported row would cost more than the import's
    own writes. Every created object is still in exactly one entry (detail "ids"), next to the persons concerned;
    the batch's index row (ImportAuditEntry: the entry's kind and id range) lets a person's access log find it.
    """
    if not ids:
        return
    persons = sorted({s for s in subjects if s is not None})
    detail: dict[str, Any] = {"batch": job.batch_id, "count": len(ids), "ids": ids}
    if persons:
        detail["persons"] = persons
    (seq,) = _audit(job, [audit.Event(f"{kind}.create", kind, None, None, detail)])
    job.session.execute(
        insert(ImportAuditEntry).values(
            seq=seq, batch_id=job.batch_id, object_kind=kind, first_id=min(ids), last_id=max(ids)
        )
    )


# ---- small kinds: one service call per row, each in a savepoint ------------------------------------------------


def _per_row(job: Job, rows: Sequence[tuple[int, Row]], build: Callable[[Row], bool], field0: str) -> Outcome:
    outcome = Outcome()

    def handle(line: int, row: Row) -> bool:
        with job.session.begin_nested():
            return build(row)

    _each(rows, outcome, handle, field0)
    job.resolver.reset()
    return outcome


def load_areas(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Areas through the area service (few rows)."""

    def build(row: Row) -> bool:
        existing = job.session.execute(select(Area.id).where(Area.code == row["code"])).first()
        if existing is not None:
            return True
        data = AreaCreate.model_validate({k: row.get(k) for k in ("code", "name", "level", "parent_code")})
        create_area(job.session, job.ctx(), data)
        return False

    return _per_row(job, rows, build, "code")


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
                "bearing_deg": _int(row.get("bearing_deg"), "bearing_deg"),
            }
        )
        create_street(job.session, job.ctx(), data)
        job.resolver.reset()
        return False

    return _per_row(job, rows, build, "name")


# ---- bulk kinds ------------------------------------------------------------------------------------------------


def load_plates(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Door plates; one door, one number per street (or per village without streets)."""
    outcome = Outcome()
    new: list[tuple[AreaRef, PlateKey, AddressCreate]] = []

    def handle(line: int, row: Row) -> bool:
        area = job.resolver.area(row.get("community_code"))
        street_id = job.resolver.street(area.county, row.get("street"))
        data = AddressCreate.model_validate(
            {
                "area_id": area.id,
                "street_id": street_id,
                "number": row.get("number") or "",
                "plate_kind": row.get("plate_kind") or "door",
                "status": row.get("status") or "planned",
                "lon": _float(row.get("lon"), "lon"),
                "lat": _float(row.get("lat"), "lat"),
                "chainage_m": _float(row.get("chainage_m"), "chainage_m"),
            }
        )
        base, sub = parse_plate_number(data.number)
        key: PlateKey = (street_id, None if street_id else area.id, base, sub)
        plates = job.resolver.plates(area.county)
        if key in plates:
            return True
        plates[key] = -1  # taken by this chunk; a repeat in the file counts as existing
        new.append((area, key, data))
        return False

    _each(rows, outcome, handle, "number")
    items = [
        New(
            area,
            {"street_id": data.street_id},
            {
                "plate_kind": data.plate_kind,
                "base_number": key[2],
                "sub_number": key[3],
                "status": data.status,
                "lon": data.lon,
                "lat": data.lat,
                "chainage_m": data.chainage_m,
            },
            job.today,
        )
        for area, key, data in new
    ]
    # A stable address code: county code + a running number that is never reused.
    ids = _write_new(
        job,
        "address",
        Address,
        AddressVersion,
        items,
        identity=lambda i, item: {"code": f"{item.area.county}{i:012d}"},
    )
    for entity_id, (area, key, _) in zip(ids, new, strict=True):
        job.resolver.plates(area.county)[key] = entity_id
    return outcome


def load_buildings(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Buildings on plates; one label per plate."""
    outcome = Outcome()
    new: list[tuple[AreaRef, int, BuildingCreate]] = []

    def handle(line: int, row: Row) -> bool:
        area, _, address_id = job.resolver.plate(row)
        data = BuildingCreate.model_validate(
            {
                "address_id": address_id,
                "label": row.get("building") or "",
                "floors_above": _int(row.get("floors_above"), "floors_above"),
                "floors_below": _int(row.get("floors_below"), "floors_below"),
                "units": _int(row.get("units"), "units"),
                "use": row.get("use") or "residential",
                "structure": row.get("structure"),
                "year_built": _int(row.get("year_built"), "year_built"),
            }
        )
        buildings = job.resolver.buildings(area.county)
        if (address_id, data.label) in buildings:
            return True
        buildings[(address_id, data.label)] = -1
        new.append((area, address_id, data))
        return False

    _each(rows, outcome, handle, "building")
    fields = set(BUILDING.attributes)
    items = [
        New(area, {"address_id": address_id}, data.model_dump(include=fields), job.today)
        for area, address_id, data in new
    ]
    ids = _write_new(job, "building", Building, BuildingVersion, items)
    for entity_id, (area, address_id, data) in zip(ids, new, strict=True):
        job.resolver.buildings(area.county)[(address_id, data.label)] = entity_id
    return outcome


def load_dwellings(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Dwellings in buildings; one room number per unit."""
    outcome = Outcome()
    new: list[tuple[AreaRef, int, DwellingCreate]] = []

    def handle(line: int, row: Row) -> bool:
        area, bid = job.resolver.building(row)
        data = DwellingCreate.model_validate(
            {
                "building_id": bid,
                "unit": _int(row.get("unit"), "unit"),
                "floor": _int(row.get("floor"), "floor"),
                "room": row.get("room") or "",
                "use": row.get("use") or "residential",
                "floor_area_m2": _float(row.get("floor_area_m2"), "floor_area_m2"),
                "owner_name": row.get("owner_name"),
                "status": row.get("status") or "unknown",
            }
        )
        dwellings = job.resolver.dwellings(area.county)
        key = (bid, data.unit, data.room)
        if key in dwellings:
            return True
        dwellings[key] = (-1, data.status)
        new.append((area, bid, data))
        return False

    _each(rows, outcome, handle, "room")
    fields = set(DWELLING.attributes)
    items = [
        New(area, {"building_id": bid}, data.model_dump(include=fields), job.today) for area, bid, data in new
    ]
    ids = _write_new(job, "dwelling", Dwelling, DwellingVersion, items)
    for entity_id, (area, bid, data) in zip(ids, new, strict=True):
        job.resolver.dwellings(area.county)[(bid, data.unit, data.room)] = (entity_id, data.status)
    return outcome


def _doc_key(row: Row, today: dt.date) -> tuple[str, str]:
    number = row.get("id_number")
    if not number:
        raise Rejected(
            "id_number", "import.id_number_required", "缺少证件号码", "The document number is missing"
        )
    return row.get("doc_type") or "resident_id", document_query(number, today)


def _holders(job: Job, rows: Sequence[tuple[int, Row]]) -> dict[tuple[str, str], tuple[int, str]]:
    """Current holders of the documents a chunk names (rows without a usable document are skipped here)."""
    keys = []
    for _, row in rows:
        try:
            keys.append(_doc_key(row, job.today))
        except Rejected:
            continue
    return job.resolver.persons_by_document(keys)


_PERSON_VERSION_COLUMNS = ["entity_id", "county_code", *PERSON.attributes]
_NAME_AT = PERSON.attributes.index("name")  # where the name sits in a person's attribute tuple
_DOCUMENT_VERSION_COLUMNS = ["entity_id", "county_code", "doc_type", "number", "country"]
_META_COLUMNS = [
    "version",
    "valid_from",
    "valid_to",
    "recorded_at",
    "superseded_at",
    "change",
    "reason",
    "source_kind",
    "source_ref",
    "evidence",
    "document_ref",
    "actor_id",
    "corrects_row_id",
    "replaces_row_id",
]


def load_persons(job: Job, rows: Chunk) -> Outcome:
    """Persons with their identity document; the document identifies them across imports.

    Rows are first validated a column at a time (person_columns: the same rules, applied in bulk); the rows that
    path does not accept outright go through the per-row validation below, which reports why. Then the chunk's
    persons, documents and their first versions are written with one bulk insert per table, and audited with one
    entry per table listing the ids.
    """
    outcome = Outcome()
    plain = person_columns.plain_persons(rows, area_of=job.resolver.area, today=job.today)
    keys = []
    for i, p in enumerate(plain):
        if p is not None:
            keys.append(("resident_id", p.number))
            continue
        try:
            keys.append(_doc_key(rows[i][1], job.today))
        except Rejected:
            continue
    holders = job.resolver.persons_by_document(keys)
    # Per new person: area, attributes in PERSON order (as stored), (doc_type, number, country).
    new: list[tuple[AreaRef, tuple[Any, ...], tuple[str, str, str]]] = []

    def handle(line: int, row: Row) -> bool:
        doc_type, number = _doc_key(row, job.today)
        area = job.resolver.area(row.get("community_code"))
        code = {
            k: formats.code_or_name(t, row[k] or "", k) if row.get(k) else None
            for k, t in (
                ("ethnicity", "ethnicity"),
                ("education", "education"),
                ("marital_status", "marital_status"),
            )
        }
        country = row.get("country")
        doc = DocumentIn.model_validate({"doc_type": doc_type, "number": number, "country": country})
        data = PersonCreate.model_validate(
            {
                "area_id": area.id,
                "name": row.get("name") or "",
                "sex": formats.parse_sex(row.get("sex") or ""),
                "birth_date": _date(row.get("birth_date"), "birth_date"),
                **code,
                "nationality": country if country and doc_type == "passport" else "CHN",
                "hukou_region": row.get("hukou_region"),
                "hukou_address": row.get("hukou_address"),
                "occupation": row.get("occupation"),
                "workplace": row.get("workplace"),
                "phone": row.get("phone"),
            }
        )
        check_document_agrees(
            doc.doc_type, doc.number, birth_date=data.birth_date, sex=data.sex, today=job.today
        )
        holder = holders.get((doc.doc_type, doc.number))
        if holder is not None:
            if holder[1] != data.name:
                raise Rejected(
                    "id_number",
                    "person.document_taken",
                    "该证件号码已登记在另一人员名下",
                    "This document number is already registered to another person",
                )
            return True
        if data.birth_date is None:
            data.birth_date = birth_date_from_id(doc.doc_type, doc.number, job.today)
        holders[(doc.doc_type, doc.number)] = (-1, data.name)
        attrs = tuple(
            v.isoformat() if isinstance(v, dt.date) else v
            for v in (getattr(data, a) for a in PERSON.attributes)
        )
        country_code = doc.country or ("CHN" if doc.doc_type == "resident_id" else data.nationality)
        new.append((area, attrs, (doc.doc_type, doc.number, country_code)))
        return False

    for i, p in enumerate(plain):
        if p is not None:
            holder = holders.get(("resident_id", p.number))
            if holder is None:
                holders[("resident_id", p.number)] = (-1, p.attrs[0])
                new.append((p.area, p.attrs, ("resident_id", p.number, "CHN")))
                outcome.loaded += 1
                continue
            if holder[1] == p.attrs[0]:
                outcome.existing += 1
                continue
        _each([rows[i]], outcome, handle, "id_number")  # refused here, or not in the plain shapes
    _write_persons(job, new)
    return outcome


def _write_persons(job: Job, new: list[tuple[AreaRef, tuple[Any, ...], tuple[str, str, str]]]) -> None:
    """Identities and first versions of persons and their documents, one bulk insert per table."""
    if not new:
        return
    session, n = job.session, len(new)
    pids = allocate_ids(session, Person, n)
    dids = allocate_ids(session, Document, n)
    now = stamp(session, job.now)
    prov = job.prov
    meta: tuple[Any, ...] = (1, job.today.isoformat(), None, now, None, "create", None)
    meta += (
        prov.source_kind,
        prov.source_ref,
        prov.evidence,
        prov.document_ref,
        job.actor.user_id,
        None,
        None,
    )
    insert_tuples(
        session,
        Person,
        ["id", "county_code", "version", "created_at", "area_id"],
        [(pid, area.county, 1, now, area.id) for pid, (area, _, _) in zip(pids, new, strict=True)],
    )
    insert_tuples(
        session,
        PersonVersion,
        [*_PERSON_VERSION_COLUMNS, "name_pinyin", "name_initials", *_META_COLUMNS],
        [
            (pid, area.county, *attrs, *name_keys(attrs[_NAME_AT]), *meta)
            for pid, (area, attrs, _) in zip(pids, new, strict=True)
        ],
    )
    insert_tuples(
        session,
        Document,
        ["id", "county_code", "version", "created_at", "area_id", "person_id"],
        [
            (did, item[0].county, 1, now, item[0].id, pid)
            for did, pid, item in zip(dids, pids, new, strict=True)
        ],
    )
    insert_tuples(
        session,
        DocumentVersion,
        _DOCUMENT_VERSION_COLUMNS + _META_COLUMNS,
        [(did, item[0].county, *item[2], *meta) for did, item in zip(dids, new, strict=True)],
    )
    _audit_created(job, "person", pids, pids)
    _audit_created(job, "document", dids, pids)


def _person_id(holders: dict[tuple[str, str], tuple[int, str]], key: tuple[str, str]) -> int:
    found = holders.get(key)
    if found is None:
        raise Rejected(
            "id_number", "person.not_found", "未找到持该证件的人员", "No person holds this document"
        )
    return found[0]


def load_households(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Households, one row per member: the household is created with its first member."""
    outcome = Outcome()
    holders = _holders(job, rows)
    numbers = {row["household_number"] for _, row in rows if row.get("household_number")}
    hv = HouseholdVersion
    households: dict[str, tuple[int, str, int]] = {
        str(number): (hid, kind, area_id)
        for hid, kind, area_id, number in job.session.execute(
            select(Household.id, Household.household_kind, Household.area_id, hv.household_number)
            .join(hv, and_(hv.entity_id == Household.id, hv.superseded_at.is_(None), hv.valid_to.is_(None)))
            .where(hv.household_number.in_(numbers))
        )
    }
    person_ids = {pid for pid, _ in holders.values()}
    mv = MembershipVersion
    members: set[tuple[int, int]] = set()
    heads: set[int] = set()
    registered: set[int] = set()
    for hid, pid, relationship, kind in job.session.execute(
        select(Membership.household_id, Membership.person_id, mv.relationship, Household.household_kind)
        .join(mv, and_(mv.entity_id == Membership.id, mv.superseded_at.is_(None), mv.valid_to.is_(None)))
        .join(Household, Household.id == Membership.household_id)
        .where(
            (Membership.household_id.in_([h for h, _, _ in households.values()]))
            | (Membership.person_id.in_(person_ids))
        )
    ):
        members.add((hid, pid))
        if relationship == HEAD:
            heads.add(hid)
        if kind == "registered":
            registered.add(pid)
    new_households: list[tuple[str, AreaRef, str, int | None]] = []
    new_members: list[tuple[AreaRef, str, int, str]] = []
    pending: dict[str, int] = {}

    def handle(line: int, row: Row) -> bool:
        key = _doc_key(row, job.today)
        number = row.get("household_number") or ""
        kind = row.get("household_kind") or "actual"
        if kind not in ("registered", "actual"):
            raise Rejected("household_kind", "household.kind_unknown", "户类型无效", "Unknown household kind")
        area = job.resolver.area(row.get("community_code"))
        person_id = _person_id(holders, key)
        relationship = MemberIn.model_validate(
            {
                "person_id": max(person_id, 1),
                "relationship": formats.code_or_name(
                    "relationship", row.get("relationship") or "", "relationship"
                ),
            }
        ).relationship
        known = households.get(number)
        hid = known[0] if known else pending.get(number)
        if hid is None:
            dwelling_id = job.resolver.dwelling(row)[1] if row.get("room") else None
            hid = -(len(pending) + 1)
            pending[number] = hid
            households[number] = (hid, kind, area.id)
            new_households.append((number, area, kind, dwelling_id))
        if (hid, person_id) in members:
            return True
        if relationship == HEAD and hid in heads:
            raise Rejected(
                "relationship", "household.head_exists", "本户已有户主", "The household already has a head"
            )
        hkind = households[number][1]
        if hkind == "registered" and person_id in registered:
            raise Rejected(
                "id_number",
                "household.registered_elsewhere",
                "该人员已在另一户籍户中",
                "The person already belongs to another registered household",
            )
        members.add((hid, person_id))
        if relationship == HEAD:
            heads.add(hid)
        if hkind == "registered":
            registered.add(person_id)
        new_members.append((area, number, person_id, relationship))
        return False

    _each(rows, outcome, handle, "household_number")
    hids = _write_new(
        job,
        "household",
        Household,
        HouseholdVersion,
        [
            New(
                area,
                {"household_kind": kind},
                {"dwelling_id": dwelling_id, "household_number": number},
                job.today,
            )
            for number, area, kind, dwelling_id in new_households
        ],
    )
    real = dict(zip([n for n, _, _, _ in new_households], hids, strict=True))
    _write_new(
        job,
        "membership",
        Membership,
        MembershipVersion,
        [
            New(
                area,
                {"household_id": real.get(number) or households[number][0], "person_id": person_id},
                {"relationship": relationship},
                job.today,
                subject=person_id,
            )
            for area, number, person_id, relationship in new_members
        ],
    )
    return outcome


def load_residences(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Residences: a person in a dwelling from the arrival date (closed at the departure date if given)."""
    outcome = Outcome()
    holders = _holders(job, rows)
    person_ids = [pid for pid, _ in holders.values()]
    v = ResidenceVersion
    existing: set[tuple[int, int, dt.date]] = set()
    open_main: set[int] = set()
    for pid, did, arrival, category, valid_to in job.session.execute(
        select(Residence.person_id, Residence.dwelling_id, v.arrival_date, v.category, v.valid_to)
        .join(v, and_(v.entity_id == Residence.id, v.superseded_at.is_(None)))
        .where(Residence.person_id.in_(person_ids))
    ):
        existing.add((pid, did, arrival))
        if valid_to is None and category != "lodging":
            open_main.add(pid)
    new: list[tuple[AreaRef, int, int, dict[str, Any]]] = []

    def handle(line: int, row: Row) -> bool:
        person_id = _person_id(holders, _doc_key(row, job.today))
        area, dwelling_id, status = job.resolver.dwelling(row)
        arrival = _date(row.get("arrival_date"), "arrival_date")
        data = ArrivalIn.model_validate(
            {
                "person_id": max(person_id, 1),
                "dwelling_id": dwelling_id,
                "category": row.get("category"),
                "arrival_date": arrival,
                "registration_date": _date(row.get("registration_date"), "registration_date"),
                "intended_stay_until": _date(row.get("intended_stay_until"), "intended_stay_until"),
            }
        )
        if (person_id, dwelling_id, data.arrival_date) in existing:
            return True
        check_dates(
            arrival=data.arrival_date,
            registration=data.registration_date,
            intended_until=data.intended_stay_until,
            today=job.today,
        )
        departure = _date(row.get("departure_date"), "departure_date")
        deregistration = _date(row.get("deregistration_date"), "deregistration_date")
        reason = row.get("deregistration_reason")
        if departure is not None:
            check_departure(
                arrival=data.arrival_date,
                departure=departure,
                deregistration=deregistration or departure,
                today=job.today,
            )
        elif status == "demolished":
            raise Rejected(
                "room",
                "residence.dwelling_unavailable",
                "该房屋已拆除，不能登记居住",
                "The dwelling is demolished",
            )
        if departure is None and data.category != "lodging":
            if person_id in open_main:
                raise Rejected(
                    "id_number",
                    "residence.already_open",
                    "该人员已有未注销的居住登记",
                    "The person already has an open residence",
                )
            open_main.add(person_id)
        if reason is not None and reason not in (
            "moved_within_city",
            "left_city",
            "returned_home",
            "went_abroad",
            "died",
            "other",
        ):
            raise Rejected(
                "deregistration_reason",
                "residence.reason_unknown",
                "注销原因无效",
                "Unknown deregistration reason",
            )
        existing.add((person_id, dwelling_id, data.arrival_date))
        new.append(
            (
                area,
                person_id,
                dwelling_id,
                {
                    "category": data.category,
                    "arrival_date": data.arrival_date,
                    "registration_date": data.registration_date,
                    "intended_stay_until": data.intended_stay_until,
                    "departure_date": departure,
                    "deregistration_date": deregistration,
                    "deregistration_reason": reason,
                    "destination": row.get("destination"),
                },
            )
        )
        return False

    _each(rows, outcome, handle, "id_number")
    _write_new(
        job,
        "residence",
        Residence,
        ResidenceVersion,
        [
            New(
                area,
                {"person_id": person_id, "dwelling_id": dwelling_id},
                attrs,
                attrs["arrival_date"],
                attrs["departure_date"],
                subject=person_id,
            )
            for area, person_id, dwelling_id, attrs in new
        ],
    )
    return outcome


def _split_ids(value: str | None, today: dt.date) -> list[str]:
    text = (value or "").replace("；", ";").replace(",", ";").replace("，", ";")
    return [document_query(part, today) for part in text.split(";") if part.strip()]


def load_rentals(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Rentals (the housing department's file): a dwelling + lease start is one rental; tenants must live there.

    Every tenant listed must have an open residence at the rented dwelling (its residence is linked), else the row
    is refused naming the tenant. `agreement_signed` yes without a date records the lease start as the date.
    """
    outcome = Outcome()
    keys: list[tuple[str, str]] = []
    for _, row in rows:
        for number in [row.get("landlord_id_number"), *_split_ids(row.get("tenant_id_numbers"), job.today)]:
            if number:
                keys.extend((kind, document_query(number, job.today)) for kind in ID_KINDS)
    found_holders = job.resolver.persons_by_document(keys)

    def holder_of(number: str) -> tuple[int, str] | None:
        value = document_query(number, job.today)
        return next((found_holders[(k, value)] for k in ID_KINDS if (k, value) in found_holders), None)

    tenant_ids = {pid for pid, _ in found_holders.values()}
    rv, v = ResidenceVersion, RentalVersion
    residences: dict[tuple[int, int], tuple[int, dt.date]] = {
        (int(pid), int(did)): (int(rid), start)
        for rid, pid, did, start in job.session.execute(
            select(Residence.id, Residence.person_id, Residence.dwelling_id, rv.valid_from)
            .join(rv, and_(rv.entity_id == Residence.id, rv.superseded_at.is_(None), rv.valid_to.is_(None)))
            .where(Residence.person_id.in_(tenant_ids))
        )
    }
    dwelling_ids: set[int] = set()
    for _, row in rows:
        try:
            dwelling_ids.add(job.resolver.dwelling(row)[1])
        except Rejected:
            continue
    known: set[tuple[int, dt.date]] = set()
    open_rentals: set[int] = set()
    for did, start, valid_to in job.session.execute(
        select(Rental.dwelling_id, v.lease_start, v.valid_to)
        .join(v, and_(v.entity_id == Rental.id, v.superseded_at.is_(None)))
        .where(Rental.dwelling_id.in_(dwelling_ids))
    ):
        known.add((int(did), start))
        if valid_to is None:
            open_rentals.add(int(did))
    filings = {row["filing_number"] for _, row in rows if row.get("filing_number")}
    taken = {
        str(n)
        for (n,) in job.session.execute(
            select(v.filing_number).where(
                v.filing_number.in_(filings), v.superseded_at.is_(None), v.valid_to.is_(None)
            )
        )
    }
    new: list[tuple[AreaRef, int, dict[str, Any], list[tuple[int, int, dt.date]]]] = []

    def handle(line: int, row: Row) -> bool:
        number = row.get("landlord_id_number")
        landlord = holder_of(number or "")
        if landlord is None:
            raise Rejected(
                "landlord_id_number",
                "rental.landlord_not_found",
                "未找到持该证件的出租人",
                "No person holds the landlord's document",
            )
        area, dwelling_id, status = job.resolver.dwelling(row)
        start = _date(row.get("lease_start"), "lease_start")
        data = RentalCreate.model_validate(
            {
                "dwelling_id": dwelling_id,
                "landlord_person_id": max(landlord[0], 1),
                "use": row.get("use") or "residential",
                "rooms": _int(row.get("rooms"), "rooms"),
                "monthly_rent": _float(row.get("monthly_rent"), "monthly_rent"),
                "lease_start": start,
                "lease_end": _date(row.get("lease_end"), "lease_end"),
                "filing_number": row.get("filing_number"),
                "agreement_signed_on": _date(row.get("agreement_signed_on"), "agreement_signed_on"),
                "agreement_signer": row.get("agreement_signer"),
            }
        )
        if (dwelling_id, data.lease_start) in known:
            return True
        if status == "demolished":
            raise Rejected(
                "room",
                "rental.dwelling_unavailable",
                "该房屋已拆除，不能登记出租",
                "The dwelling is demolished",
            )
        if dwelling_id in open_rentals:
            raise Rejected(
                "room",
                "rental.dwelling_already_rented",
                "该房屋已有在租的出租登记",
                "The dwelling already has an open rental",
            )
        check_lease(lease_start=data.lease_start, lease_end=data.lease_end, today=job.today)
        signed_on = data.agreement_signed_on
        if signed_on is None and parse_signed(row.get("agreement_signed")):
            signed_on = data.lease_start
        signer = data.agreement_signer or (landlord[1] if signed_on is not None else None)
        check_agreement(signed_on=signed_on, signer=signer, today=job.today)
        if data.filing_number and data.filing_number in taken:
            raise Rejected(
                "filing_number",
                "rental.filing_number_taken",
                "该备案号已被另一出租房屋使用",
                "The filing number belongs to another current rental",
            )
        tenants: list[tuple[int, int, dt.date]] = []
        for tenant in _split_ids(row.get("tenant_id_numbers"), job.today):
            holder = holder_of(tenant)
            found = residences.get((holder[0], dwelling_id)) if holder else None
            if found is None or holder is None:
                raise Rejected(
                    "tenant_id_numbers",
                    "rental.tenant_not_resident",
                    f"承租人{mask_id_number(tenant)}在该房屋没有有效的居住登记",
                    f"Tenant {mask_id_number(tenant)} has no open residence at the dwelling",
                )
            if all(t[0] != holder[0] for t in tenants):
                tenants.append((holder[0], found[0], max(data.lease_start, found[1])))
        known.add((dwelling_id, data.lease_start))
        open_rentals.add(dwelling_id)
        if data.filing_number:
            taken.add(data.filing_number)
        attrs = {
            "landlord_person_id": landlord[0],
            "use": data.use,
            "rooms": data.rooms,
            "monthly_rent": data.monthly_rent,
            "lease_start": data.lease_start,
            "lease_end": data.lease_end,
            "filing_number": data.filing_number,
            "agreement_signed_on": signed_on,
            "agreement_signer": signer,
            "status": "open",
        }
        new.append((area, dwelling_id, attrs, tenants))
        return False

    _each(rows, outcome, handle, "room")
    ids = _write_new(
        job,
        "rental",
        Rental,
        RentalVersion,
        [New(area, {"dwelling_id": did}, attrs, attrs["lease_start"]) for area, did, attrs, _ in new],
    )
    _write_new(
        job,
        "rental_tenant",
        RentalTenant,
        RentalTenantVersion,
        [
            New(
                area,
                {"rental_id": rental_id, "person_id": pid, "residence_id": rid},
                {"is_primary": i == 0},
                since,
                subject=pid,
            )
            for rental_id, (area, _, _, tenants) in zip(ids, new, strict=True)
            for i, (pid, rid, since) in enumerate(tenants)
        ],
    )
    return outcome


def _vocabulary(value: str | None, names: dict[str, tuple[str, str]]) -> str | None:
    """A vocabulary value given as its code or its Chinese or English name (anything else is left to the schema)."""
    if value is None:
        return None
    for code, (zh, en) in names.items():
        if value in (code, zh) or value.lower() == en.lower():
            return code
    return value


def load_venues(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Hotels and internet cafés on door plates through the venue service; a venue is its community + name.

    A name already used in the community by a venue of the same kind on the same plate is that venue (existing);
    by another venue it is refused, so that stay files can name venues unambiguously.
    """
    prov = job.prov
    provenance = {
        "source_kind": prov.source_kind,
        "source_ref": prov.source_ref,
        "evidence": prov.evidence,
        "document_ref": (prov.document_ref or "")[:200] or None,
    }

    def build(row: Row) -> bool:
        _, _, address_id = job.resolver.plate(row)
        data = VenueCreate.model_validate(
            {
                "venue_kind": _vocabulary(row.get("venue_kind"), venue_rules.VENUE_KINDS),
                "address_id": address_id,
                "name": row.get("name") or "",
                "licence_number": row.get("licence_number"),
                "status": _vocabulary(row.get("status"), venue_rules.STATUSES) or "open",
                "provenance": provenance,
            }
        )
        area = job.resolver.area(row.get("community_code"))
        same_name = job.resolver.venues().get((area.id, data.name), [])
        if any(v.address_id == address_id and v.kind == data.venue_kind for v in same_name):
            return True
        if same_name:
            raise Rejected(
                "name",
                "venue.name_taken",
                "本社区已有另一同名场所",
                "Another venue of the community has this name",
            )
        snap = venues.register_venue(job.session, job.ctx(), data)
        venue = snap.entity
        ref = VenueRef(venue.id, venue.area_id, venue.county_code, venue.venue_kind, address_id, data.status)
        job.resolver.venues().setdefault((ref.area_id, data.name), []).append(ref)
        return False

    return _per_row(job, rows, build, "name")


# A stay row's columns for the fields the stay schema and the guest check name.
_STAY_FIELDS = {
    "guest.number": "id_number",
    "guest.name": "name",
    "guest.country": "country",
    "guest.doc_type": "doc_type",
    "at": "check_in",
}


@dataclass
class _StayRow:
    """A valid stay row: its venue, reference, guest and times (UTC)."""

    line: int
    venue: VenueRef
    ref: str
    guest: venues.Guest
    check_in_at: dt.datetime
    check_out_at: dt.datetime | None
    received_at: dt.datetime


def _moment(value: str | None, field: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return formats.parse_datetime(value, field).astimezone(dt.UTC)
    except ValidationFailed as exc:
        raise reject_from(exc, field) from None


def _stay_ref(guest: venues.Guest, check_in_at: dt.datetime) -> str:
    """A stay's reference when the file gives none: the local check-in time and a digest of guest and time, so
    the same row always gets the same reference (a re-import finds it)."""
    digest = hashlib.sha256(f"{guest[0]}|{guest[1]}|{check_in_at.isoformat()}".encode()).hexdigest()[:16]
    return f"{check_in_at.astimezone(CHINA_TZ):%Y%m%d%H%M%S}-{digest}"


def load_stays(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Hotel and internet-café stays as the venues recorded them, matched to persons by document.

    Each row is checked as a check-in posted by the venue would be (the stay schema, the guest's document and
    name, not in the future, the venue open), the check-out as a check-out would be. `reported_at` is when the
    venue reported the check-in (what the real-time rate counts); without it, the import time. A stay is the venue
    + `stay_ref` (derived from the guest and check-in time when empty): a known stay is existing, or gets its
    check-out if it had none. New stays are inserted in bulk and audited with one entry per chunk.
    """
    outcome = Outcome()
    valid: list[_StayRow] = []

    def check(line: int, row: Row) -> None:
        venue = job.resolver.venue(row)
        try:
            # Whoever may register the venue and issue its key may enter its log on its behalf.
            job.actor.ensure("venue.write")
            venue_rules.ensure_open(venue.status)
        except LiangshiError as exc:
            raise reject_from(exc, "venue") from None
        check_in_at = _moment(row.get("check_in"), "check_in")
        if check_in_at is None:
            raise Rejected(
                "check_in", "stay.check_in_required", "缺少入住（上机）时间", "The check-in time is missing"
            )
        check_out_at = _moment(row.get("check_out"), "check_out")
        reported_at = _moment(row.get("reported_at"), "reported_at")
        try:
            item = StayItem.model_validate(
                {
                    "stay_ref": row.get("stay_ref") or "-",
                    "event": "check_in",
                    "at": check_in_at,
                    "guest": {
                        "doc_type": row.get("doc_type") or "resident_id",
                        "number": row.get("id_number") or "",
                        "country": row.get("country"),
                        "name": row.get("name") or "",
                    },
                }
            )
            guest = venues.guest_of(item, job.today)
            at = item.at.astimezone(dt.UTC)
            venue_rules.check_not_future(at, now=job.now, field="check_in")
            if check_out_at is not None:
                venue_rules.check_not_future(check_out_at, now=job.now, field="check_out")
                venue_rules.check_check_out(check_in_at=at, check_out_at=check_out_at, field="check_out")
            if reported_at is not None:
                venue_rules.check_reported(
                    reported_at=reported_at, check_in_at=at, now=job.now, field="reported_at"
                )
        except (LiangshiError, ValidationError) as exc:
            refused = reject_from(exc, "id_number")
            refused.field = _STAY_FIELDS.get(refused.field, refused.field)
            raise refused from None
        ref = row.get("stay_ref") or _stay_ref(guest, at)
        valid.append(_StayRow(line, venue, ref, guest, at, check_out_at, reported_at or job.now))

    for line, row in rows:
        try:
            check(line, row)
        except Rejected as refused:
            outcome.errors.append(RowError(line, refused.field, refused.code, refused.zh, refused.en))
    if not valid:
        return outcome
    known: dict[tuple[int, str], tuple[int, dt.datetime | None]] = {
        (int(vid), str(ref)): (int(sid), out)
        for sid, vid, ref, out in job.session.execute(
            select(Stay.id, Stay.venue_id, Stay.stay_ref, Stay.check_out_at).where(
                Stay.venue_id.in_({r.venue.id for r in valid}), Stay.stay_ref.in_({r.ref for r in valid})
            )
        )
    }
    matches = venues.match_documents(job.session, {r.guest[1] for r in valid})
    new: list[dict[str, Any]] = []
    pending: dict[tuple[int, str], dict[str, Any]] = {}
    check_outs: list[tuple[int, dt.datetime]] = []
    for r in valid:
        key = (r.venue.id, r.ref)
        stored = known.get(key)
        if stored is not None:
            stay_id, out = stored
            if out is None and r.check_out_at is not None:
                check_outs.append((stay_id, r.check_out_at))
                known[key] = (stay_id, r.check_out_at)
                outcome.loaded += 1
            else:
                outcome.existing += 1
            continue
        if key in pending:  # the same stay twice in the chunk
            outcome.existing += 1
            continue
        pid = venues.person_for(matches, r.guest[0], r.guest[1], r.guest[2])
        stay, _ = venues.stay_row(r.venue, r.ref, r.check_in_at, r.guest, pid, r.received_at)
        stay["check_out_at"] = r.check_out_at
        pending[key] = stay
        new.append(stay)
        outcome.loaded += 1
    ids = venues.insert_stays(job.session, new)
    _audit_created(job, "stay", ids, [stay["person_id"] for stay in new])
    venues.record_check_outs(job.session, check_outs)
    if check_outs:
        _audit(
            job,
            [
                audit.Event(
                    "stay.check_out",
                    "stay",
                    None,
                    None,
                    {"batch": job.batch_id, "count": len(check_outs), "ids": [sid for sid, _ in check_outs]},
                )
            ],
        )
    return outcome


LOADERS: dict[str, Callable[[Job, Chunk], Outcome]] = {
    "areas": load_areas,
    "streets": load_streets,
    "plates": load_plates,
    "buildings": load_buildings,
    "dwellings": load_dwellings,
    "persons": load_persons,
    "households": load_households,
    "residences": load_residences,
    "rentals": load_rentals,
    "venues": load_venues,
    "stays": load_stays,
}
