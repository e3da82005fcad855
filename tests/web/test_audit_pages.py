"""The auditor's pages: verifying the audit and exchange chains, and a person's access log, through the TestClient."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from liangshi.audit.models import AuditEntry
from liangshi.departments import service as departments
from liangshi.departments.models import ExchangeLogEntry
from tests import factories
from tests.conftest import OUTSIDE, World
from tests.web.conftest import Scene, csrf_of


def _exchange(world: World, n: int = 3) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "health_liaison_wang")
        for i in range(n):
            departments.log_exchange(
                s,
                ctx,
                direction="in",
                operation="batch",
                department="health",
                agreement_id=None,
                kinds=["person"],
                row_count=10 + i,
                sha256="a" * 64,
                detail={"note": i},
            )


def _verify(client: TestClient, chain: str) -> str:
    form = client.get("/web/audit")
    assert form.status_code == 200
    r = client.post(f"/web/audit/verify/{chain}", data={"csrf_token": csrf_of(form.text)})
    assert r.status_code == 200
    return r.text


def test_auditor_verifies_both_chains_and_each_verification_of_the_exchange_log_is_logged(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    _exchange(world)
    client = web_as("auditor_sun")
    home = client.get("/web/")
    assert 'href="/web/audit"' in home.text and 'href="/web/access-log"' in home.text
    page = client.get("/web/audit")
    assert "审计日志" in page.text and "数据交换日志" in page.text
    text = _verify(client, "audit")
    assert 'data-testid="result-audit" data-ok="true"' in text and "默克尔树与全部 1 个签名树头一致" in text
    text = _verify(client, "exchange")
    assert 'data-testid="result-exchange" data-ok="true"' in text and "已核验 3 条记录" in text
    with world.session() as s:
        runs = s.execute(
            select(AuditEntry.actor_name).where(AuditEntry.action == "exchange_log.verify")
        ).scalars()
        assert list(runs) == ["auditor_sun"]


def test_verification_shows_the_first_broken_entry(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    _exchange(world)
    with world.session() as s:
        victim = s.execute(
            select(AuditEntry.seq)
            .where(AuditEntry.action == "person.create")
            .order_by(AuditEntry.seq)
            .limit(1)
        ).scalar_one()
        s.execute(update(AuditEntry).where(AuditEntry.seq == victim).values(actor_name="forger"))
        s.execute(update(ExchangeLogEntry).where(ExchangeLogEntry.seq == 2).values(row_count=99))
    client = web_as("auditor_sun")
    text = _verify(client, "audit")
    assert 'data-ok="false"' in text
    assert f"第一条断开的记录：第 {victim} 条" in text and "被篡改" in text
    text = _verify(client, "exchange")
    assert 'data-ok="false"' in text and "第一条断开的记录：第 2 条" in text
    # htmx gets the result alone, to put under the button.
    form = client.get("/web/audit")
    fragment = client.post(
        "/web/audit/verify/audit", headers={"HX-Request": "true", "X-CSRF-Token": csrf_of(form.text)}
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text and 'data-ok="false"' in fragment.text


def test_verifying_needs_the_forms_csrf_token(web_as: Callable[[str], TestClient], scene: Scene) -> None:
    client = web_as("auditor_sun")
    assert client.post("/web/audit/verify/audit", data={}).status_code == 403
    assert client.post("/web/audit/verify/audit", data={"csrf_token": "forged"}).status_code == 403


def test_auditor_reads_a_persons_access_log_masked_and_without_the_person(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    police = web_as("police_liu")
    person_page = police.get(f"/web/persons/{scene.zhang}")
    unmask = police.post(
        f"/web/persons/{scene.zhang}/unmask",
        data={"csrf_token": csrf_of(person_page.text), "reason": f"核对{scene.zhang_id}是否本人"},
    )
    assert unmask.status_code == 200
    client = web_as("auditor_sun")
    r = client.get("/web/access-log", params={"person_id": str(scene.zhang)})
    assert r.status_code == 200
    assert 'data-testid="access-entries"' in r.text
    unmask_row = re.search(r'<tr data-action="person.unmask">(.*?)</tr>', r.text, re.S)
    assert unmask_row and "police_liu" in unmask_row.group(1) and "查看完整证件号码" in unmask_row.group(1)
    masked = scene.zhang_id[:6] + "********" + scene.zhang_id[-4:]
    assert f"核对{masked}是否本人" in unmask_row.group(1)
    assert scene.zhang_id not in r.text
    assert "张三" not in r.text  # who did what, not the person
    assert 'data-action="person.where_lives"' in r.text and 'data-action="person.create"' in r.text
    with world.session() as s:
        lookups = s.execute(
            select(AuditEntry.actor_name, AuditEntry.object_id).where(
                AuditEntry.action == "person.access_log"
            )
        ).all()
    assert ("auditor_sun", scene.zhang) in lookups


def test_access_log_lookup_is_scoped_and_checks_its_input(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    with world.session() as s:
        outside = factories.person(s, world.ctx(s), area_id=world.area(OUTSIDE), name="赵外")
    client = web_as("auditor_sun")
    r = client.get("/web/access-log", params={"person_id": str(outside)})
    assert r.status_code == 404 and "未找到" in r.text
    assert client.get("/web/access-log", params={"person_id": "999999999"}).status_code == 404
    bad = client.get("/web/access-log", params={"person_id": "12a"})
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text
    assert client.get("/web/access-log").status_code == 200
    with world.session() as s:
        assert not s.execute(select(AuditEntry).where(AuditEntry.action == "person.access_log")).first()


def test_the_access_log_page_shows_the_import_that_created_the_person(
    web_as: Callable[[str], TestClient], world: World, tmp_path: Path
) -> None:
    import csv
    import datetime as dt

    from liangshi.access.service import SYSTEM
    from liangshi.exchange import service as exchange
    from liangshi.persons.models import Person
    from tests.conftest import INSIDE

    path = tmp_path / "p.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id_number", "sex", "name", "community_code"])
        writer.writerow([factories.make_id("420704", dt.date(1980, 3, 4), 11), "男", "钱一", INSIDE])
    result = exchange.import_file(
        world.sessions, kind="persons", path=path, source=None, actor=SYSTEM, clock=world.clock
    )
    with world.session() as s:
        pid = s.execute(select(Person.id)).scalar_one()
    r = web_as("auditor_sun").get("/web/access-log", params={"person_id": str(pid)})
    assert r.status_code == 200
    assert r.text.count(f"导入批次 {result.batch_id}") == 2  # the person and their document
    assert 'data-action="person.create"' in r.text and 'data-action="document.create"' in r.text


def test_roles_without_the_permissions_are_refused(web_as: Callable[[str], TestClient], scene: Scene) -> None:
    collector = web_as("collector_zhang")
    home = collector.get("/web/")
    assert "/web/audit" not in home.text and "/web/access-log" not in home.text
    assert collector.get("/web/audit").status_code == 403
    assert collector.get("/web/access-log", params={"person_id": str(scene.zhang)}).status_code == 403
    token = csrf_of(home.text)
    assert collector.post("/web/audit/verify/audit", data={"csrf_token": token}).status_code == 403
    assert collector.post("/web/audit/verify/exchange", data={"csrf_token": token}).status_code == 403
    # A station administrator may read access logs (their own permission) but not verify the chains.
    admin = web_as("station_admin_li")
    assert admin.get("/web/audit").status_code == 403
    assert admin.get("/web/access-log", params={"person_id": str(scene.zhang)}).status_code == 200
    # The auditor still has no person page.
    assert web_as("auditor_sun").get(f"/web/persons/{scene.zhang}").status_code == 403


def test_auditor_pages_in_english(web_as: Callable[[str], TestClient], scene: Scene) -> None:
    client = web_as("auditor_sun")
    client.get("/web/lang", params={"lang": "en", "next": "/web/audit"})
    assert "Verify the chain" in client.get("/web/audit").text
    r = client.get("/web/access-log", params={"person_id": str(scene.zhang)})
    assert "Created the person · Person" in r.text and "新建" not in r.text
    assert ">person.create<" not in r.text  # the label, not the raw action


def test_the_access_log_page_proves_each_sequenced_entry_in_the_signed_tree(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    from liangshi.audit import service as audit
    from liangshi.config import Settings

    with world.session() as s:
        audit.sequence(s, audit.load_keys(Settings(), create=True), now=world.clock.now())
    client = web_as("auditor_sun")
    r = client.get("/web/access-log", params={"person_id": str(scene.zhang)})
    assert r.status_code == 200
    assert 'data-proven="true"' in r.text and "已入签名日志" in r.text
    assert 'data-testid="tree-head"' in r.text and "签名树头" in r.text
    with world.session() as s:
        s.execute(
            update(AuditEntry)
            .where(AuditEntry.subject_person_id == scene.zhang, AuditEntry.action == "person.create")
            .values(purpose="rewritten")
        )
    r = client.get("/web/access-log", params={"person_id": str(scene.zhang)})
    assert 'data-proven="false"' in r.text and "证明不成立" in r.text
