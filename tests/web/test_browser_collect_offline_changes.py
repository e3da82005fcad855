"""Issue 14 on a 375 px phone: a move and a document typed offline, kept over a reload, synced once online, each
stored once as a pending change set for the station's review."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from liangshi.campaign.models import SyncItem
from liangshi.registry.changesets import ChangeSet
from tests.conftest import World
from tests.web.conftest import MOBILE, Scene, screenshot
from tests.web.test_browser_collect_offline import _count, _more_rooms, _open_app, _outbox_states

ALL_SENT = (
    "() => [...document.querySelectorAll('[data-testid=outbox-item]')].every(e => e.dataset.state === 'sent')"
)


def test_an_offline_move_and_document_sync_once_as_pending_change_sets(
    open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    rooms = _more_rooms(world, scene)
    page = open_page(MOBILE)
    _open_app(page, scene)
    page.context.set_offline(True)
    page.wait_for_selector("[data-testid=net][data-online=false]")

    page.goto(f"/web/collect/app#/d/{rooms['501']}")
    page.wait_for_selector("#app-visit")
    page.click("[data-testid=app-move]")  # 张三 moves to 502
    page.wait_for_selector("#app-change[data-kind=move]")
    page.select_option("#app-change select[name=dwelling_id]", str(rooms["502"]))
    page.click("#app-change button[type=submit]")
    page.wait_for_selector("#app-visit")
    page.click("[data-testid=app-document]")  # and shows a passport
    page.wait_for_selector("#app-change[data-kind=document]")
    page.select_option("#app-change select[name=doc_type]", "passport")
    page.fill("#app-change input[name=number]", "E12345678")
    page.fill("#app-change input[name=country]", "CHN")
    screenshot(page, "collector-offline-document")
    page.click("#app-change button[type=submit]")
    page.wait_for_selector("#app-visit")

    page.reload()
    page.wait_for_selector("#view[data-ready=true]")
    assert _outbox_states(page) == ["waiting", "waiting"]
    assert _count(world, SyncItem) == 0 and _count(world, ChangeSet) == 0

    page.context.set_offline(False)
    page.wait_for_selector("[data-testid=net][data-online=true]")
    page.click("[data-testid=sync]")
    page.wait_for_function(ALL_SENT)
    # The phone lost the answers and sends both again: nothing is stored twice.
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
    page.wait_for_function(ALL_SENT)
    assert _count(world, SyncItem) == 2
    with world.session() as session:
        sets = session.execute(select(ChangeSet.action, ChangeSet.status).order_by(ChangeSet.id)).all()
        assert [tuple(s) for s in sets] == [("move", "pending_station"), ("document", "pending_station")]
