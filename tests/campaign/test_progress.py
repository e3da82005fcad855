"""Completeness: buildings visited, dwellings with a status, households whose declared size matches; the lists."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liangshi.campaign import counts as building_counts
from liangshi.campaign import organisation, progress, rules, service
from liangshi.campaign.schemas import AssignmentCreate, PersonAtDwelling, VisitCreate
from liangshi.cli.main import app as cli
from liangshi.common.types import validation_context
from tests import factories
from tests.conftest import INSIDE, World

KEYS = [
    "buildings",
    "buildings_visited",
    "dwellings",
    "dwellings_with_status",
    "households",
    "households_count_matched",
    "change_sets_pending",
]


@pytest.fixture
def town(world: World) -> dict[str, Any]:
    """Two buildings in 滨湖社区 (one dwelling each), a household of two in the first; the first visited."""
    with world.session() as session:
        ctx = world.ctx(session)
        places = [
            factories.place(session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
            for _ in range(2)
        ]
        a = factories.person(session, ctx, area_id=world.area(INSIDE), name="王一")
        b = factories.person(session, ctx, area_id=world.area(INSIDE), name="王二", male=False)
        for pid in (a, b):
            factories.arrival(
                session, ctx, person_id=pid, dwelling_id=places[0].dwelling_id, arrived=dt.date(2026, 3, 1)
            )
        hh = factories.household(
            session,
            ctx,
            area_id=world.area(INSIDE),
            dwelling_id=places[0].dwelling_id,
            members=[(a, "02"), (b, "10")],
        )
    with world.session() as session:
        service.record_visit(
            session,
            world.ctx(session, "collector_zhang"),
            places[0].dwelling_id,
            VisitCreate(outcome="occupied", idempotency_key="visit-0001"),
        )
    return {"places": places, "household": hh}


def test_progress_counts_what_is_visited_and_what_matches(world: World, town: dict[str, Any]) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        before = progress.area_progress(session, ctx, INSIDE)
        assert before == {
            "buildings": 2,
            "buildings_visited": 1,
            "dwellings": 2,
            "dwellings_with_status": 1,
            "households": 1,
            "households_count_matched": 0,
            "change_sets_pending": 0,
        }
    with world.session() as session:
        got = progress.declare_household_count(
            session, world.ctx(session, "collector_zhang"), town["household"], 3
        )
        assert got["matched"] is False and got["recorded"] == 2
    with world.session() as session:
        assert progress.area_progress(session, world.ctx(session), INSIDE)["households_count_matched"] == 0
        progress.declare_household_count(session, world.ctx(session, "collector_zhang"), town["household"], 2)
    with world.session() as session:
        assert progress.area_progress(session, world.ctx(session), INSIDE)["households_count_matched"] == 1
        # The township sums its communities.
        township = progress.report(session, world.ctx(session, "station_admin_li"), "420704001")
    assert township.totals.buildings == 2
    assert {r.key: r.buildings for r in township.areas}[INSIDE] == 2


def test_nobody_home_counts_tries_and_asks_for_a_revisit(world: World, town: dict[str, Any]) -> None:
    second = town["places"][1].dwelling_id
    for key in ("visit-0002", "visit-0003"):
        with world.session() as session:
            service.record_visit(
                session,
                world.ctx(session, "collector_zhang"),
                second,
                VisitCreate(outcome="nobody_home", idempotency_key=key),
            )
    with world.session() as session:
        rows = progress.dwelling_list(session, world.ctx(session, "collector_zhang"), INSIDE, "revisit")
        buildings = progress.building_list(session, world.ctx(session, "collector_zhang"), INSIDE, "visited")
    assert [(r["dwelling_id"], r["status"], r["tries"], r["revisit"]) for r in rows] == [
        (second, "nobody_home", 2, True)
    ]
    assert len(buildings) == 2  # a visit of each building's only dwelling makes both visited
    assert rules.occupancy("demolished", "occupied", 0)["status"] == "demolished"


def test_progress_per_collector_follows_their_open_work(world: World, town: dict[str, Any]) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        spec = rules.parse_campaign({"name": "采集", "area": "420704001", "starts_on": "2026-11-01"})
        c = organisation.create_campaign(session, ctx, spec)
        organisation.assign(
            session,
            ctx,
            c.id,
            AssignmentCreate(
                collector="collector_zhang",
                unit="buildings",
                building_ids=[town["places"][0].building_id],
                due_on=dt.date(2026, 12, 20),
            ),
        )
    with world.session() as session:
        report = progress.report(session, world.ctx(session, "station_admin_li"), INSIDE)
    assert [(r.label, r.buildings, r.buildings_visited) for r in report.collectors] == [
        ("collector_zhang", 1, 1)
    ]


def test_the_api_serves_progress_and_its_lists(
    world: World, town: dict[str, Any], client: TestClient, login: Any
) -> None:
    r = client.get("/progress", params={"area": INSIDE}, headers=login("collector_zhang"))
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["buildings_visited"] == 1
    r = client.get(
        "/progress/buildings",
        params={"area": INSIDE, "status": "not_visited"},
        headers=login("collector_zhang"),
    )
    assert [b["building_id"] for b in r.json()] == [town["places"][1].building_id]
    r = client.put(
        f"/households/{town['household']}/member-count", json={"members": 2}, headers=login("collector_zhang")
    )
    assert r.status_code == 200 and r.json()["matched"] is True
    r = client.get(
        "/progress/households", params={"area": INSIDE, "matched": "true"}, headers=login("police_liu")
    )
    assert [h["household_id"] for h in r.json()] == [town["household"]]
    outside = client.get("/progress", params={"area": "420102001001"}, headers=login("collector_zhang"))
    assert outside.status_code == 404
    refused = client.get("/progress", params={"area": INSIDE}, headers=login("auditor_sun"))
    assert refused.status_code == 403


def test_the_cli_prints_exactly_the_seven_counts(world: World, town: dict[str, Any], db_url: str) -> None:
    result = CliRunner().invoke(
        cli, ["campaign", "progress", "--area", INSIDE, "--json"], env={"LIANGSHI_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == KEYS
    assert data["buildings"] == 2 and data["buildings_visited"] == 1 and data["change_sets_pending"] == 0


def test_the_cli_sets_up_a_campaign_and_assigns_from_csv(
    world: World, town: dict[str, Any], db_url: str, tmp_path: Path
) -> None:
    env = {"LIANGSHI_DATABASE_URL": db_url}
    file = tmp_path / "campaign.toml"
    file.write_text(
        'name = "2027年两实采集"\narea = "420704001"\nstarts_on = 2027-03-01\npilots = ["420704001001"]\n'
        'rollout_on = 2027-05-01\n\n[calendar]\nholidays = ["2027-05-01..2027-05-05"]\n',
        encoding="utf-8",
    )
    made = CliRunner().invoke(
        cli, ["campaign", "create", "--file", str(file), "--as", "station_admin_li"], env=env
    )
    assert made.exit_code == 0, made.output
    assert "准备宣传" in made.output and "长效管理" in made.output
    with world.session() as session:
        campaign_id = organisation.list_campaigns(session, world.ctx(session))[0].id
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"collector,unit,target,due_on\ncollector_zhang,community,{INSIDE},someday\n", encoding="utf-8"
    )
    refused = CliRunner().invoke(cli, ["campaign", "assign", str(campaign_id), "--csv", str(bad)], env=env)
    assert refused.exit_code == 2
    assert "bad.csv:2 due_on" in refused.output
    good = tmp_path / "good.csv"
    good.write_text(
        f"collector,unit,target,due_on\ncollector_zhang,community,{INSIDE},2027-12-20\n", encoding="utf-8"
    )
    done = CliRunner().invoke(cli, ["campaign", "assign", str(campaign_id), "--csv", str(good)], env=env)
    assert done.exit_code == 0, done.output
    with world.session() as session:
        work = organisation.assignments(session, world.ctx(session), campaign_id=campaign_id)
    assert [(w.collector, w.workload_buildings, w.workload_persons) for w in work] == [
        ("collector_zhang", 2, 2)
    ]


def test_change_sets_awaiting_review_count_in_the_progress(
    world: World, town: dict[str, Any], db_url: str
) -> None:
    found = PersonAtDwelling.model_validate(
        {
            "name": "王待审",
            "id_number": factories.make_id("420704", dt.date(1991, 5, 6)),
            "arrival_date": "2026-11-01",
        },
        context=validation_context(dt.date(2026, 11, 27)),
    )
    with world.session() as session:
        service.add_person_at_dwelling(
            session, world.ctx(session, "collector_zhang"), town["places"][1].dwelling_id, found
        )
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        assert progress.area_progress(session, ctx, INSIDE)["change_sets_pending"] == 1
    result = CliRunner().invoke(
        cli,
        ["campaign", "progress", "--area", INSIDE, "--json"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["change_sets_pending"] == 1


# ---- the kept counts (issue 13: the dashboard at 1M persons) --------------------------------------------------


def _direct(world: World, code: str) -> dict[str, int]:
    """The counts recounted from the registry, as before the kept counts (the reference)."""
    from sqlalchemy import select

    from liangshi.areas.models import Area  # only this comparison reads the area row itself

    with world.session() as session:
        area = session.execute(select(Area).where(Area.code == code)).scalar_one()
        direct = progress.counts(session, progress._area_buildings(area), world.clock.today())
    direct.pop("buildings_partly")
    return direct


def test_the_kept_counts_equal_the_direct_count_on_random_data(world: World) -> None:
    import random

    from liangshi.buildings import service as buildings
    from liangshi.buildings.schemas import DwellingCreate
    from liangshi.persons import service as persons
    from liangshi.persons.schemas import MemberAdd

    rng = random.Random(13)
    south = "420704001002"
    places: list[Any] = []
    dwellings: list[int] = []
    where_is: dict[int, str] = {}  # dwelling -> its community
    households: list[tuple[int, str]] = []  # (household id, its community)
    keys = iter(range(10_000))
    for round_no in range(4):
        with world.session() as session:
            ctx = world.ctx(session)
            for _ in range(rng.randint(1, 3)):
                code = rng.choice([INSIDE, south])
                p = factories.place(session, ctx, area_id=world.area(code), district_id=world.area("420704"))
                places.append(p)
                dwellings.append(p.dwelling_id)
                where_is[p.dwelling_id] = code
            for _ in range(rng.randint(1, 4)):
                p = rng.choice(places)
                floor = rng.randint(6, 30)
                snap = buildings.create_dwelling(
                    session,
                    ctx,
                    DwellingCreate(
                        building_id=p.building_id,
                        unit=rng.randint(1, 9),
                        floor=floor,
                        room=f"{floor}0{round_no}",
                    ),
                )
                dwellings.append(int(snap.entity.id))
                where_is[int(snap.entity.id)] = next(c for c in (INSIDE, south) if world.area(c) == p.area_id)
            for _ in range(rng.randint(0, 2)):
                d = rng.choice(dwellings)
                code = where_is[d]
                area = world.area(code)
                people = [factories.person(session, ctx, area_id=area) for _ in range(rng.randint(1, 3))]
                for pid in people:
                    factories.arrival(session, ctx, person_id=pid, dwelling_id=d, arrived=dt.date(2026, 3, 1))
                hid = factories.household(
                    session, ctx, area_id=area, dwelling_id=d, members=[(people[0], "02")]
                )
                households.append((hid, code))
                for pid in people[1:]:
                    if rng.random() < 0.5:
                        expected = registry_read_household(session, ctx, hid)
                        persons.add_member(
                            session,
                            ctx,
                            hid,
                            MemberAdd(person_id=pid, relationship="10", expected_version=expected),
                        )
        # Visits and declared sizes by the collectors, each in their own community.
        for username, code in (("collector_zhang", INSIDE), ("collector_zhou", south)):
            with world.session() as session:
                ctx = world.ctx(session, username)
                mine = [d for d in dwellings if where_is[d] == code]
                for d in rng.sample(mine, k=min(len(mine), rng.randint(0, 3))):
                    outcome = rng.choice(["occupied", "vacant", "nobody_home", "refused"])
                    service.record_visit(
                        session,
                        ctx,
                        d,
                        VisitCreate(outcome=outcome, idempotency_key=f"rand-{next(keys):05d}"),
                    )
                for hid, where in households:
                    if where == code and rng.random() < 0.4:
                        progress.declare_household_count(session, ctx, hid, rng.randint(1, 3))
        for code in (INSIDE, south, "420704001"):
            with world.session() as session:
                kept = progress.area_progress(session, world.ctx(session, "station_admin_li"), code)
            kept.pop("change_sets_pending")
            direct = _direct(world, code)
            direct.pop("change_sets_pending")
            assert kept == direct, (round_no, code)
    final = _direct(world, "420704001")
    assert final["buildings"] == len(places) and final["dwellings"] == len(dwellings)
    assert final["dwellings_with_status"] > 0 and final["households"] == len(households)
    with world.session() as session:
        # Nothing changed since the last read: the refresh recounts nothing, on PostgreSQL too (other sessions of
        # the server, running since before these rows were written, no longer make it rescan them).
        again = building_counts.refresh(session, today=world.clock.today(), now=world.clock.now())
        assert again == 0


def registry_read_household(session: Any, ctx: Any, household_id: int) -> int:
    """The household's lock counter (the expected version of the next change)."""
    from liangshi.persons.models import Household

    household = session.get(Household, household_id)
    return int(household.version)


