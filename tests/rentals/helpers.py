"""Shared builders for the rental tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import DwellingCreate
from liangshi.rentals import service as rentals
from liangshi.rentals.models import Rental, RentalTenant, RentalTenantVersion, RentalVersion
from liangshi.rentals.schemas import RentalCreate
from tests import factories
from tests.conftest import INSIDE, World

D = dt.date


def place(world: World, area: str = INSIDE) -> factories.Place:
    """A street, plate, building and dwelling (room 501) built by the district administrator."""
    with world.session() as s:
        return factories.place(
            s, world.ctx(s, "district_admin_chen"), area_id=world.area(area), district_id=world.area("420704")
        )


def dwelling(world: World, building_id: int, room: str, status: str = "occupied") -> int:
    """Another dwelling in a building."""
    with world.session() as s:
        snap = buildings.create_dwelling(
            s,
            world.ctx(s, "district_admin_chen"),
            DwellingCreate(building_id=building_id, unit=1, floor=int(room[0]), room=room, status=status),  # type: ignore[arg-type]
        )
        return int(snap.entity.id)


def person(
    world: World,
    name: str = "王芳",
    area: str = INSIDE,
    male: bool = True,
    persona: str | None = "police_liu",
) -> int:
    """A person registered by the community police officer (or by the system when `persona` is None)."""
    with world.session() as s:
        return factories.person(s, world.ctx(s, persona), area_id=world.area(area), name=name, male=male)


def resident(world: World, dwelling_id: int, arrived: D = D(2026, 3, 5), name: str = "李强") -> int:
    """A person with an open (floating) residence at the dwelling."""
    pid = person(world, name)
    with world.session() as s:
        factories.arrival(
            s, world.ctx(s, "police_liu"), person_id=pid, dwelling_id=dwelling_id, arrived=arrived
        )
    return pid


def file(
    world: World, dwelling_id: int, landlord_id: int, persona: str = "collector_zhang", **over: Any
) -> Any:
    """File a rental; returns the snapshot."""
    body: dict[str, Any] = {
        "dwelling_id": dwelling_id,
        "landlord_person_id": landlord_id,
        "use": "residential",
        "rooms": 2,
        "monthly_rent": 1200,
        "lease_start": D(2026, 3, 1),
        "lease_end": D(2027, 2, 28),
    }
    body.update(over)
    with world.session() as s:
        return rentals.file_rental(s, world.ctx(s, persona), RentalCreate.model_validate(body))


def counts(world: World) -> tuple[int, int, int, int, int]:
    """Rentals, rental versions, tenants, tenant versions, audit entries."""
    with world.session() as s:
        return tuple(  # type: ignore[return-value]
            s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Rental, RentalVersion, RentalTenant, RentalTenantVersion, AuditEntry)
        )
