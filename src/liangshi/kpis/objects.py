"""The objects behind a KPI: the plates, rentals, dwellings, residences or stays its numerator and denominator
count, for one area (and the areas below it) and period (`GET /kpis/{key}/objects`, `/web/kpis/{key}`,
`liangshi kpis objects`).

Each KPI is described by its *sources*: selects of `(object_id, area_id, hit)` built from the SAME SQL expressions
the count uses (`addresses.plates_due`/`plate_installed`, `rentals.rental_entered`/…, `residence.state_join`/…,
`venues.stay_good`, `checks.FOUND_DEPARTURES_SQL`), so a list holds exactly as many rows as the number it opens:
the denominator is every row, the numerator the rows with `hit = 1`, `missing` (the objects to fix) the rows with
`hit = 0`. A list is paged, scoped to the caller's jurisdiction, ID numbers masked; listed persons are audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, case, column, func, literal, select, text
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.addresses.models import Address, AddressVersion
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.buildings.models import Dwelling, DwellingVersion
from liangshi.checks import service as checks
from liangshi.clock import CHINA_TZ
from liangshi.common.idnumber import mask_id_number
from liangshi.errors import ValidationFailed
from liangshi.kpis import rules
from liangshi.persons import service as persons
from liangshi.registry import Context, history
from liangshi.rentals import service as rentals
from liangshi.rentals.models import Rental, RentalVersion
from liangshi.residence import calendar
from liangshi.residence import service as residence
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.venues import service as venues
from liangshi.venues.models import Stay, Venue

PARTS = ("numerator", "denominator", "missing")
PAGE_SIZE = 50
# The permission a list of each kind of object needs besides kpi.read (the objects' own read permission).
READ = {
    "plate": "address.read",
    "rental": "rental.read",
    "dwelling": "dwelling.read",
    "residence": "residence.read",
    "found_departure": "residence.read",
    "stay": "venue.read",
}
KIND_LABELS = {
    "plate": ("门楼牌", "Door plate"),
    "rental": ("出租房屋", "Rental"),
    "dwelling": ("未登记出租房屋", "Rented dwelling without a rental"),
    "residence": ("居住登记", "Residence"),
    "found_departure": ("检查发现的未注销离开", "Departure found by a check"),
    "stay": ("住宿登记", "Stay"),
}


@dataclass(frozen=True)
class Source:
    """One kind of object behind a KPI: a select of (object_id, area_id, hit)."""

    kind: str
    rows: Any


def _residences(date_to: dt.date, where: Any, hit: Any) -> Source:
    v = ResidenceVersion
    return Source(
        "residence",
        select(Residence.id.label("object_id"), Residence.area_id.label("area_id"), _flag(hit))
        .join(v, and_(v.entity_id == Residence.id, residence.state_join(v, date_to)))
        .where(where),
    )


def _flag(condition: Any) -> Any:
    return case((condition, 1), else_=0).label("hit")


def sources(
    session: Session, key: str, date_from: dt.date, date_to: dt.date, cal: calendar.HolidayCalendar
) -> list[Source]:
    """The sources of one KPI, as the count of `kpis.service.compute` defines it."""
    v = ResidenceVersion
    if key == "plate_installation":
        return [
            Source(
                "plate",
                select(Address.id.label("object_id"), Address.area_id.label("area_id"))
                .add_columns(_flag(addresses.plate_installed()))
                .join(Address, Address.id == AddressVersion.entity_id)
                .where(*addresses.plates_due(date_to)),
            )
        ]
    if key in ("rental_registration", "rental_entry", "rental_agreement"):
        hit = {
            "rental_registration": literal(True),
            "rental_entry": rentals.rental_entered(date_to),
            "rental_agreement": rentals.rental_signed(date_to),
        }[key]
        registered = Source(
            "rental",
            select(Rental.id.label("object_id"), Rental.area_id.label("area_id"), _flag(hit)).join(
                RentalVersion, rentals.rental_registered_join(date_to)
            ),
        )
        if key != "rental_registration":
            return [registered]
        dv = DwellingVersion
        unregistered = Source(
            "dwelling",
            select(Dwelling.id.label("object_id"), Dwelling.area_id.label("area_id"), literal(0).label("hit"))
            .join(
                dv,
                and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), history.valid_on(dv, date_to)),
            )
            .where(*rentals.rented_unregistered(date_to)),
        )
        return [registered, unregistered]
    if key in ("floating_registration", "floating_timeliness"):
        deadlines = rules.registration_deadlines(date_from, date_to, cal)
        hit = (
            v.registration_date.is_not(None)
            if key == "floating_registration"
            else residence.registered_in_time(session, v, deadlines)
        )
        return [
            _residences(
                date_to, and_(residence.arrived_in(v, date_from, date_to), v.category == "floating"), hit
            )
        ]
    if key == "floating_deregistration":
        start = dt.datetime.combine(date_from, dt.time(), CHINA_TZ)
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA_TZ)
        found = (
            text(
                f"SELECT f.object_id AS object_id, f.area_id AS area_id, 0 AS hit {checks.FOUND_DEPARTURES_SQL}"
            )
            .bindparams(category="floating", start=start, end=end)
            .columns(column("object_id", Integer), column("area_id", Integer), column("hit", Integer))
            .subquery("found")
        )
        return [
            _residences(
                date_to,
                and_(residence.departed_in(v, date_from, date_to), v.category == "floating"),
                residence.deregistered(v),
            ),
            Source("found_departure", select(found.c.object_id, found.c.area_id, found.c.hit)),
        ]
    if key == "venue_realtime":
        start = dt.datetime.combine(date_from, dt.time(), CHINA_TZ)
        end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA_TZ)
        return [
            Source(
                "stay",
                select(
                    Stay.id.label("object_id"),
                    Stay.area_id.label("area_id"),
                    _flag(venues.stay_good(session, rules.VENUE_REALTIME_LIMIT)),
                ).where(Stay.check_in_at >= start, Stay.check_in_at < end),
            )
        ]
    if key in rules.CATEGORY_KEYS:
        category = key.removeprefix("category_")
        return [_residences(date_to, residence.valid_on(v, date_to), v.category == category)]
    raise ValidationFailed(  # pragma: no cover - the caller checked the key
        "kpi.unknown", "没有该指标", "No such KPI", {"field": "key", "key": key}
    )


def _check(key: str, part: str, page: int) -> rules.KpiDef:
    if key not in rules.BY_KEY:
        raise ValidationFailed(
            "kpi.unknown",
            "没有该指标",
            "No such KPI",
            {"field": "key", "key": key, "known": list(rules.BY_KEY)},
        )
    if part not in PARTS:
        raise ValidationFailed(
            "kpi.part_invalid",
            "列表须为分子、分母或缺口（numerator、denominator、missing）",
            "The list must be numerator, denominator or missing",
            {"field": "part", "part": part, "known": list(PARTS)},
        )
    if page < 1:
        raise ValidationFailed(
            "kpi.page_invalid", "页码须从1开始", "The page must be 1 or more", {"field": "page", "page": page}
        )
    return rules.BY_KEY[key]


def may_open(session: Session, ctx: Context, key: str, date_from: dt.date, date_to: dt.date) -> bool:
    """Whether the actor may open the lists behind a KPI: the objects' own read permissions, as `objects` checks
    them (the dashboard links a number only then; a housing officer reads no venue stays)."""
    srcs = sources(session, key, date_from, date_to, calendar.default_calendar())
    return all(ctx.actor.may(READ[src.kind]) for src in srcs)


def objects(
    session: Session,
    ctx: Context,
    key: str,
    *,
    area_code: str | None,
    date_from: dt.date,
    date_to: dt.date,
    part: str = "missing",
    page: int = 1,
    page_size: int = PAGE_SIZE,
    cal: calendar.HolidayCalendar | None = None,
) -> dict[str, Any]:
    """One page of the objects behind a KPI's numerator, denominator or their difference (missing)."""
    from liangshi.kpis.service import _root  # the same jurisdiction check as the dashboard's

    kpi = _check(key, part, page)
    rules.check_period(date_from, date_to)
    root = _root(session, ctx, area_code)
    ids = select(Area.id).where(Area.path.startswith(root.path))
    srcs = sources(session, key, date_from, date_to, cal or calendar.default_calendar())
    for src in srcs:
        ctx.actor.ensure(READ[src.kind])
    page_size = max(1, min(page_size, residence.MAX_LIST))
    skip, want = (page - 1) * page_size, page_size
    items: list[dict[str, Any]] = []
    total = 0
    for src in srcs:
        sq = src.rows.subquery()
        q = select(sq.c.object_id, sq.c.area_id, sq.c.hit).where(sq.c.area_id.in_(ids))
        if part == "numerator":
            q = q.where(sq.c.hit == 1)
        elif part == "missing":
            q = q.where(sq.c.hit == 0)
        if want <= 0:
            # The page is full: this source only adds to the total.
            total += int(session.execute(select(func.count()).select_from(q.subquery())).scalar_one())
            continue
        # The page's rows and the source's count in one scan (count(*) over the whole filtered set, before
        # the offset and limit), not a count and then the same query again.
        rows = session.execute(
            q.add_columns(func.count().over().label("n")).order_by(sq.c.object_id).offset(skip).limit(want)
        ).all()
        if rows:
            n = int(rows[0][3])
        elif skip == 0:  # nothing at all (not only past the offset): no second scan to count nothing
            n = 0
        else:
            n = int(session.execute(select(func.count()).select_from(q.subquery())).scalar_one())
        total += n
        if not rows:
            skip = max(0, skip - n)
            continue
        skip = 0
        items.extend(_describe(session, ctx, src.kind, [(int(r[0]), int(r[1]), int(r[2])) for r in rows]))
        want -= len(rows)
    events = [
        audit.Event("kpi.objects", "area", root.id, item["person_id"], {"kpi": key, "part": part})
        for item in items
        if item.get("person_id") is not None
    ]
    if events:
        registry.log(ctx, session, events)
    return {
        "key": key,
        "label_zh": kpi.label_zh,
        "label_en": kpi.label_en,
        "part": part,
        "area": {
            "id": root.id,
            "code": root.code,
            "name": areas.names_of(session, [root.id], date_to).get(root.id),
        },
        "from": date_from,
        "to": date_to,
        "total": total,
        "page": page,
        "page_size": page_size,
        "pages": max(1, -(-total // page_size)),
        "items": items,
    }


def _describe(
    session: Session, ctx: Context, kind: str, rows: list[tuple[int, int, int]]
) -> list[dict[str, Any]]:
    """The page's rows as the lists show them: what the object is, where, and the person (masked) if any."""
    day = ctx.today
    zh, en = KIND_LABELS[kind]
    base: list[dict[str, Any]] = [
        {"kind": kind, "kind_zh": zh, "kind_en": en, "id": oid, "area_id": aid, "counted": bool(hit)}
        for oid, aid, hit in rows
    ]
    ids = [oid for oid, _, _ in rows]
    if kind == "plate":
        plates = addresses.describe_many(session, ids, day)
        for item in base:
            item["address"] = plates.get(item["id"], {}).get("text")
            item["link"] = None
    elif kind in ("rental", "dwelling"):
        dwelling_of = (
            {
                int(rid): int(did)
                for rid, did in session.execute(
                    select(Rental.id, Rental.dwelling_id).where(Rental.id.in_(ids))
                )
            }
            if kind == "rental"
            else {i: i for i in ids}
        )
        dwellings = addresses.describe_dwellings(session, list(dwelling_of.values()), day)
        for item in base:
            dwelling_id = int(dwelling_of[item["id"]])
            item["address"] = dwellings.get(dwelling_id, {}).get("text")
            item["link"] = f"/web/dwellings/{dwelling_id}"
    elif kind in ("residence", "found_departure"):
        v = ResidenceVersion
        info = {
            int(rid): (int(pid), int(did), arr, reg, dep, dereg)
            for rid, pid, did, arr, reg, dep, dereg in session.execute(
                select(
                    Residence.id,
                    Residence.person_id,
                    Residence.dwelling_id,
                    v.arrival_date,
                    v.registration_date,
                    v.departure_date,
                    v.deregistration_date,
                )
                .join(v, and_(v.entity_id == Residence.id, v.superseded_at.is_(None)))
                .where(Residence.id.in_(ids))
                .order_by(v.valid_from)
            ).all()
        }
        person_ids = [p[0] for p in info.values()]
        names = persons.names_on(session, person_ids, day)
        docs = persons.first_documents(session, person_ids)
        dwellings = addresses.describe_dwellings(session, [i[1] for i in info.values()], day)
        for item in base:
            pid, did, arr, reg, dep, dereg = info[item["id"]]
            item.update(
                person_id=pid,
                name=names.get(pid),
                document=docs.get(pid),
                address=dwellings.get(did, {}).get("text"),
                arrival_date=arr,
                registration_date=reg,
                departure_date=dep,
                deregistration_date=dereg,
                link=f"/web/persons/{pid}",
            )
    elif kind == "stay":
        stays = {
            int(s.id): (s, name)
            for s, name in session.execute(
                select(Stay, Venue.id).join(Venue, Venue.id == Stay.venue_id).where(Stay.id.in_(ids))
            ).all()
        }
        for item in base:
            stay, venue_id = stays[item["id"]]
            item.update(
                person_id=stay.person_id,
                name=stay.guest_name,
                document={
                    "doc_type": stay.doc_type,
                    "number": mask_id_number(stay.doc_number),
                    "masked": True,
                },
                venue_id=int(venue_id),
                check_in_at=stay.check_in_at,
                received_at=stay.received_at,
                link=f"/web/venues/{venue_id}",
            )
    return base
