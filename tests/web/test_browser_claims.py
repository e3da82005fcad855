"""认领 and 业务协同 in Chromium (issue 14): three department records that match nobody come through the master
person index as claims → the community police claims one (it becomes a person), hands one to the community it
belongs to (the station above sees it there) and marks the third a duplicate of a registered person; then a
cross-unit edit is refused by the unit that holds the person and ruled on by the station above both."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from liangshi.mpi import service as mpi
from liangshi.mpi.models import PersonSourceRecord
from liangshi.persons.models import PERSON
from liangshi.registry import history
from liangshi.registry.changesets import ChangeSet
from liangshi.review import service as review
from tests import factories
from tests.conftest import INSIDE, World
from tests.mpi.helpers import rec
from tests.web.conftest import DESK, browser_login, screenshot
from tests.web.review_data import fake_linkage

NEIGHBOUR = "420704001002"  # another community under the same station


def _card(page: Any, change_set_id: int) -> Any:
    return page.locator(f"li[data-changeset='{change_set_id}']")


def test_department_records_are_claimed_moved_and_marked_duplicate_in_the_browser(
    open_page: Callable[..., Any], world: World, fake_linkage: None
) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        known = factories.person(s, world.ctx(s), area_id=world.area(INSIDE), name="何三")
        records = [
            rec("d1", name="孙丽", sex="女", birth="1992-03-04"),
            rec("d2", name="钱进", sex="男", birth="1980-07-08"),
            rec("d3", name="何叁", sex="男", birth="1975-01-02"),
        ]
        out = mpi.resolve(s, ctx, records, source="health", batch_ref="b9", area_id=world.area(INSIDE))
        assert [r.status for r in out] == ["claim"] * 3 and all(r.person_id is None for r in out)
    with world.session() as s:
        ids = {
            json.loads(cs.payload or "{}")["record_id"]: cs.id
            for cs in s.execute(select(ChangeSet).where(ChangeSet.flow == "claim")).scalars()
        }

    police = open_page(DESK)
    browser_login(police, "police_liu")
    police.goto("/web/claims")
    police.wait_for_selector("[data-testid=claims]")
    assert all(_card(police, i).count() == 1 for i in ids.values())
    _card(police, ids["d1"]).locator("[data-testid=claim]").click()
    police.wait_for_selector(".flash")
    card = _card(police, ids["d2"])
    card.locator("[data-testid=area-code]").fill(NEIGHBOUR)
    card.locator("[data-testid=elsewhere]").click()
    police.wait_for_selector(".flash")
    card = _card(police, ids["d3"])
    card.locator("[data-testid=duplicate-of]").fill(str(known))
    card.locator("[data-testid=duplicate]").click()
    police.wait_for_selector(".flash")
    screenshot(police, "claims-decided")
    # None of the three waits at this community any more.
    assert all(_card(police, i).count() == 0 for i in ids.values())

    # The record handed on waits at the neighbour community, where the station above both sees it.
    station = open_page(DESK)
    browser_login(station, "station_admin_li")
    station.goto("/web/claims")
    station.wait_for_selector("[data-testid=claims]")
    assert _card(station, ids["d2"]).count() == 1
    assert "钱进" in (_card(station, ids["d2"]).text_content() or "")

    with world.session() as s:
        links = {
            r.source_record_id: (r.status, r.person_id)
            for r in s.execute(select(PersonSourceRecord)).scalars()
        }
        claimed = s.get(ChangeSet, ids["d1"])
        moved = s.get(ChangeSet, ids["d2"])
        assert claimed is not None and moved is not None
        person_id = json.loads(claimed.result or "{}")["person"][0]
        row = history.open_row(s, PERSON, person_id)
        assert row is not None and row.name == "孙丽" and row.source_kind == "department"
        assert links == {"d1": ("new", person_id), "d2": ("claim", None), "d3": ("linked", known)}
        assert moved.status == "pending_claim" and moved.area_id == world.area(NEIGHBOUR)
        assert s.get(ChangeSet, ids["d3"]).status == "duplicate"  # type: ignore[union-attr]


def test_a_cross_unit_edit_is_refused_and_ruled_on_in_the_browser(
    open_page: Callable[..., Any], world: World
) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        there = factories.place(s, ctx, area_id=world.area(NEIGHBOUR), district_id=world.area("420704"))
        pid = factories.person(s, ctx, area_id=world.area(INSIDE), name="王六")
        factories.arrival(s, ctx, person_id=pid, dwelling_id=there.dwelling_id, arrived=dt.date(2026, 2, 1))
        # The neighbour community's collector, where 王六 lives, proposes a change to a person INSIDE holds.
        cs_id = review.propose_cross_unit(
            s,
            world.ctx(s, "collector_zhou"),
            pid,
            {"workplace": "南浦饭店"},
            expected_version=1,
            reason="本人说明",
        ).id

    holder = open_page(DESK)
    browser_login(holder, "police_liu")
    holder.goto("/web/coordination")
    card = _card(holder, cs_id)
    card.wait_for()
    assert "南浦饭店" in (card.text_content() or "")
    card.locator("[data-testid=holder-reason]").fill("单位资料不符")
    card.locator("[data-testid=refuse]").click()
    holder.wait_for_selector(".flash")
    with world.session() as s:
        assert s.get(ChangeSet, cs_id).status == "disputed"  # type: ignore[union-attr]
        assert history.open_row(s, PERSON, pid).workplace != "南浦饭店"  # type: ignore[union-attr]

    station = open_page(DESK)
    browser_login(station, "station_admin_li")
    station.goto("/web/coordination")
    card = _card(station, cs_id)
    card.wait_for()
    assert "单位资料不符" in (card.text_content() or "")
    card.locator("[data-testid=ruling]").select_option("initiator")
    card.locator("[data-testid=ruling-reason]").fill("核实属实")
    card.locator("[data-testid=rule]").click()
    station.wait_for_selector(".flash")
    screenshot(station, "cross-unit-ruled")
    with world.session() as s:
        assert s.get(ChangeSet, cs_id).status == "approved"  # type: ignore[union-attr]
        assert history.open_row(s, PERSON, pid).workplace == "南浦饭店"  # type: ignore[union-attr]


__all__ = ["fake_linkage"]
