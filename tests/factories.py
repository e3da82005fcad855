"""Build registry objects through the services, for tests."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate, StreetCreate
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.common.idnumber import compute_check_char
from liangshi.persons import service as persons
from liangshi.persons.schemas import DocumentIn, HouseholdCreate, MemberIn, PersonCreate
from liangshi.registry import Context
from liangshi.residence import service as residence
from liangshi.residence.schemas import ArrivalIn

_seq = itertools.count(1)


# Sequence numbers handed out automatically avoid the ones tests pass explicitly (all below 200, and 555 and 777),
# so that a counter that has wrapped round after many tests never repeats an explicit test's ID number.
_AUTO_SEQ = tuple(n for n in range(200, 1000) if n not in (555, 777))


def make_id(region: str = "420704", birth: dt.date = dt.date(1990, 1, 1), seq: int | None = None) -> str:
    """A valid 18-digit ID number; a fresh sequence number each call unless given."""
    n = seq if seq is not None else _AUTO_SEQ[next(_seq) % len(_AUTO_SEQ)]
    first17 = f"{region}{birth:%Y%m%d}{n:03d}"
    return first17 + compute_check_char(first17)


@dataclass
class Place:
    """A street, plate, building and dwelling in one community."""

    area_id: int
    street_id: int
    address_id: int
    building_id: int
    dwelling_id: int


def place(session: Session, ctx: Context, *, area_id: int, district_id: int, tag: str = "") -> Place:
    """A street with one plate, one building and one dwelling in an area."""
    n = next(_seq)
    street = addresses.create_street(
        session, ctx, StreetCreate(area_id=district_id, name=f"测试{tag}路{n}号街"[:20], street_type="路")
    )
    plate = addresses.create_address(
        session,
        ctx,
        AddressCreate(area_id=area_id, street_id=street.entity.id, number="12", status="installed"),
    )
    building = buildings.create_building(
        session, ctx, BuildingCreate(address_id=plate.entity.id, label="3栋")
    )
    dwelling = buildings.create_dwelling(
        session,
        ctx,
        DwellingCreate(building_id=building.entity.id, unit=1, floor=5, room="501", status="occupied"),
    )
    return Place(area_id, street.entity.id, plate.entity.id, building.entity.id, dwelling.entity.id)


def person(
    session: Session,
    ctx: Context,
    *,
    area_id: int,
    name: str = "张伟",
    male: bool = True,
    birth: dt.date = dt.date(1990, 1, 1),
    id_number: str | None = None,
    valid_from: dt.date = dt.date(2020, 1, 1),
) -> int:
    """A person with a resident ID consistent with sex and birth date; returns the person id."""
    seq = next(_seq) * 2 % 998 + (1 if male else 2)
    number = id_number or make_id("420704", birth, seq)
    snap = persons.create_person(
        session,
        ctx,
        PersonCreate(
            area_id=area_id,
            name=name,
            sex="1" if male else "2",
            birth_date=birth,
            documents=[DocumentIn(doc_type="resident_id", number=number)],
            valid_from=valid_from,
        ),
    )
    return int(snap.entity.id)


def household(
    session: Session, ctx: Context, *, area_id: int, dwelling_id: int | None, members: list[tuple[int, str]]
) -> int:
    """A household with (person_id, relationship) members; returns its id."""
    snap = persons.create_household(
        session,
        ctx,
        HouseholdCreate(
            area_id=area_id,
            dwelling_id=dwelling_id,
            members=[MemberIn(person_id=p, relationship=r) for p, r in members],
        ),
    )
    return int(snap.entity.id)


def arrival(
    session: Session,
    ctx: Context,
    *,
    person_id: int,
    dwelling_id: int,
    arrived: dt.date,
    category: str = "floating",
) -> int:
    """Register an arrival; returns the residence id."""
    snap = residence.register_arrival(
        session,
        ctx,
        ArrivalIn(
            person_id=person_id,
            dwelling_id=dwelling_id,
            category=category,
            arrival_date=arrived,  # type: ignore[arg-type]
            registration_date=arrived,
        ),
    )
    return int(snap.entity.id)
