"""Build the demo: Ezhou's areas, a few communities, streets, plates, buildings, dwellings, people, users."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.access import service as access
from liangshi.access.models import User
from liangshi.access.service import SYSTEM
from liangshi.addresses import service as addresses
from liangshi.addresses.schemas import AddressCreate, StreetCreate
from liangshi.areas import service as areas
from liangshi.areas.schemas import AreaCreate
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import BuildingCreate, DwellingCreate
from liangshi.clock import Clock
from liangshi.common.codes import ezhou_areas
from liangshi.common.idnumber import compute_check_char
from liangshi.persons import service as persons
from liangshi.persons.schemas import DocumentIn, HouseholdCreate, MemberIn, PersonCreate
from liangshi.registry import Context
from liangshi.residence import service as residence
from liangshi.residence.schemas import ArrivalIn

DEMO_PASSWORD = "Demo-2026-liangshi"
COMMUNITIES = (
    ("420704001001", "滨湖社区", "420704001"),
    ("420704001002", "南浦社区", "420704001"),
    ("420704002001", "洋澜社区", "420704002"),
)
STREETS = (
    ("滨湖南路", "路", "420704001001"),
    ("南浦路", "路", "420704001002"),
    ("古楼街", "街", "420704002001"),
)
PERSONAS = (
    ("collector_zhang", "张采集", "collector", "420704001001", None),
    ("police_liu", "刘警官", "community_police", "420704001001", None),
    ("station_admin_li", "李所长", "station_admin", "420704001", None),
    ("district_admin_chen", "陈区管", "district_admin", "420704", None),
    ("city_admin_wang", "王市管", "city_admin", "420700", None),
    ("health_liaison_wang", "王卫健", "department_liaison", "420700", "health"),
    ("inspector_zhao", "赵检查", "inspector", "420704", None),
    ("auditor_sun", "孙审计", "auditor", "420700", None),
)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉玲红梅鑫宇浩然欣怡子涵梓轩雨萱"
HUKOU_ELSEWHERE = ("420111", "421002", "360102", "430104", "411502", "340104")


def make_id(region: str, birth: dt.date, seq: int) -> str:
    """A well-formed ID number (GB 11643) for synthetic people."""
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + compute_check_char(first17)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def ensure_personas(session: Session, clock: Clock) -> list[dict[str, str]]:
    """The demo users, one per role (created once)."""
    logins = []
    for username, display, role, area_code, dept in PERSONAS:
        if session.execute(select(User.id).where(User.username == username)).first() is None:
            access.create_user(
                session,
                username=username,
                display_name=display,
                password=DEMO_PASSWORD,
                role=role,
                area_code=area_code,
                department=dept,
                actor=SYSTEM,
                now=clock.now(),
            )
        logins.append({"role": role, "username": username, "password": DEMO_PASSWORD, "area": area_code})
    return logins


def build_demo(
    session: Session, clock: Clock, *, seed: int = 2010, persons_per_street: int = 60
) -> list[dict[str, str]]:
    """Build the demo city once (a second run only prints the logins)."""
    ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="demo")
    areas.load_gazetteer(session, ctx, ezhou_areas())
    if areas.by_code(session, COMMUNITIES[0][0]) is not None:
        return ensure_personas(session, clock)
    for code, name, parent in COMMUNITIES:
        areas.create_area(
            session, ctx, AreaCreate(code=code, name=name, level="community", parent_code=parent)
        )
    logins = ensure_personas(session, clock)
    rng = random.Random(seed)
    seq = 100
    for street_name, street_type, community_code in STREETS:
        community = areas.by_code(session, community_code)
        district = areas.by_code(session, community_code[:6])
        assert community is not None and district is not None
        street = addresses.create_street(
            session, ctx, StreetCreate(area_id=district.id, name=street_name, street_type=street_type)
        )
        people = 0
        for number in range(1, 13):
            status = "installed" if number % 5 else "made"
            plate = addresses.create_address(
                session,
                ctx,
                AddressCreate(
                    area_id=community.id,
                    street_id=street.entity.id,
                    number=str(number),
                    status=status,
                    lon=114.88 + number * 0.0004,
                    lat=30.39 + (number % 2) * 0.0002,
                ),
            )
            building = buildings.create_building(
                session,
                ctx,
                BuildingCreate(address_id=plate.entity.id, label=f"{number}栋", floors_above=6, units=2),
            )
            for unit in (1, 2):
                for floor in range(1, 7):
                    for idx in (1, 2):
                        occupied = rng.random() < 0.8 and people < persons_per_street
                        dwelling = buildings.create_dwelling(
                            session,
                            ctx,
                            DwellingCreate(
                                building_id=building.entity.id,
                                unit=unit,
                                floor=floor,
                                room=f"{floor * 100 + idx}",
                                status="occupied" if occupied else "vacant",
                                floor_area_m2=round(rng.uniform(55, 140), 1),
                            ),
                        )
                        if not occupied:
                            continue
                        size = rng.choice((1, 2, 2, 3, 3, 4))
                        members = []
                        floating = rng.random() < 0.2
                        for k in range(size):
                            seq += 2
                            age = rng.randint(30, 70) if k < 2 else rng.randint(1, 25)
                            birth = dt.date(clock.today().year - age, rng.randint(1, 12), rng.randint(1, 28))
                            male = (k == 0) if k < 2 else rng.random() < 0.5
                            region = rng.choice(HUKOU_ELSEWHERE) if floating else community_code[:6]
                            number_id = make_id(region, birth, seq + (1 if male else 0))
                            person = persons.create_person(
                                session,
                                ctx,
                                PersonCreate(
                                    area_id=community.id,
                                    name=_name(rng),
                                    sex="1" if male else "2",
                                    birth_date=birth,
                                    ethnicity="01" if rng.random() < 0.97 else "15",
                                    hukou_region=region,
                                    phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
                                    if k < 2
                                    else None,
                                    documents=[DocumentIn(doc_type="resident_id", number=number_id)],
                                ),
                            )
                            members.append(
                                MemberIn(
                                    person_id=person.entity.id,
                                    relationship="02" if k == 0 else ("10" if k == 1 else "20"),
                                )
                            )
                            arrival = clock.today() - dt.timedelta(days=rng.randint(10, 3000))
                            residence.register_arrival(
                                session,
                                ctx,
                                ArrivalIn(
                                    person_id=person.entity.id,
                                    dwelling_id=dwelling.entity.id,
                                    category="floating" if floating else "resident",
                                    arrival_date=arrival,
                                    registration_date=min(
                                        clock.today(), arrival + dt.timedelta(days=rng.randint(0, 5))
                                    ),
                                    intended_stay_until=arrival + dt.timedelta(days=365)
                                    if floating
                                    else None,
                                ),
                            )
                            people += 1
                        persons.create_household(
                            session,
                            ctx,
                            HouseholdCreate(
                                household_kind="actual",
                                area_id=community.id,
                                dwelling_id=dwelling.entity.id,
                                members=members,
                            ),
                        )
    return logins