def test_progress_of_one_campaign_counts_its_area_and_its_work_only(
    world: World, town: dict[str, Any], client: TestClient, login: Any, db_url: str
) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        south = factories.place(
            session, world.ctx(session), area_id=world.area("420704001002"), district_id=world.area("420704")
        )
        ours = organisation.create_campaign(
            session,
            ctx,
            rules.parse_campaign({"name": "滨湖采集", "area": INSIDE, "starts_on": "2026-11-01"}),
        )
        theirs = organisation.create_campaign(
            session,
            ctx,
            rules.parse_campaign({"name": "南浦采集", "area": "420704001002", "starts_on": "2026-11-01"}),
        )
        organisation.assign(
            session,
            ctx,
            theirs.id,
            AssignmentCreate(
                collector="collector_zhou",
                unit="buildings",
                building_ids=[south.building_id],
                due_on=dt.date(2026, 12, 20),
            ),
        )
    with world.session() as session:
        admin = world.ctx(session, "station_admin_li")
        township = progress.area_progress(session, admin, "420704001")
        mine = progress.area_progress(session, admin, None, campaign_id=ours.id)
        both = progress.report(session, admin, "420704001")
        only = progress.report(session, admin, "420704001", campaign_id=ours.id)
    assert township["buildings"] == 3 and mine["buildings"] == 2
    assert [r.label for r in both.collectors] == ["collector_zhou"] and only.collectors == []
    assert only.totals.buildings == 2 and only.campaign_id == ours.id
    r = client.get("/progress", params={"campaign": theirs.id}, headers=login("station_admin_li"))
    assert r.status_code == 200, r.text
    assert r.json()["totals"]["buildings"] == 1 and [c["label"] for c in r.json()["collectors"]] == [
        "collector_zhou"
    ]
    out = CliRunner().invoke(
        cli,
        ["campaign", "progress", "--campaign", str(ours.id), "--json"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["buildings"] == 2


def test_the_reports_grouped_rows_equal_each_collector_and_team_counted_on_its_own(
    world: World, town: dict[str, Any]
) -> None:
    from sqlalchemy import select, union

    from liangshi.access.models import User  # the reference below names users by id, as the report keys them
    from liangshi.areas.models import Area
    from liangshi.campaign.models import Assignment
    from liangshi.campaign.schemas import MemberIn, TeamCreate
    from liangshi.review import service as review

    south = "420704001002"
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        far = factories.place(
            session, world.ctx(session), area_id=world.area(south), district_id=world.area("420704")
        )
        first = organisation.create_campaign(
            session,
            ctx,
            rules.parse_campaign({"name": "一期", "area": "420704001", "starts_on": "2026-11-01"}),
        )
        second = organisation.create_campaign(
            session,
            ctx,
            rules.parse_campaign({"name": "二期", "area": "420704001", "starts_on": "2026-11-01"}),
        )
        due = dt.date(2026, 12, 20)
        team = organisation.create_team(
            session,
            ctx,
            first.id,
            TeamCreate(
                area_code=INSIDE,
                name="滨湖专班",
                members=[MemberIn(username="collector_zhang", role="enumerator")],
            ),
        )
        organisation.create_team(session, ctx, second.id, TeamCreate(area_code=south, name="南浦专班"))
        # collector_zhang's work overlaps across the two campaigns: one building, then the whole community.
        organisation.assign(
            session,
            ctx,
            first.id,
            AssignmentCreate(
                collector="collector_zhang",
                unit="buildings",
                building_ids=[town["places"][0].building_id],
                due_on=due,
                team_id=team.id,
            ),
        )
        organisation.assign(
            session,
            ctx,
            second.id,
            AssignmentCreate(collector="collector_zhang", unit="community", area_code=INSIDE, due_on=due),
        )
        organisation.assign(
            session,
            ctx,
            second.id,
            AssignmentCreate(
                collector="collector_zhou", unit="buildings", building_ids=[far.building_id], due_on=due
            ),
        )
    found = PersonAtDwelling.model_validate(
        {
            "name": "王待审",
            "id_number": factories.make_id("420704", dt.date(1991, 5, 6)),
            "arrival_date": "2026-11-01",
        },
        context=validation_context(dt.date(2026, 11, 27)),
    )
    with world.session() as session:
        service.add_person_at_dwelling(
            session, world.ctx(session, "collector_zhang"), town["places"][1].dwelling_id, found
        )
    with world.session() as session:
        admin = world.ctx(session, "station_admin_li")
        report = progress.report(session, admin, "420704001")
        area = session.execute(select(Area).where(Area.code == "420704001")).scalar_one()
        today = world.clock.today()
        names = dict(session.execute(select(User.id, User.username)).all())
        work = list(session.execute(select(Assignment).where(Assignment.status == "open")).scalars())

        def reference(items: list[Assignment], fallback: Any, proposers: set[int]) -> dict[str, int]:
            ids = (
                select(union(*[organisation.covered_buildings(a) for a in items]).subquery().c[0])
                if items
                else fallback
            )
            got = progress.counts(
                session, ids, today, pending=review.change_sets_pending(session, area, proposers)
            )
            got.pop("buildings_partly")
            return got

        def shown(row: Any) -> dict[str, int]:
            return {k: getattr(row, k) for k in KEYS}

        assert {r.label for r in report.collectors} == {"collector_zhang", "collector_zhou"}
        for row in report.collectors:
            uid = int(row.key)
            assert row.label == names[uid]
            assert shown(row) == reference([a for a in work if a.collector_id == uid], None, {uid}), row.label
        zhang = next(r for r in report.collectors if r.label == "collector_zhang")
        assert zhang.buildings == 2 and zhang.change_sets_pending == 1
        assert [t.label for t in report.teams] == ["滨湖专班", "南浦专班"]
        ours, theirs = report.teams
        member = next(uid for uid, name in names.items() if name == "collector_zhang")
        assert shown(ours) == reference(
            [a for a in work if a.team_id == int(ours.key) or a.collector_id == member], None, {member}
        )
        south_area = session.execute(select(Area).where(Area.code == south)).scalar_one()
        assert shown(theirs) == reference([], progress._area_buildings(south_area), set())
        assert theirs.buildings == 1 and theirs.change_sets_pending == 0
        assert report.totals.change_sets_pending == 1
        assert [r.change_sets_pending for r in report.areas if r.key == INSIDE] == [1]
