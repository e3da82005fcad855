"""The person page's community-correction section (社区矫正, issue 15): shown to the community police, the station
and the justice liaison, with the case's kind by its name; absent for every other role, the read audited."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from tests.conftest import World
from tests.departments.helpers import person
from tests.departments.test_feed_corrections import ALLOWED, HEADER, OFFICE, justice, row, submit


def test_the_section_is_shown_to_those_who_handle_corrections_and_hidden_from_the_others(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    justice(world)
    pid, number = person(world)
    quiet, _ = person(world, name="李娜", male=False)
    submit(world, [HEADER, row(number, kind="假释")])
    for user in ALLOWED:
        client = web_as(user)
        page = client.get(f"/web/persons/{pid}")
        assert page.status_code == 200, (user, page.text)
        assert 'data-testid="corrections"' in page.text, user
        assert (
            'data-testid="correction" data-kind="3"' in page.text
            and "假释" in page.text
            and OFFICE in page.text
        )
        empty = client.get(f"/web/persons/{quiet}")
        assert 'data-testid="corrections"' in empty.text and "没有社区矫正记录" in empty.text
    for user in ("collector_zhang", "housing_officer_he", "inspector_zhao", "district_admin_chen"):
        page = web_as(user).get(f"/web/persons/{pid}")
        assert page.status_code == 200, (user, page.text)
        assert 'data-testid="corrections"' not in page.text and OFFICE not in page.text, user
    with world.session() as s:
        reads = s.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "correction.read")
        ).scalar_one()
        assert reads == 2 * len(ALLOWED)


def test_the_section_speaks_english(world: World, web_as: Callable[[str], TestClient]) -> None:
    justice(world)
    pid, number = person(world)
    submit(world, [HEADER, row(number, kind="暂予监外执行")])
    client = web_as("police_liu")
    client.get("/web/lang", params={"lang": "en", "next": "/web/"})
    text = client.get(f"/web/persons/{pid}").text
    assert "Community correction" in text and "Temporary service of sentence outside prison" in text
