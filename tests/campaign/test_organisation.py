"""The campaign's organisation: phases, working days and cards, teams, assignments, reassign, return, bulk CSV."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from liangshi.campaign import organisation, rules
from liangshi.campaign.models import Assignment, Campaign
from liangshi.campaign.schemas import AssignmentCreate, MemberIn, TeamCreate
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests import factories
from tests.conftest import INSIDE, World

TOWNSHIP = "420704001"
SOUTH = "420704001002"  # 南浦社区: collector_zhou's community
NATIONAL_DAY = rules.WorkCalendar(
    holidays=frozenset(dt.date(2026, 10, d) for d in range(1, 8)), workdays=frozenset({dt.date(2026, 10, 10)})
)


# ---- pure rules ------------------------------------------------------------------------------------------------


def test_the_default_phases_are_the_seeds_five_in_order() -> None:
    phases = rules.default_phases(dt.date(2010, 3, 1))
    assert [p.name_zh for p in phases] == ["准备宣传", "门牌摸排", "集中采集", "检查验收", "长效管理"]
    assert (phases[1].starts_on, phases[1].ends_on) == (dt.date(2010, 4, 1), dt.date(2010, 4, 30))
    assert (phases[2].starts_on, phases[2].ends_on) == (dt.date(2010, 5, 1), dt.date(2010, 10, 31))
    assert phases[3].ends_on == dt.date(2010, 11, 30) and phases[4].ends_on is None
    assert rules.phase_status(phases[2].starts_on, phases[2].ends_on, dt.date(2010, 6, 1)) == "active"
    assert rules.phase_status(phases[0].starts_on, phases[0].ends_on, dt.date(2010, 6, 1)) == "done"


def test_working_days_skip_weekends_and_holidays_and_count_makeup_days() -> None:
    # 2026-09-30 is a Wednesday; 1–7 October are holidays; Saturday 10 October is a working day (调休).
    assert rules.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 9), NATIONAL_DAY) == 2
    assert rules.working_days_between(dt.date(2026, 9, 30), dt.date(2026, 10, 10), NATIONAL_DAY) == 3
    assert rules.working_days_between(dt.date(2026, 10, 10), dt.date(2026, 9, 30), NATIONAL_DAY) == -3
    assert rules.is_working_day(dt.date(2026, 10, 10), NATIONAL_DAY)
    assert not rules.is_working_day(dt.date(2026, 10, 5), NATIONAL_DAY)


def test_cards_turn_yellow_within_n_working_days_and_red_when_overdue() -> None:
    today = dt.date(2026, 9, 30)
    assert rules.card(dt.date(2026, 10, 9), today, NATIONAL_DAY, 3) == "yellow"  # 2 working days away
    assert rules.card(dt.date(2026, 10, 14), today, NATIONAL_DAY, 3) == "green"  # 5 working days away
    assert rules.card(dt.date(2026, 9, 29), today, NATIONAL_DAY, 3) == "red"
    assert rules.card(today, today, NATIONAL_DAY, 0) == "yellow"


def test_a_calendar_file_takes_ranges_and_refuses_a_day_both_ways() -> None:
    cal = rules.parse_calendar({"holidays": ["2026-10-01..2026-10-03"], "workdays": ["2026-10-10"]})
    assert len(cal.holidays) == 3
    with pytest.raises(ValidationFailed) as err:
        rules.parse_calendar({"holidays": ["2026-10-01"], "workdays": ["2026-10-01"]})
    assert err.value.code == "campaign.calendar_day_twice"


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"area": TOWNSHIP, "starts_on": "2026-03-01"}, "campaign.name_required", "name"),
        ({"name": "x", "area": "42", "starts_on": "2026-03-01"}, "campaign.bad_area", "area"),
        ({"name": "x", "area": TOWNSHIP, "starts_on": "March"}, "campaign.bad_date", "starts_on"),
        (
            {"name": "x", "area": TOWNSHIP, "starts_on": "2026-03-01", "pilots": ["420703100001"]},
            "campaign.bad_pilot",
            "pilots",
        ),
        (
            {"name": "x", "area": TOWNSHIP, "starts_on": "2026-03-01", "rollout_on": "2026-05-01"},
            "campaign.rollout_without_pilots",
            "pilots",
        ),
        (
            {
                "name": "x",
                "area": TOWNSHIP,
                "starts_on": "2026-03-01",
                "phases": [
                    {"key": "a", "name_zh": "甲", "starts_on": "2026-03-01", "ends_on": "2026-04-30"},
                    {"key": "b", "name_zh": "乙", "starts_on": "2026-04-15"},
                ],
            },
            "campaign.phases_overlap",
            "phases[1].starts_on",
        ),
    ],
)
def test_a_bad_campaign_file_names_its_field(data: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        rules.parse_campaign(data)
    assert err.value.code == code
    assert err.value.data["field"] == field


def test_the_assignment_csv_reports_every_bad_line_and_field() -> None:
    text = (
        "collector,unit,target,due_on\n"
        "zhang,community,420704001001,2026-12-20\n"
        ",planet,,tomorrow\n"
        "zhou,buildings,1;x,2026-12-20\n"
    )
    rows, errors = rules.parse_assignment_csv(text)
    assert [r.line for r in rows] == [2]
    assert {(e.line, e.field) for e in errors} == {
        (3, "collector"),
        (3, "unit"),
        (3, "target"),
        (3, "due_on"),
        (4, "target"),
    }


# ---- use cases ---------------------------------------------------------------------------------------------------


def _spec(**kw: object) -> rules.CampaignSpec:
    data: dict[str, object] = {
        "name": "2026年两实采集",
        "area": TOWNSHIP,
        "starts_on": "2026-11-01",
        "pilots": [INSIDE],
        "rollout_on": "2026-12-01",
        **kw,
    }
    return rules.parse_campaign(data)


@pytest.fixture
def campaign_id(world: World) -> int:
    """A campaign over 凤凰街道 set up by station_admin_li, with 滨湖社区 as its pilot."""
    with world.session() as session:
        return organisation.create_campaign(session, world.ctx(session, "station_admin_li"), _spec()).id


@pytest.fixture
def homes(world: World) -> list[factories.Place]:
    """Two buildings with a dwelling each in 滨湖社区, one resident in the first."""
    with world.session() as session:
        ctx = world.ctx(session)
        places = [
            factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
            for _ in range(2)
        ]
        pid = factories.person(session, ctx, area_id=world.area(INSIDE))
        factories.arrival(
            session, ctx, person_id=pid, dwelling_id=places[0].dwelling_id, arrived=dt.date(2026, 3, 1)
        )
        return places


def test_a_station_admin_sets_up_a_campaign_with_the_five_phases_and_a_pilot(
    world: World, campaign_id: int
) -> None:
    with world.session() as session:
        c = organisation.read_campaign(
            session,
            world.ctx(session, "collector_zhang"),
            organisation.get_campaign(session, world.ctx(session, "collector_zhang"), campaign_id),
        )
    assert [p.key for p in c.phases] == ["prepare", "plates", "collect", "inspect", "maintain"]
    assert c.current_phase == "prepare"  # today is 2026-11-27
    assert c.pilot_area_codes == [INSIDE] and c.rollout_on == dt.date(2026, 12, 1)


def test_a_collector_may_not_set_up_a_campaign_and_no_one_outside_their_area(world: World) -> None:
    with world.session() as session, pytest.raises(Forbidden):
        organisation.create_campaign(session, world.ctx(session, "collector_zhang"), _spec())
    with world.session() as session, pytest.raises(NotFound):
        organisation.create_campaign(
            session,
            world.ctx(session, "station_admin_li"),
            _spec(area="420704002", pilots=[], rollout_on=None),
        )
    with world.session() as session:
        assert session.execute(select(func.count(Campaign.id))).scalar_one() == 0


def test_a_team_has_members_with_roles_and_a_leader(world: World, campaign_id: int) -> None:
    with world.session() as session:
        team = organisation.create_team(
            session,
            world.ctx(session, "station_admin_li"),
            campaign_id,
            TeamCreate(
                area_code=INSIDE,
                name="滨湖社区专班",
                members=[
                    MemberIn(username="collector_zhang", role="enumerator"),
                    MemberIn(username="police_liu", role="community_police", leader=True),
                ],
            ),
        )
    assert [(m.username, m.role, m.leader) for m in team.members] == [
        ("police_liu", "community_police", True),
        ("collector_zhang", "enumerator", False),
    ]
    with world.session() as session, pytest.raises(ValidationFailed) as err:
        organisation.add_team_member(
            session,
            world.ctx(session, "station_admin_li"),
            team.id,
            MemberIn(username="collector_zhou", role="grid_worker"),
        )
    assert err.value.code == "team.member_outside"


def test_assigning_a_community_counts_its_workload_and_cards_it(
    world: World, campaign_id: int, homes: list[factories.Place]
) -> None:
    with world.session() as session:
        a = organisation.assign(
            session,
            world.ctx(session, "station_admin_li"),
            campaign_id,
            AssignmentCreate(
                collector="collector_zhang", unit="community", area_code=INSIDE, due_on=dt.date(2026, 12, 1)
            ),
        )
    assert (a.workload_buildings, a.workload_dwellings, a.workload_persons) == (2, 2, 1)
    assert a.status == "open" and a.card == "yellow"  # Friday 27 Nov → Tuesday 1 Dec: 2 working days
    with world.session() as session:
        mine = organisation.assignments(session, world.ctx(session, "collector_zhang"))
        others = organisation.assignments(session, world.ctx(session, "collector_zhou"))
    assert [m.id for m in mine] == [a.id] and others == []


def test_work_is_assigned_only_to_a_collector_whose_area_covers_it(world: World, campaign_id: int) -> None:
    with world.session() as session, pytest.raises(ValidationFailed) as err:
        organisation.assign(
            session,
            world.ctx(session, "station_admin_li"),
            campaign_id,
            AssignmentCreate(
                collector="collector_zhou", unit="community", area_code=INSIDE, due_on=dt.date(2026, 12, 20)
            ),
        )
    assert err.value.code == "assignment.collector_outside"


def test_reassigning_moves_the_work_and_is_assigned_follows(
    world: World, campaign_id: int, homes: list[factories.Place]
) -> None:
    today = world.clock.today()
    dwelling = homes[0].dwelling_id
    with world.session() as session:
        # Before any assignment the collectors' jurisdiction decides, as before.
        assert organisation.is_assigned(
            session, user_id=world.users["collector_zhang"], dwelling_id=dwelling, today=today
        )
        assert not organisation.is_assigned(
            session, user_id=world.users["collector_zhou"], dwelling_id=dwelling, today=today
        )
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        a = organisation.assign(
            session,
            ctx,
            campaign_id,
            AssignmentCreate(
                collector="collector_zhang",
                unit="buildings",
                building_ids=[homes[0].building_id],
                due_on=dt.date(2026, 12, 20),
            ),
        )
    with world.session() as session:
        assert organisation.is_assigned(
            session, user_id=world.users["collector_zhang"], dwelling_id=dwelling, today=today
        )
        assert not organisation.is_assigned(
            session, user_id=world.users["police_liu"], dwelling_id=dwelling, today=today
        )
        # The other building is in no assignment: still open to whoever covers it.
        assert organisation.is_assigned(
            session, user_id=world.users["police_liu"], dwelling_id=homes[1].dwelling_id, today=today
        )
    with world.session() as session:
        new = organisation.reassign(
            session, world.ctx(session, "station_admin_li"), a.id, collector="police_liu"
        )
    with world.session() as session:
        assert not organisation.is_assigned(
            session, user_id=world.users["collector_zhang"], dwelling_id=dwelling, today=today
        )
        assert organisation.is_assigned(
            session, user_id=world.users["police_liu"], dwelling_id=dwelling, today=today
        )
        old = session.get(Assignment, a.id)
        assert old is not None and old.status == "reassigned" and old.replaced_by_id == new.id
    assert new.building_ids == [homes[0].building_id] and new.collector == "police_liu"
    with world.session() as session, pytest.raises(Conflict) as err:
        organisation.reassign(
            session, world.ctx(session, "station_admin_li"), a.id, collector="collector_zhang"
        )
    assert err.value.code == "assignment.not_open"


def test_a_collector_returns_their_assignment_with_a_reason(
    world: World, campaign_id: int, homes: list[factories.Place]
) -> None:
    with world.session() as session:
        a = organisation.assign(
            session,
            world.ctx(session, "station_admin_li"),
            campaign_id,
            AssignmentCreate(
                collector="collector_zhang", unit="community", area_code=INSIDE, due_on=dt.date(2026, 12, 20)
            ),
        )
    with world.session() as session:
        back = organisation.return_assignment(
            session, world.ctx(session, "collector_zhang"), a.id, "住院两周"
        )
    assert back.status == "returned" and back.return_reason == "住院两周" and back.card is None
    with world.session() as session:
        assert not organisation.is_assigned(
            session,
            user_id=world.users["collector_zhang"],
            dwelling_id=homes[0].dwelling_id,
            today=world.clock.today(),
        )
    with world.session() as session, pytest.raises(Conflict):
        organisation.return_assignment(session, world.ctx(session, "collector_zhang"), a.id, "再退一次")


def test_before_the_roll_out_only_the_pilot_areas_take_work(world: World, campaign_id: int) -> None:
    # The campaign's pilot is 滨湖社区; the rest (南浦社区) starts on 1 December, after today (27 November).
    with world.session() as session, pytest.raises(ValidationFailed) as err:
        organisation.assign(
            session,
            world.ctx(session, "station_admin_li"),
            campaign_id,
            AssignmentCreate(
                collector="collector_zhou", unit="community", area_code=SOUTH, due_on=dt.date(2026, 12, 20)
            ),
        )
    assert err.value.code == "assignment.before_rollout"
    with world.session() as session:
        assert session.execute(select(func.count(Assignment.id))).scalar_one() == 0


def test_bulk_assignment_writes_nothing_when_one_line_is_wrong(
    world: World, homes: list[factories.Place]
) -> None:
    with world.session() as session:
        spec = _spec(pilots=[], rollout_on=None)
        campaign_id = organisation.create_campaign(session, world.ctx(session, "station_admin_li"), spec).id
    bad = (
        "collector,unit,target,due_on\n"
        f"collector_zhang,community,{INSIDE},2026-12-20\n"
        f"collector_zhou,community,{SOUTH},2026-12-20\n"
        f"nobody,community,{SOUTH},2026-12-20\n"
        f"collector_zhou,grid,{SOUTH},2026-12-20\n"
    )
    with world.session() as session:
        result = organisation.bulk_assign(session, world.ctx(session, "station_admin_li"), campaign_id, bad)
    assert result.created == 0
    assert [(e["line"], e["field"]) for e in result.errors] == [(4, "collector"), (5, "area_code")]
    with world.session() as session:
        assert session.execute(select(func.count(Assignment.id))).scalar_one() == 0
    good = "\n".join(bad.splitlines()[:3]) + "\n"
    with world.session() as session:
        result = organisation.bulk_assign(session, world.ctx(session, "station_admin_li"), campaign_id, good)
    assert result.created == 2 and result.errors == []
    with world.session() as session:
        assert session.execute(select(func.count(Assignment.id))).scalar_one() == 2


def test_a_building_in_two_open_assignments_of_one_campaign_is_refused(
    world: World, campaign_id: int, homes: list[factories.Place]
) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        first = organisation.assign(
            session,
            ctx,
            campaign_id,
            AssignmentCreate(
                collector="collector_zhang",
                unit="buildings",
                building_ids=[homes[0].building_id],
                due_on=dt.date(2026, 12, 20),
            ),
        )
    with world.session() as session, pytest.raises(Conflict) as err:
        # The community holds the first building: the same building twice, to two collectors.
        organisation.assign(
            session,
            world.ctx(session, "station_admin_li"),
            campaign_id,
            AssignmentCreate(
                collector="police_liu", unit="community", area_code=INSIDE, due_on=dt.date(2026, 12, 20)
            ),
        )
    assert err.value.code == "assignment.overlap"
    assert err.value.data["assignment_id"] == first.id
    assert err.value.data["building_ids"] == [homes[0].building_id]
    with world.session() as session:
        n = session.execute(select(func.count()).select_from(Assignment)).scalar_one()
        # The other building alone is free; reassigning the first keeps it to one open assignment.
        organisation.assign(
            session,
            world.ctx(session, "station_admin_li"),
            campaign_id,
            AssignmentCreate(
                collector="police_liu",
                unit="buildings",
                building_ids=[homes[1].building_id],
                due_on=dt.date(2026, 12, 20),
            ),
        )
        organisation.reassign(
            session, world.ctx(session, "station_admin_li"), first.id, collector="police_liu"
        )
    assert n == 1
    with world.session() as session:
        result = organisation.bulk_assign(
            session,
            world.ctx(session, "station_admin_li"),
            campaign_id,
            f"collector,unit,target,due_on\ncollector_zhang,community,{INSIDE},2026-12-20\n",
        )
    assert result.created == 0 and result.errors[0]["field"] == "unit"


def test_the_cli_forms_a_team_with_roles_and_a_leader_and_refuses_a_bad_member(
    world: World, campaign_id: int, db_url: str
) -> None:
    from typer.testing import CliRunner

    from liangshi.cli.main import app as cli  # the command line is the entry point under test here

    env = {"LIANGSHI_DATABASE_URL": db_url}
    base = [
        "campaign",
        "team",
        str(campaign_id),
        "--area",
        INSIDE,
        "--name",
        "滨湖社区专班",
        "--as",
        "station_admin_li",
    ]
    for bad, code in (
        (["--member", "police_liu"], "team.bad_member"),
        (["--member", "police_liu:sheriff"], "team.bad_role"),
        (["--member", "nobody_here:enumerator"], "assignment.unknown_user"),
    ):
        refused = CliRunner().invoke(cli, [*base, *bad], env=env)
        assert refused.exit_code != 0 and code in refused.output, refused.output
    with world.session() as session:
        assert organisation.teams_of(session, world.ctx(session, "station_admin_li"), campaign_id) == []
    made = CliRunner().invoke(
        cli,
        [*base, "--member", "police_liu:community_police:leader", "--member", "collector_zhang:enumerator"],
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert "police_liu: 社区民警 / Community police officer 组长 / leader" in made.output
    with world.session() as session:
        (team,) = organisation.teams_of(session, world.ctx(session, "station_admin_li"), campaign_id)
    assert team.name == "滨湖社区专班" and team.area_code == INSIDE
    assert {(m.username, m.role, m.leader) for m in team.members} == {
        ("police_liu", "community_police", True),
        ("collector_zhang", "enumerator", False),
    }
