"""A hand-built registry whose every KPI numerator and denominator is known (see `EXPECTED`).

Three communities: A = 滨湖社区 (INSIDE) and B = 南浦社区 under 凤凰街道 (420704001), C = 洋澜社区 under another
subdistrict (420704002). The period is 2026-09-01 … 2026-11-27 (today: plates and dwellings are created valid
from today).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import DwellingCreate
from liangshi.clock import CHINA_TZ
from liangshi.kpis.rules import BY_KEY, CATEGORY_KEYS
from liangshi.registry import Provenance, history
from liangshi.rentals import service as rentals
from liangshi.rentals.schemas import RentalCreate
from liangshi.residence import service as residence
from liangshi.residence.schemas import ArrivalIn, DepartureIn
from liangshi.venues import service as venues
from liangshi.venues.schemas import KeyIn, StayItem, VenueCreate
from tests import factories
from tests.conftest import World

D = dt.date
FROM, TO = D(2026, 9, 1), D(2026, 11, 27)
A, B, C = "420704001001", "420704001002", "420704002001"
PROV = Provenance("collector", "kpi-test", "observed")

# area code -> KPI key -> (numerator, denominator)
EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    A: {
        # plates 12 (installed, the place's), 14 made, 16 installed; 18 installed then retired (not counted)
        "plate_installation": (2, 3),
        # R1 on d1 (lease end given, agreement signed); d2 rented without a rental
        "rental_registration": (1, 2),
        "rental_entry": (1, 1),
        "rental_agreement": (1, 1),
        # f1 same day, f2 3 working days, f3 4 working days, f4 registered only today (the service's default), f7
        # over National Day (2 working days); f5 arrived before the period, r1 is not floating
        "floating_registration": (5, 5),
        "floating_timeliness": (3, 5),
        # f1 and f5 deregistered, f2 departed without deregistration (as an import brings it)
        "floating_deregistration": (2, 3),
        # s1 matched and received after 1 h; s2 matched but after 30 h; s3 a valid resident ID of nobody in the
        # register, after 1 h (a verified document counts: issue 15); s4 before the period
        "venue_realtime": (2, 3),
        # valid on 2026-11-27: f2 (departed, not deregistered), f3, f4, f7 floating; r1 resident
        "category_floating": (4, 5),
        "category_resident": (1, 5),
        "category_lodging": (0, 5),
    },
    B: {
        "plate_installation": (1, 2),  # the place's plate installed, 3 planned
        "rental_registration": (1, 1),  # R2: no lease end, no tenant, no agreement
        "rental_entry": (0, 1),
        "rental_agreement": (0, 1),
        "floating_registration": (0, 0),
        "floating_timeliness": (0, 0),
        "floating_deregistration": (0, 0),
        "venue_realtime": (0, 0),
        "category_lodging": (1, 1),
        "category_floating": (0, 1),
    },
    C: {
        "plate_installation": (1, 1),
        "rental_registration": (0, 0),
        "category_overseas": (1, 1),
        "floating_timeliness": (0, 0),
    },
}


def _complete() -> None:
    """Every KPI not listed counts nothing: (0, 0), or (0, all residents) for a category count."""
    for values in EXPECTED.values():
        residents = next(den for key, (_, den) in values.items() if key in CATEGORY_KEYS)
        for key in BY_KEY:
            values.setdefault(key, (0, residents) if key in CATEGORY_KEYS else (0, 0))


_complete()


def summed(codes: list[str], key: str) -> tuple[int, int]:
    """The expected counts of a KPI over several communities (what their parent must show)."""
    pairs = [EXPECTED[c].get(key, (0, 0)) for c in codes]
    return sum(p[0] for p in pairs), sum(p[1] for p in pairs)


@dataclass
class Built:
    """Ids of what the builder made."""

    places: dict[str, factories.Place]
    dwellings: dict[str, int]


def _plate(world: World, s: Any, area: str, street_id: int, number: str, status: str) -> int:
    snap = addresses.create_address(
        s,
        world.ctx(s),
        AddressCreate(area_id=world.area(area), street_id=street_id, number=number, status=status),  # type: ignore[arg-type]
    )
    return int(snap.entity.id)


def _dwelling(world: World, s: Any, building_id: int, room: str, status: str) -> int:
    snap = buildings.create_dwelling(
        s,
        world.ctx(s),
        DwellingCreate(building_id=building_id, unit=1, floor=int(room[0]), room=room, status=status),  # type: ignore[arg-type]
    )
    return int(snap.entity.id)


def _arrive(
    world: World,
    s: Any,
    area: str,
    dwelling_id: int,
    arrived: D,
    registered: D | None,
    category: str = "floating",
    name: str = "流动人员",
) -> int:
    ctx = world.ctx(s)
    pid = factories.person(s, ctx, area_id=world.area(area), name=name)
    snap = residence.register_arrival(
        s,
        ctx,
        ArrivalIn(
            person_id=pid,
            dwelling_id=dwelling_id,
            category=category,  # type: ignore[arg-type]
            arrival_date=arrived,
            registration_date=registered,
        ),
    )
    return int(snap.entity.id)


def _deregister(world: World, s: Any, residence_id: int, departed: D) -> None:
    entity = registry.get_entity(s, residence.RESIDENCE, residence_id, world.ctx(s).actor)
    residence.deregister_departure(
        s,
        world.ctx(s),
        residence_id,
        DepartureIn(
            expected_version=entity.version,
            departure_date=departed,
            deregistration_date=departed,
            reason="left_city",  # type: ignore[arg-type]
        ),
    )


def _departed_only(world: World, s: Any, residence_id: int, departed: D) -> None:
    """A departure without its deregistration, as an import may bring it (status `departed`)."""
    entity = registry.get_entity(s, residence.RESIDENCE, residence_id, world.ctx(s).actor)
    history.change(
        s,
        residence.RESIDENCE,
        entity,
        {"departure_date": departed},
        expected_version=entity.version,
        effective=departed,
        prov=Provenance("import", "kpi-test", "document"),
        actor_id=None,
        now=world.clock.now(),
    )


def _stays(
    world: World, s: Any, venue_id: int, key: str, items: list[tuple[str, str, dt.datetime, float]]
) -> None:
    """Post each check-in as received `hours` after it happened."""
    for ref, number, at, hours in items:
        now = at + dt.timedelta(hours=hours)
        ctx, v = venues.venue_context(s, key, venue_id, now=now, today=now.astimezone(CHINA_TZ).date())
        item = {
            "stay_ref": ref,
            "event": "check_in",
            "at": at.isoformat(),
            "guest": {"doc_type": "resident_id", "number": number, "name": "住客"},
        }
        venues.record_stays(s, ctx, v, [StayItem.model_validate(item)], idempotency_key=None)


def build(world: World) -> Built:
    """Build the registry of `EXPECTED` (with the system context)."""
    with world.session() as s:
        ctx = world.ctx(s)
        district = world.area("420704")
        pa = factories.place(s, ctx, area_id=world.area(A), district_id=district, tag="甲")
        pb = factories.place(s, ctx, area_id=world.area(B), district_id=district, tag="乙")
        pc = factories.place(s, ctx, area_id=world.area(C), district_id=district, tag="丙")
        _plate(world, s, A, pa.street_id, "14", "made")
        _plate(world, s, A, pa.street_id, "16", "installed")
        retired = _plate(world, s, A, pa.street_id, "18", "installed")
        registry.retire(
            s,
            ctx,
            addresses.ADDRESS,
            retired,
            expected_version=1,
            effective=D(2026, 11, 27),
            prov=PROV,
            reason="拆除",
        )
        _plate(world, s, B, pb.street_id, "3", "planned")
        d2 = _dwelling(world, s, pa.building_id, "502", "rented")
        d3 = _dwelling(world, s, pa.building_id, "601", "occupied")
        b2 = _dwelling(world, s, pb.building_id, "502", "occupied")
        landlord = factories.person(s, ctx, area_id=world.area(A), name="房东王")
        rentals.file_rental(
            s,
            ctx,
            RentalCreate(
                dwelling_id=pa.dwelling_id,
                landlord_person_id=landlord,
                lease_start=D(2026, 3, 1),
                lease_end=D(2027, 2, 28),
                agreement_signed_on=D(2026, 3, 2),
                agreement_signer="房东王",
            ),
        )
        rentals.file_rental(
            s,
            ctx,
            RentalCreate(dwelling_id=pb.dwelling_id, landlord_person_id=landlord, lease_start=D(2026, 5, 1)),
        )
        # Floating arrivals in A (2026-11-02 is a Monday; 2026-10-01…07 are holidays).
        f1 = _arrive(world, s, A, d3, D(2026, 11, 2), D(2026, 11, 2))
        f2 = _arrive(world, s, A, d3, D(2026, 11, 2), D(2026, 11, 5))
        _arrive(world, s, A, d3, D(2026, 11, 2), D(2026, 11, 6))
        _arrive(world, s, A, d3, D(2026, 11, 3), None)
        f5 = _arrive(world, s, A, d3, D(2026, 8, 20), D(2026, 8, 20))
        _arrive(world, s, A, d3, D(2026, 9, 30), D(2026, 10, 9))
        _arrive(world, s, A, d3, D(2026, 10, 1), D(2026, 10, 1), category="resident")
        _deregister(world, s, f1, D(2026, 11, 10))
        _deregister(world, s, f5, D(2026, 10, 15))
        _departed_only(world, s, f2, D(2026, 11, 12))
        _arrive(world, s, B, b2, D(2026, 10, 8), D(2026, 10, 8), category="lodging")
        _arrive(world, s, C, pc.dwelling_id, D(2026, 10, 8), D(2026, 10, 8), category="overseas")
        # A hotel on A's plate 12, with four check-ins.
        venue = venues.register_venue(
            s,
            ctx,
            VenueCreate(venue_kind="hotel", address_id=pa.address_id, name="滨湖宾馆"),  # type: ignore[arg-type]
        )
        vid = int(venue.entity.id)
        key = str(venues.issue_key(s, ctx, vid, KeyIn())["key"])
        guest = factories.make_id("420704", D(1985, 5, 5), 101)
        factories.person(s, ctx, area_id=world.area(A), name="住客", id_number=guest, birth=D(1985, 5, 5))
        unknown = factories.make_id("420704", D(1970, 1, 1), 201)
        at = dt.datetime(2026, 10, 10, 20, 0, tzinfo=CHINA_TZ)
        _stays(
            world,
            s,
            vid,
            key,
            [
                ("s1", guest, at, 1),
                ("s2", guest, at + dt.timedelta(days=2), 30),
                ("s3", unknown, at, 1),
                ("s4", guest, dt.datetime(2026, 8, 25, 9, 0, tzinfo=CHINA_TZ), 1),
            ],
        )
    return Built({"A": pa, "B": pb, "C": pc}, {"d2": d2, "d3": d3, "b2": b2})
