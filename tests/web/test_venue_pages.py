"""Venues in the web: the venues list in the menu, a venue's guest register masked and audited, and the foreign
guests reported late; roles without venue rights are refused, another community's venue does not exist."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.audit.models import AuditEntry
from tests import factories
from tests.conftest import NOW, World
from tests.venues.helpers import H, check_in, person, plate, post, venue
from tests.web.conftest import Scene, csrf_of


def test_a_venue_lists_its_guests_masked_and_the_late_foreign_reports(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    vid = venue(world, name="滨湖宾馆")
    pid, number = person(world, name="张伟", id_number=factories.make_id(seq=321))
    post(
        world,
        vid,
        [
            check_in("LOCAL", number, at=NOW - 3 * H, name="张伟"),
            check_in(
                "LATE", "X1234567", at=NOW - 30 * H, name="John Smith", doc_type="passport", country="USA"
            ),
        ],
    )
    client = web_as("police_liu")
    listed = client.get("/web/venues")
    assert (
        listed.status_code == 200 and f'href="/web/venues/{vid}"' in listed.text and "滨湖宾馆" in listed.text
    )
    page = client.get(f"/web/venues/{vid}")
    table = page.text.split('data-testid="stays"')[1]
    assert f'href="/web/persons/{pid}"' in table and "John Smith" in table
    assert number not in page.text and number[:6] + "********" in page.text
    late = client.get(f"/web/venues/{vid}", params={"late": "1"}).text.split('data-testid="stays"')[1]
    assert "John Smith" in late and "张伟" not in late and "美国" in late
    with world.session() as s:
        read = s.execute(
            select(AuditEntry.subject_person_id).where(AuditEntry.action == "venue.stays_read")
        ).scalars()
        assert pid in set(read)


def test_venues_are_refused_to_roles_without_them_and_hidden_outside(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    vid = venue(world, address_id=plate(world, "420704001002"), name="南浦宾馆")
    assert web_as("collector_zhang").get(f"/web/venues/{vid}").status_code == 404
    for persona in ("housing_officer_he", "auditor_sun"):
        client = web_as(persona)
        assert client.get("/web/venues").status_code == 403
        assert 'href="/web/venues"' not in client.get("/web/").text


def test_a_station_admin_registers_a_venue_from_the_street_page(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("station_admin_li")
    street = client.get(f"/web/streets/{scene.place.street_id}")
    assert f'href="/web/addresses/{scene.place.address_id}/venues/new"' in street.text
    form = client.get(f"/web/addresses/{scene.place.address_id}/venues/new")
    done = client.post(
        f"/web/addresses/{scene.place.address_id}/venues",
        data={
            "csrf_token": csrf_of(form.text),
            "venue_kind": "cafe",
            "name": "星空网咖",
            "licence_number": "WB-1",
        },
    )
    assert done.status_code == 303, done.text[-800:]
    assert "场所已登记" in client.get(done.headers["location"]).text
    police = web_as("police_liu")
    assert police.get(f"/web/addresses/{scene.place.address_id}/venues/new").status_code == 403
    assert "venues/new" not in police.get(f"/web/streets/{scene.place.street_id}").text
