"""Residence: 人来登记, 人走注销, 查人知住 and 查房知人, and who may see whom."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from liangshi import registry
from liangshi.audit.models import AuditEntry
from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import DwellingCreate
from liangshi.errors import Conflict, NotFound, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.schemas import DocumentIn, PersonCreate
from liangshi.registry import Provenance
from liangshi.residence import service as residence
from liangshi.residence.schemas import ArrivalIn, DepartureIn
from tests import factories
from tests.conftest import INSIDE, World
from tests.factories import make_id

D = dt.date
PROV = Provenance("collector", "collector_zhang", "observed")


def _place(world: World, area: str = INSIDE) -> factories.Place:
    with world.session() as s:
        return factories.place(
            s, world.ctx(s, "district_admin_chen"), area_id=world.area(area), district_id=world.area("420704")
        )


def _person(world: World, *, name: str = "赵磊", area: str = INSIDE, persona: str = "collector_zhang") -> int:
    with world.session() as s:
        return factories.person(s, world.ctx(s, persona), area_id=world.area(area), name=name)


def _arrive(
    world: World,
    person_id: int,
    dwelling_id: int,
    arrived: dt.date,
    *,
    category: str = "floating",
    registered: dt.date | None = None,
    persona: str = "collector_zhang",
) -> int:
    with world.session() as s:
        snap = residence.register_arrival(
            s,
            world.ctx(s, persona),
            ArrivalIn(
                person_id=person_id,
                dwelling_id=dwelling_id,
                category=category,
                arrival_date=arrived,
                registration_date=registered,
            ),
        )
        return int(snap.entity.id)


def _depart(
    world: World, residence_id: int, departed: dt.date, *, version: int = 1, persona: str = "collector_zhang"
) -> None:
    with world.session() as s:
        residence.deregister_departure(
            s,
            world.ctx(s, persona),
            residence_id,
            DepartureIn(
                expected_version=version, departure_date=departed, reason="left_city", destination="武汉市"
            ),
        )


# ---- 人来登记 -------------------------------------------------------------------------------------------------


def test_arrival_is_valid_from_the_arrival_date_and_registered_today(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 10, 2))
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        snap = registry.read(s, ctx, residence.RESIDENCE, rid)
        assert snap.row.valid_from == D(2026, 10, 2)
        assert (snap.row.arrival_date, snap.row.registration_date) == (D(2026, 10, 2), world.clock.today())
        assert (snap.entity.area_id, snap.entity.person_id) == (world.area(INSIDE), pid)
        with pytest.raises(NotFound):
            registry.read(s, ctx, residence.RESIDENCE, rid, on=D(2026, 10, 1))


def test_arrival_in_the_future_is_refused(world: World) -> None:
    p, pid = _place(world), _person(world)
    with pytest.raises(ValidationFailed) as exc:
        _arrive(world, pid, p.dwelling_id, D(2026, 11, 28))
    assert exc.value.code == "residence.arrival_in_future"


def test_registration_before_arrival_is_refused(world: World) -> None:
    p, pid = _place(world), _person(world)
    with pytest.raises(ValidationFailed) as exc:
        _arrive(world, pid, p.dwelling_id, D(2026, 10, 2), registered=D(2026, 10, 1))
    assert exc.value.code == "residence.registration_date_invalid"


def test_second_open_residence_is_refused_but_lodging_is_allowed(world: World) -> None:
    home, school = _place(world), _place(world)
    pid = _person(world)
    first = _arrive(world, pid, home.dwelling_id, D(2026, 1, 1))
    with pytest.raises(Conflict) as exc:
        _arrive(world, pid, school.dwelling_id, D(2026, 9, 1), category="resident")
    assert exc.value.code == "residence.already_open"
    assert exc.value.data["residence_id"] == first
    lodging = _arrive(world, pid, school.dwelling_id, D(2026, 9, 1), category="lodging")
    with world.session() as s:
        current = residence.where_lives(s, world.ctx(s, "collector_zhang"), pid)["current"]
        assert sorted(r["residence_id"] for r in current) == sorted([first, lodging])


def test_a_new_main_residence_is_allowed_after_deregistering_the_old_one(world: World) -> None:
    old, new = _place(world), _place(world)
    pid = _person(world)
    rid = _arrive(world, pid, old.dwelling_id, D(2025, 1, 1))
    _depart(world, rid, D(2026, 3, 1))
    _arrive(world, pid, new.dwelling_id, D(2026, 3, 1))


def test_cannot_register_arrival_at_demolished_dwelling(world: World) -> None:
    p, pid = _place(world), _person(world)
    with world.session() as s:
        registry.change(
            s,
            world.ctx(s, "collector_zhang"),
            buildings.DWELLING,
            p.dwelling_id,
            {"status": "demolished"},
            expected_version=1,
            effective=None,
            prov=PROV,
            reason="拆迁",
        )
    with pytest.raises(Conflict) as exc:
        _arrive(world, pid, p.dwelling_id, D(2026, 11, 1))
    assert exc.value.code == "residence.dwelling_unavailable"


def test_cannot_register_arrival_at_retired_dwelling(world: World) -> None:
    p, pid = _place(world), _person(world)
    with world.session() as s:
        registry.retire(
            s,
            world.ctx(s, "police_liu"),
            buildings.DWELLING,
            p.dwelling_id,
            expected_version=1,
            effective=None,
            prov=PROV,
            reason="合并房屋",
        )
    with pytest.raises(Conflict) as exc:
        _arrive(world, pid, p.dwelling_id, D(2026, 11, 1))
    assert exc.value.code == "residence.dwelling_unavailable"


def test_collector_cannot_register_a_person_at_a_dwelling_outside_their_community(world: World) -> None:
    elsewhere = _place(world, "420704001002")
    pid = _person(world)
    with pytest.raises(NotFound) as exc:
        _arrive(world, pid, elsewhere.dwelling_id, D(2026, 10, 2))
    assert exc.value.code == "dwelling.not_found"


# ---- 人走注销 -------------------------------------------------------------------------------------------------


def test_departure_before_arrival_is_refused(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 10, 2))
    with pytest.raises(ValidationFailed) as exc:
        _depart(world, rid, D(2026, 10, 1))
    assert exc.value.code == "residence.departure_before_arrival"


def test_deregistering_twice_is_refused(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 10, 2))
    _depart(world, rid, D(2026, 11, 1))
    with pytest.raises(Conflict) as exc:
        _depart(world, rid, D(2026, 11, 1), version=2)
    assert exc.value.code == "residence.already_deregistered"


def test_departure_keeps_reason_and_destination(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 10, 2))
    _depart(world, rid, D(2026, 11, 1))
    with world.session() as s:
        [entry] = residence.where_lives(s, world.ctx(s, "collector_zhang"), pid)["history"]
    assert (entry["departure_date"], entry["deregistration_date"]) == (D(2026, 11, 1), world.clock.today())
    assert (entry["deregistration_reason"], entry["destination"], entry["current"]) == (
        "left_city",
        "武汉市",
        False,
    )


def test_occupants_on_a_date_before_departure_list_the_person_and_after_it_do_not(world: World) -> None:
    p, pid = _place(world), _person(world, name="赵磊")
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 10, 2))
    _depart(world, rid, D(2026, 11, 1))
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")

        def names(day: dt.date | None) -> list[str]:
            return [o["name"] for o in residence.occupants(s, ctx, p.dwelling_id, day)["occupants"]]

        assert names(D(2026, 10, 1)) == []
        assert names(D(2026, 10, 2)) == ["赵磊"]
        assert names(D(2026, 10, 31)) == ["赵磊"]
        assert names(D(2026, 11, 2)) == []
        assert names(None) == []  # today


def test_occupants_show_masked_documents_and_the_dwelling_address(world: World) -> None:
    p, pid = _place(world), _person(world)
    _arrive(world, pid, p.dwelling_id, D(2026, 10, 2))
    with world.session() as s:
        result = residence.occupants(s, world.ctx(s, "police_liu"), p.dwelling_id, None)
    [occupant] = result["occupants"]
    assert (occupant["person_id"], occupant["category"], occupant["arrival_date"]) == (
        pid,
        "floating",
        D(2026, 10, 2),
    )
    assert all(d["masked"] and "*" in d["number"] for d in occupant["documents"])
    assert result["address"]["text"].endswith("3栋1单元501室")


def test_occupant_reads_are_audited_per_person(world: World) -> None:
    p = _place(world)
    a, b = _person(world, name="赵磊"), _person(world, name="钱敏")
    _arrive(world, a, p.dwelling_id, D(2026, 10, 2))
    _arrive(world, b, p.dwelling_id, D(2026, 10, 5))
    with world.session() as s:
        residence.occupants(s, world.ctx(s, "police_liu"), p.dwelling_id, D(2026, 11, 1))
    with world.session() as s:
        entries = (
            s.execute(
                select(AuditEntry).where(AuditEntry.action == "dwelling.occupants").order_by(AuditEntry.seq)
            )
            .scalars()
            .all()
        )
    assert [(e.actor_name, e.object_kind, e.object_id, e.subject_person_id) for e in entries] == [
        ("police_liu", "dwelling", p.dwelling_id, a),
        ("police_liu", "dwelling", p.dwelling_id, b),
    ]
    assert json.loads(entries[0].detail) == {"on": "2026-11-01"}


# ---- 查人知住 -------------------------------------------------------------------------------------------------


def test_where_lives_returns_the_current_residence_and_the_history(world: World) -> None:
    old, new = _place(world), _place(world)
    pid = _person(world)
    first = _arrive(world, pid, old.dwelling_id, D(2025, 1, 1))
    _depart(world, first, D(2026, 3, 1))
    second = _arrive(world, pid, new.dwelling_id, D(2026, 3, 1))
    with world.session() as s:
        result = residence.where_lives(s, world.ctx(s, "collector_zhang"), pid)
    assert [r["residence_id"] for r in result["current"]] == [second]
    assert [r["residence_id"] for r in result["history"]] == [second, first]
    assert result["history"][1]["departure_date"] == D(2026, 3, 1)
    assert result["current"][0]["address"]["text"].endswith("501室")


def test_where_lives_is_audited(world: World) -> None:
    p, pid = _place(world), _person(world)
    _arrive(world, pid, p.dwelling_id, D(2026, 10, 2))
    with world.session() as s:
        residence.where_lives(s, world.ctx(s, "police_liu"), pid)
    with world.session() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "person.where_lives")).scalar_one()
        assert (entry.actor_name, entry.subject_person_id) == ("police_liu", pid)


def test_where_lives_by_document_finds_the_person_by_id_number_with_masked_documents(world: World) -> None:
    p = _place(world)
    number = make_id("420704", D(1988, 8, 8), 321)
    with world.session() as s:
        pid = int(
            persons.create_person(
                s,
                world.ctx(s, "collector_zhang"),
                PersonCreate(
                    area_id=world.area(INSIDE),
                    name="孙浩",
                    sex="1",
                    documents=[DocumentIn(doc_type="resident_id", number=number)],
                ),
            ).entity.id
        )
    _arrive(world, pid, p.dwelling_id, D(2026, 10, 2))
    with world.session() as s:
        result = residence.where_lives_by_document(s, world.ctx(s, "police_liu"), f" {number.lower()} ")
    assert (result["person_id"], result["name"]) == (pid, "孙浩")
    assert [r["dwelling_id"] for r in result["current"]] == [p.dwelling_id]
    [doc] = result["documents"]
    assert doc["masked"] is True and doc["number"] != number and doc["number"].endswith(number[-4:])


def test_where_lives_by_document_finds_an_old_15_digit_number_typed(world: World) -> None:
    with world.session() as s:
        pid = int(
            persons.create_person(
                s,
                world.ctx(s, "collector_zhang"),
                PersonCreate(
                    area_id=world.area(INSIDE),
                    name="孙浩",
                    sex="1",
                    documents=[DocumentIn(doc_type="resident_id", number="420704880808321")],
                ),
            ).entity.id
        )
    with world.session() as s:
        assert (
            residence.where_lives_by_document(s, world.ctx(s, "police_liu"), "420704880808321")["person_id"]
            == pid
        )


def test_where_lives_by_document_outside_the_jurisdiction_is_not_found(world: World) -> None:
    number = make_id("420704", D(1988, 8, 8), 321)
    with world.session() as s:
        persons.create_person(
            s,
            world.ctx(s, "collector_zhou"),
            PersonCreate(
                area_id=world.area("420704001002"),
                name="孙浩",
                sex="1",
                documents=[DocumentIn(doc_type="resident_id", number=number)],
            ),
        )
    with pytest.raises(NotFound) as exc, world.session() as s:
        residence.where_lives_by_document(s, world.ctx(s, "collector_zhang"), number)
    assert exc.value.code == "person.not_found"


# ---- visibility where a person lives ------------------------------------------------------------------------


def test_person_living_in_a_collectors_community_is_visible_to_that_collector(world: World) -> None:
    p = _place(world)
    # The record is held in 洋澜社区 (古楼街道), outside collector_zhang's community.
    pid = _person(world, name="吴涛", area="420704002001", persona="district_admin_chen")
    with pytest.raises(NotFound), world.session() as s:
        registry.read(s, world.ctx(s, "collector_zhang"), persons.PERSON, pid)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 10, 2), persona="district_admin_chen")
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        assert registry.read(s, ctx, persons.PERSON, pid).row.name == "吴涛"
        assert [r["residence_id"] for r in residence.where_lives(s, ctx, pid)["current"]] == [rid]
        page = persons.search_persons(
            s, ctx, name="吴", id_number=None, phone=None, area_id=None, offset=0, limit=10
        )
        assert [x.entity.id for x in page.items] == [pid]
    # ...but not to a collector of a neighbouring community.
    with pytest.raises(NotFound), world.session() as s:
        registry.read(s, world.ctx(s, "collector_zhou"), persons.PERSON, pid)


def test_person_who_moved_away_is_no_longer_visible_where_they_lived(world: World) -> None:
    p = _place(world)
    pid = _person(world, name="吴涛", area="420704002001", persona="district_admin_chen")
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 10, 2), persona="district_admin_chen")
    _depart(world, rid, D(2026, 11, 1), persona="district_admin_chen")
    with pytest.raises(NotFound), world.session() as s:
        registry.read(s, world.ctx(s, "collector_zhang"), persons.PERSON, pid)


def test_dwelling_added_in_a_collectors_community_can_take_arrivals(world: World) -> None:
    p, pid = _place(world), _person(world)
    with world.session() as s:
        d = buildings.create_dwelling(
            s,
            world.ctx(s, "collector_zhang"),
            DwellingCreate(building_id=p.building_id, unit=1, room="502", valid_from=D(2020, 1, 1)),
        )
    _arrive(world, pid, int(d.entity.id), D(2026, 10, 2), category="resident")


def test_occupants_list_a_person_recorded_after_their_arrival_date(world: World) -> None:
    p = _place(world)
    with world.session() as s:
        # Recorded today (valid from today), but living here since October.
        pid = int(
            persons.create_person(
                s,
                world.ctx(s, "collector_zhang"),
                PersonCreate(
                    area_id=world.area(INSIDE),
                    name="郑洁",
                    sex="2",
                    documents=[
                        DocumentIn(doc_type="resident_id", number=make_id("420704", D(1992, 2, 2), 222))
                    ],
                ),
            ).entity.id
        )
    _arrive(world, pid, p.dwelling_id, D(2026, 10, 2))
    with world.session() as s:
        result = residence.occupants(s, world.ctx(s, "police_liu"), p.dwelling_id, D(2026, 11, 1))
    assert [(o["person_id"], o["name"]) for o in result["occupants"]] == [(pid, "郑洁")]
