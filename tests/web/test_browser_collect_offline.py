"""Offline collection on a 375 px phone in Debian's Chromium: download, go offline, record, reload, sync once."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from liangshi.buildings import service as buildings
from liangshi.buildings.schemas import DwellingCreate
from liangshi.campaign import service as campaign
from liangshi.campaign.models import SyncItem, Visit
from liangshi.campaign.schemas import VisitCreate
from liangshi.persons.models import PersonVersion
from liangshi.registry.changesets import ChangeSet
from liangshi.rentals.models import RentalTenant
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.review import service as review
from tests.conftest import World
from tests.factories import make_id
from tests.web.conftest import MOBILE, Scene, browser_login, screenshot


def _more_rooms(world: World, scene: Scene) -> dict[str, int]:
    with world.session() as session:
        ctx = world.ctx(session)
        rooms = {"501": scene.place.dwelling_id}
        for floor, room in ((5, "502"), (6, "601")):
            snap = buildings.create_dwelling(
                session,
                ctx,
                DwellingCreate(
                    building_id=scene.place.building_id, unit=1, floor=floor, room=room, status="unknown"
                ),
            )
            rooms[room] = int(snap.entity.id)
    return rooms


def _count(world: World, model: Any) -> int:
    with world.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def _open_app(page: Any, scene: Scene) -> None:
    browser_login(page, "collector_zhang")
    page.goto("/web/collect/app")
    page.wait_for_selector("#view[data-ready=true]")
    # The service worker keeps the shell before the phone goes offline.
    assert page.evaluate("navigator.serviceWorker.ready.then(r => Boolean(r.active))")
    page.click("[data-testid=download]")
    page.wait_for_selector(f"[data-testid=app-building-{scene.place.building_id}]")


def _visit(page: Any, scene: Scene, room: str, outcome: str) -> None:
    page.click(f"[data-testid=app-building-{scene.place.building_id}]")
    page.click(f"[data-testid=app-dwelling-{room}]")
    page.wait_for_selector("#app-visit")
    page.check(f"#app-visit input[name=outcome][value={outcome}]")
    page.click("#app-visit button[type=submit]")
    page.wait_for_selector(f"[data-testid=app-dwelling-{room}]")
    page.click("text=← ")


def _others_visit(world: World, scene: Scene, key: str) -> None:
    """The community officer finds 501 vacant and the station approves the status it proposes: the dwelling's
    version moves on the server."""
    with world.session() as session:
        visit = campaign.record_visit(
            session,
            world.ctx(session, "police_liu"),
            scene.place.dwelling_id,
            VisitCreate(outcome="vacant", idempotency_key=key),
        )
        assert visit.change_set_id is not None
        approved = review.approve(session, world.ctx(session, "station_admin_li"), visit.change_set_id)
        assert approved.status == "approved"


def _outbox_states(page: Any) -> list[str]:
    page.goto("/web/collect/app#/outbox")
    page.wait_for_selector("[data-testid=outbox]")
    return [
        str(s)
        for s in page.eval_on_selector_all(
            "[data-testid=outbox-item]", "els => els.map(e => e.dataset.state)"
        )
    ]


def test_offline_visits_and_a_new_tenant_survive_a_reload_and_sync_once(
    open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    rooms = _more_rooms(world, scene)
    page = open_page(MOBILE)
    _open_app(page, scene)
    context = page.context
    context.set_offline(True)
    page.wait_for_selector("[data-testid=net][data-online=false]")

    _visit(page, scene, "501", "occupied")
    _visit(page, scene, "502", "vacant")
    _visit(page, scene, "601", "nobody_home")
    # A new tenant at 501 (the rented dwelling): the ID number fills in birth date and sex offline.
    page.goto(f"/web/collect/app#/p/{rooms['501']}")
    page.wait_for_selector("#app-person")
    number = make_id("420102", dt.date(1996, 9, 14), 27)
    page.fill("#app-id", number)
    page.wait_for_selector("#app-id-hint[data-valid=true]")
    assert page.input_value("#app-person input[name=birth_date]") == "1996-09-14"
    assert page.input_value("#app-person input[name=hukou_region]") == "420102"
    page.fill("#app-person input[name=name]", "孙丽")
    page.select_option("#app-person select[name=category]", "floating")
    page.select_option("#app-person select[name=ethnicity]", "01")
    page.select_option("#app-person select[name=stay_reason]", "01")  # 务工
    page.check("#app-person input[name=tenant]")
    screenshot(page, "collector-offline-person")
    page.click("#app-person button[type=submit]")
    page.wait_for_selector("#app-visit")

    # Reload without a connection: the shell comes from the service worker, the outbox from IndexedDB.
    page.reload()
    page.wait_for_selector("#view[data-ready=true]")
    assert _outbox_states(page) == ["waiting"] * 4
    screenshot(page, "collector-offline-outbox")
    assert _count(world, Visit) == 0 and _count(world, SyncItem) == 0
    # Exported for `liangshi collect sync` (days without a network): the four items in the sync format.
    with page.expect_download() as download:
        page.click("[data-testid=export]")
    exported = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))["items"]
    assert sorted(i["kind"] for i in exported) == ["person", "visit", "visit", "visit"]
    assert len({i["uuid"] for i in exported}) == 4

    context.set_offline(False)
    page.wait_for_selector("[data-testid=net][data-online=true]")
    page.click("[data-testid=sync]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=outbox-item]')].every(e => e.dataset.state === 'sent')"
    )
    # The phone lost the answers (all items back to waiting) and sends them again: nothing is stored twice.
    page.evaluate(
        """() => new Promise((resolve) => {
            const open = indexedDB.open('liangshi-collect-collector_zhang');
            open.onsuccess = () => {
                const t = open.result.transaction('outbox', 'readwrite');
                const store = t.objectStore('outbox');
                store.getAll().onsuccess = (e) => e.target.result.forEach((i) => store.put({...i, state: 'waiting'}));
                t.oncomplete = () => resolve(true);
            };
        })"""
    )
    page.reload()
    page.wait_for_selector("[data-testid=outbox-item][data-state=waiting]")
    page.click("[data-testid=sync]")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=outbox-item]')].every(e => e.dataset.state === 'sent')"
    )
    assert _count(world, Visit) == 3 and _count(world, SyncItem) == 4
    with world.session() as session:
        # The tenant's form awaits the station's review (one change set, however often it was sent).
        sets = session.execute(select(ChangeSet).where(ChangeSet.summary == "孙丽")).scalars().all()
        assert [cs.status for cs in sets] == ["pending_station"]
        assert (
            session.execute(select(PersonVersion.entity_id).where(PersonVersion.name == "孙丽")).first()
            is None
        )
        cs_id = sets[0].id
        approved = review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
        assert approved.status == "approved"
    with world.session() as session:
        people = session.execute(select(PersonVersion.entity_id).where(PersonVersion.name == "孙丽")).all()
        assert len(people) == 1
        person_id = people[0][0]
        assert session.execute(select(func.count()).where(Residence.person_id == person_id)).scalar_one() == 1
        reasons = session.execute(
            select(ResidenceVersion.stay_reason)
            .join(Residence, Residence.id == ResidenceVersion.entity_id)
            .where(Residence.person_id == person_id)
        ).scalars()
        assert list(reasons) == ["01"]
        assert person_id in session.execute(select(RentalTenant.person_id)).scalars().all()
        devices = session.execute(select(Visit.device)).scalars().all()
        assert all(d and "Mozilla" in d for d in devices)


def test_a_conflict_is_shown_and_sent_as_is(
    open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    page = open_page(MOBILE)
    _open_app(page, scene)
    page.context.set_offline(True)
    page.wait_for_selector("[data-testid=net][data-online=false]")
    _visit(page, scene, "501", "refused")
    # Meanwhile the community officer records the dwelling as vacant, approved: its version moves on the server.
    _others_visit(world, scene, "police-liu-0001")
    page.context.set_offline(False)
    page.wait_for_selector("[data-testid=net][data-online=true]")
    page.click("[data-testid=sync]")
    page.goto("/web/collect/app#/outbox")
    page.wait_for_selector("[data-testid=outbox-item][data-state=conflict]")
    item = page.locator("[data-testid=outbox-item]").first
    assert "已被他人修改" in (item.locator("[data-testid=reason]").text_content() or "")
    assert "空置" in (item.text_content() or "")  # what the server has now
    screenshot(page, "collector-offline-conflict")
    assert _count(world, SyncItem) == 0
    page.click("text=按原样提交审核")
    page.wait_for_selector("[data-testid=outbox-item][data-state=sent]")
    with world.session() as session:
        row = session.execute(select(SyncItem)).scalar_one()
        assert row.forced
    assert _count(world, Visit) == 2


def test_a_conflict_resolved_by_editing_is_stored_on_the_servers_version(
    open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    page = open_page(MOBILE)
    _open_app(page, scene)
    page.context.set_offline(True)
    page.wait_for_selector("[data-testid=net][data-online=false]")
    _visit(page, scene, "501", "nobody_home")
    _others_visit(world, scene, "police-liu-0002")
    page.context.set_offline(False)
    page.wait_for_selector("[data-testid=net][data-online=true]")
    page.click("[data-testid=sync]")
    page.goto("/web/collect/app#/outbox")
    page.wait_for_selector("[data-testid=outbox-item][data-state=conflict]")
    # The collector reads what the server has, corrects their visit and sends it again (same UUID, new base).
    page.click("text=修改后重新发送")
    page.wait_for_selector("#app-visit")
    assert page.is_checked("#app-visit input[name=outcome][value=nobody_home]")
    page.check("#app-visit input[name=outcome][value=vacant]")
    page.click("#app-visit button[type=submit]")
    page.wait_for_selector("[data-testid=app-dwelling-501]")  # saved: back at the building
    page.click("[data-testid=outbox-link]")
    page.wait_for_selector("[data-testid=outbox-item][data-state=sent]")
    with world.session() as session:
        row = session.execute(select(SyncItem)).scalar_one()
        assert not row.forced
        outcome = session.get(Visit, row.visit_id)
        assert outcome is not None and outcome.outcome == "vacant"
