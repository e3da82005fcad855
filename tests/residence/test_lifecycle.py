"""Residence lifecycle: the status table, extension, move, births, deaths and the floating-population lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from liangshi import registry
from liangshi.audit.models import AuditEntry
from liangshi.buildings import service as buildings
from liangshi.errors import Conflict, Forbidden, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Membership, MembershipVersion, Person, PersonVersion
from liangshi.persons.schemas import HouseholdCreate, MemberIn
from liangshi.registry import Provenance, history
from liangshi.residence import rules
from liangshi.residence import service as residence
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.residence.schemas import ArrivalIn, BirthIn, DeathIn, DepartureIn, ExtendIn, MoveIn
from tests import factories
from tests.conftest import INSIDE, World

D = dt.date
PROV = Provenance("collector", "collector_zhang", "observed")
TABLES = (Person, PersonVersion, Residence, ResidenceVersion, Membership, MembershipVersion, AuditEntry)


def _counts(world: World) -> dict[str, int]:
    with world.session() as s:
        return {t.__name__: s.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def _place(world: World, area: str = INSIDE) -> factories.Place:
    with world.session() as s:
        return factories.place(
            s, world.ctx(s, "district_admin_chen"), area_id=world.area(area), district_id=world.area("420704")
        )


def _person(world: World, *, name: str = "赵磊", male: bool = True) -> int:
    with world.session() as s:
        return factories.person(
            s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE), name=name, male=male
        )


def _arrive(
    world: World,
    person_id: int,
    dwelling_id: int,
    arrived: dt.date,
    *,
    until: dt.date | None = None,
    registered: dt.date | None = None,
    category: str = "floating",
) -> int:
    with world.session() as s:
        snap = residence.register_arrival(
            s,
            world.ctx(s, "collector_zhang"),
            ArrivalIn(
                person_id=person_id,
                dwelling_id=dwelling_id,
                category=category,  # type: ignore[arg-type]
                arrival_date=arrived,
                registration_date=registered,
                intended_stay_until=until,
            ),
        )
        return int(snap.entity.id)


def _depart(world: World, rid: int, departed: dt.date, version: int = 1) -> None:
    with world.session() as s:
        residence.deregister_departure(
            s,
            world.ctx(s, "collector_zhang"),
            rid,
            DepartureIn(expected_version=version, departure_date=departed, reason="left_city"),
        )


def _extend(world: World, rid: int, until: dt.date, *, version: int = 1, **over: Any) -> Any:
    with world.session() as s:
        snap = residence.extend_stay(
            s,
            world.ctx(s, over.pop("persona", "collector_zhang")),
            rid,
            ExtendIn(expected_version=version, intended_stay_until=until, **over),
        )
        return snap.row


def _move(world: World, rid: int, dwelling_id: int, when: dt.date, *, version: int = 1, **over: Any) -> Any:
    with world.session() as s:
        closed, opened = residence.move(
            s,
            world.ctx(s, "collector_zhang"),
            rid,
            MoveIn(expected_version=version, move_date=when, dwelling_id=dwelling_id, **over),
        )
        return int(closed.entity.id), int(opened.entity.id)


def _demolish(world: World, dwelling_id: int) -> None:
    with world.session() as s:
        registry.change(
            s,
            world.ctx(s, "collector_zhang"),
            buildings.DWELLING,
            dwelling_id,
            {"status": "demolished"},
            expected_version=1,
            effective=None,
            prov=PROV,
            reason="拆迁",
        )


# ---- the lifecycle table --------------------------------------------------------------------------------------


def test_every_status_allows_corrections_and_only_open_residences_change() -> None:
    assert set(rules.LIFECYCLE) == set(rules.STATUSES)
    assert all("correct" in actions for actions in rules.LIFECYCLE.values())
    assert set(rules.LIFECYCLE["open"]) == set(rules.ACTIONS)
    assert rules.allowed_actions("departed") == ("deregister", "correct", "retire")


def test_status_comes_from_the_current_version() -> None:
    assert rules.status_of(valid_to=None, departure_date=None, deregistration_date=None) == "open"
    assert (
        rules.status_of(valid_to=None, departure_date=D(2026, 1, 1), deregistration_date=None) == "departed"
    )
    assert (
        rules.status_of(
            valid_to=D(2026, 1, 1), departure_date=D(2026, 1, 1), deregistration_date=D(2026, 1, 2)
        )
        == "deregistered"
    )


def test_a_refusal_names_status_action_and_what_is_allowed() -> None:
    with pytest.raises(Conflict) as exc:
        rules.ensure_allowed("departed", "move")
    assert exc.value.code == "residence.action_not_allowed"
    assert exc.value.data == {
        "status": "departed",
        "action": "move",
        "allowed": ["deregister", "correct", "retire"],
    }


# ---- 续住 ------------------------------------------------------------------------------------------------------


def test_extension_sets_a_later_end_from_a_date_and_keeps_the_old_end_in_history(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 5, 1), until=D(2026, 11, 30))
    row = _extend(world, rid, D(2027, 5, 31), effective=D(2026, 11, 20))
    assert (row.intended_stay_until, row.valid_from) == (D(2027, 5, 31), D(2026, 11, 20))
    with world.session() as s:
        before = history.row_as_of(s, residence.RESIDENCE, rid, on=D(2026, 11, 19))
        assert before is not None and before.intended_stay_until == D(2026, 11, 30)


def test_extension_to_an_earlier_or_equal_end_is_refused(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 5, 1), until=D(2026, 12, 31))
    for until, code in (
        (D(2026, 12, 31), "residence.extension_not_later"),
        (D(2026, 4, 1), "residence.intended_stay_invalid"),
    ):
        before = _counts(world)
        with pytest.raises(ValidationFailed) as exc:
            _extend(world, rid, until)
        assert exc.value.code == code
        assert _counts(world) == before


def test_cannot_extend_a_deregistered_residence(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 5, 1), until=D(2026, 12, 31))
    _depart(world, rid, D(2026, 11, 1))
    before = _counts(world)
    with pytest.raises(Conflict) as exc:
        _extend(world, rid, D(2027, 12, 31), version=2)
    assert exc.value.code == "residence.action_not_allowed"
    assert (exc.value.data["status"], exc.value.data["action"]) == ("deregistered", "extend_stay")
    assert _counts(world) == before


def test_cannot_extend_or_move_a_departed_but_not_deregistered_residence(world: World) -> None:
    p, other, pid = _place(world), _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 5, 1), until=D(2026, 12, 31))
    with world.session() as s:  # as an import brings it: a departure without deregistration
        registry.change(
            s,
            world.ctx(s, "collector_zhang"),
            residence.RESIDENCE,
            rid,
            {"departure_date": D(2026, 10, 1)},
            expected_version=1,
            effective=D(2026, 10, 1),
            prov=PROV,
            reason="import",
        )
    with pytest.raises(Conflict) as exc:
        _extend(world, rid, D(2027, 12, 31), version=2)
    assert exc.value.data["status"] == "departed"
    with pytest.raises(Conflict) as exc:
        _move(world, rid, other.dwelling_id, D(2026, 11, 1), version=2)
    assert exc.value.code == "residence.action_not_allowed"
    _depart(world, rid, D(2026, 10, 1), version=2)  # deregistering it is what is left


def test_extension_with_a_stale_version_is_refused(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 5, 1), until=D(2026, 12, 31))
    _extend(world, rid, D(2027, 6, 30))
    before = _counts(world)
    with pytest.raises(Conflict) as exc:
        _extend(world, rid, D(2027, 12, 31), version=1)
    assert exc.value.code == "version.stale"
    assert _counts(world) == before


def test_deregistering_twice_keeps_its_own_code(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 5, 1))
    _depart(world, rid, D(2026, 11, 1))
    with pytest.raises(Conflict) as exc:
        _depart(world, rid, D(2026, 11, 1), version=2)
    assert exc.value.code == "residence.already_deregistered"
    assert exc.value.data["allowed"] == ["correct"]


# ---- 市内迁移 --------------------------------------------------------------------------------------------------


def test_move_closes_the_old_residence_and_opens_the_new_one_from_the_same_date(world: World) -> None:
    old, new, pid = _place(world), _place(world), _person(world)
    rid = _arrive(world, pid, old.dwelling_id, D(2026, 3, 1), until=D(2027, 3, 1))
    closed, opened = _move(world, rid, new.dwelling_id, D(2026, 11, 20))
    assert closed == rid
    with world.session() as s:
        result = residence.where_lives(s, world.ctx(s, "collector_zhang"), pid)
    [current] = result["current"]
    assert (current["residence_id"], current["dwelling_id"], current["arrival_date"]) == (
        opened,
        new.dwelling_id,
        D(2026, 11, 20),
    )
    assert (current["category"], current["intended_stay_until"]) == ("floating", D(2027, 3, 1))
    past = next(r for r in result["history"] if r["residence_id"] == rid)
    assert (past["departure_date"], past["deregistration_reason"]) == (D(2026, 11, 20), "moved_within_city")
    assert past["deregistration_date"] == world.clock.today()
    assert past["destination"].endswith("3栋1单元501室")


def test_move_may_change_the_category(world: World) -> None:
    old, new, pid = _place(world), _place(world), _person(world)
    rid = _arrive(world, pid, old.dwelling_id, D(2026, 3, 1))
    _, opened = _move(world, rid, new.dwelling_id, D(2026, 11, 20), category="separated")
    with world.session() as s:
        assert (
            registry.read(s, world.ctx(s, "collector_zhang"), residence.RESIDENCE, opened).row.category
            == "separated"
        )


def test_move_is_atomic_when_the_new_dwelling_is_demolished(world: World) -> None:
    old, new, pid = _place(world), _place(world), _person(world)
    rid = _arrive(world, pid, old.dwelling_id, D(2026, 3, 1))
    _demolish(world, new.dwelling_id)
    before = _counts(world)
    with pytest.raises(Conflict) as exc:
        _move(world, rid, new.dwelling_id, D(2026, 11, 20))
    assert exc.value.code == "residence.dwelling_unavailable"
    assert _counts(world) == before


def test_move_is_atomic_when_the_new_residence_is_refused_after_the_old_one_closed(world: World) -> None:
    old, new, pid = _place(world), _place(world), _person(world)
    rid = _arrive(world, pid, old.dwelling_id, D(2026, 3, 1))
    before = _counts(world)
    with pytest.raises(ValidationFailed) as exc:  # the new stay would end before it begins
        _move(world, rid, new.dwelling_id, D(2026, 11, 20), intended_stay_until=D(2026, 11, 1))
    assert exc.value.code == "residence.intended_stay_invalid"
    assert _counts(world) == before
    with world.session() as s:
        assert history.open_row(s, residence.RESIDENCE, rid) is not None


def test_move_before_the_arrival_is_refused(world: World) -> None:
    old, new, pid = _place(world), _place(world), _person(world)
    rid = _arrive(world, pid, old.dwelling_id, D(2026, 3, 1))
    before = _counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _move(world, rid, new.dwelling_id, D(2026, 2, 1))
    assert exc.value.code == "residence.departure_before_arrival"
    assert _counts(world) == before


def test_move_to_the_same_dwelling_is_refused(world: World) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 3, 1))
    with pytest.raises(ValidationFailed) as exc:
        _move(world, rid, p.dwelling_id, D(2026, 11, 20))
    assert exc.value.code == "residence.move_same_dwelling"


# ---- births ----------------------------------------------------------------------------------------------------


def _family(world: World) -> tuple[factories.Place, int, int]:
    p = _place(world)
    mother = _person(world, name="李娜", male=False)
    _arrive(world, mother, p.dwelling_id, D(2020, 1, 1), category="resident")
    with world.session() as s:
        hid = factories.household(
            s,
            world.ctx(s, "collector_zhang"),
            area_id=world.area(INSIDE),
            dwelling_id=p.dwelling_id,
            members=[(mother, "02")],
        )
    return p, mother, hid


def _birth(world: World, hid: int, *, persona: str = "collector_zhang", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "李小雨",
        "sex": "2",
        "birth_date": D(2026, 11, 20),
        "household_id": hid,
        "household_expected_version": 1,
        "relationship": "30",
        **over,
    }
    with world.session() as s:
        return residence.register_birth(s, world.ctx(s, persona), BirthIn(**body))


def test_a_newborn_joins_the_household_and_lives_at_its_dwelling_from_birth(world: World) -> None:
    p, _, hid = _family(world)
    result = _birth(world, hid, resident_id=factories.make_id("420704", D(2026, 11, 20), 2))
    child = int(result["person"].entity.id)
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        [current] = residence.where_lives(s, ctx, child)["current"]
        assert (current["dwelling_id"], current["category"], current["arrival_date"]) == (
            p.dwelling_id,
            "resident",
            D(2026, 11, 20),
        )
        members = persons.members_view(s, ctx, hid, world.clock.today())
        assert {(m["person_id"], m["relationship"]) for m in members} >= {(child, "30")}
        person = registry.read(s, ctx, persons.PERSON, child)
        assert (person.row.valid_from, person.row.birth_date) == (D(2026, 11, 20), D(2026, 11, 20))
        assert len(persons.current_documents(s, child)) == 1


def test_a_birth_in_the_future_is_refused_with_nothing_written(world: World) -> None:
    _, _, hid = _family(world)
    before = _counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _birth(world, hid, birth_date=D(2026, 11, 28))
    assert exc.value.code == "person.birth_in_future"
    assert _counts(world) == before


def test_a_birth_with_a_stale_household_version_is_refused_with_nothing_written(world: World) -> None:
    _, _, hid = _family(world)
    _birth(world, hid)
    before = _counts(world)
    with pytest.raises(Conflict) as exc:
        _birth(world, hid, name="李小雷", sex="1", relationship="20")  # the household is at version 2 now
    assert exc.value.code == "version.stale"
    assert _counts(world) == before


def test_a_birth_into_a_household_without_a_dwelling_needs_one(world: World) -> None:
    mother = _person(world, name="李娜", male=False)
    with world.session() as s:
        hid = factories.household(
            s,
            world.ctx(s, "collector_zhang"),
            area_id=world.area(INSIDE),
            dwelling_id=None,
            members=[(mother, "02")],
        )
    with pytest.raises(ValidationFailed) as exc:
        _birth(world, hid)
    assert exc.value.code == "birth.dwelling_unknown"


def test_a_newborn_cannot_be_the_head(world: World) -> None:
    _, _, hid = _family(world)
    with pytest.raises(ValidationFailed) as exc:
        _birth(world, hid, relationship="02")
    assert exc.value.code == "birth.relationship_invalid"


# ---- deaths ----------------------------------------------------------------------------------------------------


def _death(
    world: World, pid: int, when: dt.date, *, version: int = 1, persona: str = "police_liu"
) -> dict[str, Any]:
    with world.session() as s:
        return residence.register_death(
            s, world.ctx(s, persona), pid, DeathIn(expected_version=version, death_date=when)
        )


def test_death_closes_residences_and_memberships(world: World) -> None:
    home, school = _place(world), _place(world)
    pid = _person(world)
    main = _arrive(world, pid, home.dwelling_id, D(2020, 1, 1), category="resident")
    lodging = _arrive(world, pid, school.dwelling_id, D(2026, 9, 1), category="lodging")
    with world.session() as s:
        hid = int(
            persons.create_household(
                s,
                world.ctx(s, "collector_zhang"),
                HouseholdCreate(
                    area_id=world.area(INSIDE),
                    dwelling_id=home.dwelling_id,
                    members=[MemberIn(person_id=pid, relationship="02")],
                    valid_from=D(2020, 1, 1),
                ),
            ).entity.id
        )
    result = _death(world, pid, D(2026, 11, 25))
    assert sorted(result["closed_residences"]) == sorted([main, lodging])
    assert len(result["ended_memberships"]) == 1
    with world.session() as s:
        ctx = world.ctx(s, "station_admin_li")
        person = registry.read(s, ctx, persons.PERSON, pid, on=D(2026, 11, 24))
        assert not person.retired
        latest = history.latest_row(s, persons.PERSON, pid)
        assert (latest.valid_to, latest.reason) == (D(2026, 11, 25), "died")
        for rid in (main, lodging):
            row = history.latest_row(s, residence.RESIDENCE, rid)
            assert (row.valid_to, row.departure_date, row.deregistration_reason) == (
                D(2026, 11, 25),
                D(2026, 11, 25),
                "died",
            )
            assert row.deregistration_date == world.clock.today()
        assert persons.members_view(s, ctx, hid, world.clock.today()) == []
        assert [m["person_id"] for m in persons.members_view(s, ctx, hid, D(2026, 11, 24))] == [pid]
        actions = [
            a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.subject_person_id == pid))
        ]
        assert "person.retire" in actions and actions.count("residence.retire") == 2
        assert "membership.retire" in actions and "person.death" in actions


def test_a_death_before_the_person_was_recorded_closes_the_record_at_its_start(world: World) -> None:
    p, pid = _place(world), _person(world)
    _arrive(world, pid, p.dwelling_id, D(2019, 1, 1), category="resident")
    with world.session() as s:  # the household is recorded today, after the death
        hid = factories.household(
            s,
            world.ctx(s, "collector_zhang"),
            area_id=world.area(INSIDE),
            dwelling_id=p.dwelling_id,
            members=[(pid, "02")],
        )
    result = _death(world, pid, D(2019, 12, 31))
    assert len(result["ended_memberships"]) == 1
    with world.session() as s:
        assert persons.members_view(s, world.ctx(s, "police_liu"), hid, world.clock.today()) == []
        person = history.latest_row(s, persons.PERSON, pid)
        assert person.valid_to == D(2020, 1, 1)  # recorded from 2020-01-01 by the factory


def test_a_future_death_date_is_refused_with_nothing_written(world: World) -> None:
    p, pid = _place(world), _person(world)
    _arrive(world, pid, p.dwelling_id, D(2026, 1, 1))
    before = _counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _death(world, pid, D(2026, 11, 28))
    assert exc.value.code == "person.death_in_future"
    assert _counts(world) == before


def test_a_death_before_an_arrival_is_refused_with_nothing_written(world: World) -> None:
    p, pid = _place(world), _person(world)
    _arrive(world, pid, p.dwelling_id, D(2026, 10, 1))
    before = _counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _death(world, pid, D(2026, 9, 1))
    assert exc.value.code == "residence.departure_before_arrival"
    assert _counts(world) == before


def test_a_death_with_a_stale_person_version_is_refused(world: World) -> None:
    p, pid = _place(world), _person(world)
    _arrive(world, pid, p.dwelling_id, D(2026, 1, 1))
    before = _counts(world)
    with pytest.raises(Conflict) as exc:
        _death(world, pid, D(2026, 11, 25), version=7)
    assert exc.value.code == "version.stale"
    assert _counts(world) == before


def test_a_collector_may_not_register_a_death(world: World) -> None:
    p, pid = _place(world), _person(world)
    _arrive(world, pid, p.dwelling_id, D(2026, 1, 1))
    with pytest.raises(Forbidden):
        _death(world, pid, D(2026, 11, 25), persona="collector_zhang")


# ---- timeliness in the read views -----------------------------------------------------------------------------


def test_where_lives_and_occupants_show_the_registration_lateness(world: World) -> None:
    p, pid = _place(world), _person(world)
    _arrive(world, pid, p.dwelling_id, D(2026, 9, 30), registered=D(2026, 10, 12))
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        [current] = residence.where_lives(s, ctx, pid)["current"]
        [occupant] = residence.occupants(s, ctx, p.dwelling_id, None)["occupants"]
    assert current["registration_lateness_working_days"] == 4  # National Day week skipped, Sat 10 Oct worked
    assert occupant["registration_lateness_working_days"] == 4


# ---- lists: arrivals of a month, due to leave, overdue --------------------------------------------------------


def _floating_scene(world: World) -> dict[str, int]:
    p, q = _place(world), _place(world)
    ids = {}
    ids["due"] = _person(world, name="周一")
    _arrive(world, ids["due"], p.dwelling_id, D(2026, 11, 2), until=D(2026, 12, 10))
    ids["overdue"] = _person(world, name="吴二")
    _arrive(world, ids["overdue"], q.dwelling_id, D(2026, 5, 2), until=D(2026, 11, 1))
    ids["left"] = _person(world, name="郑三")
    rid = _arrive(world, ids["left"], _place(world).dwelling_id, D(2026, 11, 5), until=D(2026, 11, 20))
    _depart(world, rid, D(2026, 11, 20))
    ids["resident"] = _person(world, name="王四")
    _arrive(world, ids["resident"], _place(world).dwelling_id, D(2026, 11, 6), category="resident")
    ids["extended"] = _person(world, name="冯五")
    ext = _arrive(world, ids["extended"], _place(world).dwelling_id, D(2026, 4, 1), until=D(2026, 10, 1))
    _extend(world, ext, D(2027, 10, 1), effective=D(2026, 9, 30))
    return ids


def test_floating_arrivals_of_a_month_list_every_floating_arrival_with_masked_documents(world: World) -> None:
    ids = _floating_scene(world)
    with world.session() as s:
        result = residence.floating_arrivals(s, world.ctx(s, "police_liu"), world.area(INSIDE), "2026-11")
    assert [i["person_id"] for i in result["items"]] == [ids["due"], ids["left"]]
    assert result["total"] == 2
    first = result["items"][0]
    assert (first["name"], first["arrival_date"]) == ("周一", D(2026, 11, 2))
    assert "*" in first["document"]["number"] and first["address"].endswith("501室")


def test_due_to_leave_and_overdue(world: World) -> None:
    ids = _floating_scene(world)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        due = residence.due_to_leave(s, ctx, world.area(INSIDE), 30)
        overdue = residence.overdue(s, ctx, world.area(INSIDE))
        assert residence.due_to_leave(s, ctx, world.area(INSIDE), 7)["items"] == []
    assert [(i["person_id"], i["days_to_leave"]) for i in due["items"]] == [(ids["due"], 13)]
    assert [i["person_id"] for i in overdue["items"]] == [ids["overdue"]]


def test_list_reads_are_audited_per_listed_person(world: World) -> None:
    ids = _floating_scene(world)
    with world.session() as s:
        residence.overdue(s, world.ctx(s, "district_admin_chen"), world.area("420704"))
    with world.session() as s:
        entries = (
            s.execute(select(AuditEntry).where(AuditEntry.action == "residence.overdue")).scalars().all()
        )
    assert [(e.actor_name, e.subject_person_id) for e in entries] == [("district_admin_chen", ids["overdue"])]


def test_lists_are_scoped_to_the_callers_jurisdiction(world: World) -> None:
    _floating_scene(world)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhou")
        assert residence.overdue(s, ctx, world.area("420704001002"))["items"] == []
        with pytest.raises(Exception) as exc:
            residence.overdue(s, ctx, world.area(INSIDE))
    assert getattr(exc.value, "code", None) == "area.not_found"


def test_a_bad_month_is_refused(world: World) -> None:
    with world.session() as s, pytest.raises(ValidationFailed) as exc:
        residence.floating_arrivals(s, world.ctx(s, "police_liu"), world.area(INSIDE), "2026-13")
    assert exc.value.code == "residence.month_invalid"
