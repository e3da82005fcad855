"""Residence permits (居住证): six months plus a basis, a year's validity, yearly endorsement, lapse."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.errors import Conflict, Forbidden
from liangshi.permits import rules, service
from liangshi.permits.models import Permit
from liangshi.permits.schemas import PermitCancel, PermitEndorse, PermitIssue
from tests import factories
from tests.conftest import INSIDE, World


def _resident(world: World, arrived: dt.date, category: str = "floating") -> tuple[int, int]:
    with world.session() as s:
        ctx = world.ctx(s)
        place = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
        rid = factories.arrival(
            s, ctx, person_id=pid, dwelling_id=place.dwelling_id, arrived=arrived, category=category
        )
    return pid, rid


def _issue(world: World, rid: int, on: dt.date | None = None, who: str = "police_liu") -> Any:
    with world.session() as s:
        return service.issue_permit(
            s,
            world.ctx(s, who),
            PermitIssue(residence_id=rid, basis="job", basis_detail="劳动合同", issued_on=on),
        )


def _count(world: World) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(Permit)).scalar_one())


def test_six_months_of_residence_are_needed() -> None:
    assert rules.eligibility(
        arrival=dt.date(2026, 5, 28),
        category="floating",
        open_residence=True,
        basis="job",
        on=dt.date(2026, 11, 27),
    ) == ["stay_under_six_months"]
    assert (
        rules.eligibility(
            arrival=dt.date(2026, 5, 27),
            category="floating",
            open_residence=True,
            basis="job",
            on=dt.date(2026, 11, 27),
        )
        == []
    )
    assert rules.add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)


def test_a_local_resident_is_not_eligible_and_nothing_is_written(world: World) -> None:
    _, rid = _resident(world, dt.date(2020, 1, 1), category="resident")
    with pytest.raises(Conflict) as exc:
        _issue(world, rid)
    assert exc.value.code == "permit.not_eligible" and exc.value.data["reasons"] == ["category_not_eligible"]
    assert _count(world) == 0


def test_issue_gives_a_year_and_a_number_and_refuses_a_second_permit(world: World) -> None:
    pid, rid = _resident(world, dt.date(2026, 1, 10))
    snap = _issue(world, rid)
    assert snap.row.valid_until == dt.date(2027, 11, 27)
    assert snap.row.permit_number.startswith("4207042026") and len(snap.row.permit_number) == 18
    with pytest.raises(Conflict) as exc:
        _issue(world, rid)
    assert exc.value.code == "permit.already_held"
    with world.session() as s:
        held = service.permits_of(s, world.ctx(s, "collector_zhang"), pid)
    assert [p["status"] for p in held] == ["issued"]


def test_collectors_cannot_issue_permits(world: World) -> None:
    _, rid = _resident(world, dt.date(2025, 1, 1))
    with pytest.raises(Forbidden):
        _issue(world, rid, who="collector_zhang")


def test_endorsement_only_in_the_last_month_and_it_adds_a_year(world: World) -> None:
    _, rid = _resident(world, dt.date(2025, 1, 1))
    permit_id = _issue(world, rid, on=dt.date(2025, 12, 10)).entity.id
    with pytest.raises(Conflict) as exc, world.session() as s:
        service.endorse_permit(
            s,
            world.ctx(s, "police_liu"),
            permit_id,
            PermitEndorse(expected_version=1, endorsed_on=dt.date(2026, 10, 1)),
        )
    assert exc.value.code == "permit.endorsement_closed"
    with world.session() as s:
        snap = service.endorse_permit(
            s,
            world.ctx(s, "police_liu"),
            permit_id,
            PermitEndorse(expected_version=1, endorsed_on=dt.date(2026, 11, 27)),
        )
    assert snap.row.valid_until == dt.date(2027, 12, 10) and snap.row.last_endorsed_on == dt.date(
        2026, 11, 27
    )


def test_permits_not_endorsed_in_time_lapse(world: World) -> None:
    _, rid = _resident(world, dt.date(2024, 1, 1))
    permit_id = _issue(world, rid, on=dt.date(2025, 6, 1)).entity.id
    with world.session() as s:
        lapsed = service.lapse_permits(s, world.ctx(s, "station_admin_li"))
    assert lapsed == [permit_id]
    with pytest.raises(Conflict) as exc, world.session() as s:
        service.endorse_permit(s, world.ctx(s, "police_liu"), permit_id, PermitEndorse(expected_version=2))
    assert exc.value.code == "permit.action_not_allowed"


def test_cancel_and_stale_version(world: World) -> None:
    _, rid = _resident(world, dt.date(2025, 1, 1))
    permit_id = _issue(world, rid).entity.id
    with pytest.raises(Conflict) as exc, world.session() as s:
        service.cancel_permit(
            s, world.ctx(s, "police_liu"), permit_id, PermitCancel(expected_version=5, reason="x")
        )
    assert exc.value.code == "version.stale"
    with world.session() as s:
        snap = service.cancel_permit(
            s, world.ctx(s, "police_liu"), permit_id, PermitCancel(expected_version=1, reason="离开本市")
        )
    assert snap.row.status == "cancelled" and snap.retired


def test_permits_over_http(world: World, client: TestClient, login: Any) -> None:
    pid, rid = _resident(world, dt.date(2026, 1, 1))
    h = login("police_liu")
    check = client.get(
        "/permits/eligibility", params={"residence_id": rid, "basis": "school"}, headers=h
    ).json()
    assert check["eligible"] is True and check["eligible_from"] == "2026-07-01"
    r = client.post(
        "/permits", json={"residence_id": rid, "basis": "job", "basis_detail": "劳动合同"}, headers=h
    )
    assert r.status_code == 201, r.text
    permit_id = r.json()["id"]
    assert client.get(f"/permits/{permit_id}", headers=login("collector_zhang")).status_code == 200
    assert client.get(f"/permits/{permit_id}", headers=login("collector_zhou")).status_code == 404
    assert client.get(f"/persons/{pid}/permits", headers=h).json()[0]["permit_id"] == permit_id
    bad = client.post("/permits", json={"residence_id": rid, "basis": "luck", "basis_detail": "x"}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["data"]["field"] == "basis"
    log = client.get(f"/persons/{pid}/access-log", headers=login("auditor_sun")).json()
    assert any(e["action"] == "permit.create" for e in log["entries"])
