"""The collector's person form takes the reason for stay (暂住事由) by its name; approved, it is on the residence,
and the change set desk shows it by name, not by code; a code outside the table is refused on the form."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.persons.models import PersonVersion
from liangshi.registry.changesets import ChangeSet
from liangshi.residence.models import Residence, ResidenceVersion
from tests.conftest import World
from tests.factories import make_id
from tests.web.conftest import Scene, csrf_of


def _submit(client: TestClient, scene: Scene, reason: str, name: str) -> Any:
    form = client.get(f"/web/collect/dwellings/{scene.place.dwelling_id}/persons/new").text
    assert 'name="stay_reason"' in form and ">务工<" in form and ">投亲靠友<" in form
    return client.post(
        f"/web/collect/dwellings/{scene.place.dwelling_id}/persons",
        data={
            "csrf_token": csrf_of(form),
            "doc_type": "resident_id",
            "id_number": make_id("510104", dt.date(1996, 4, 2), 31),
            "name": name,
            "category": "floating",
            "arrival_date": "2026-11-01",
            "stay_reason": reason,
        },
    )


def test_the_person_form_takes_the_reason_for_stay(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("collector_zhang")
    bad = _submit(client, scene, "77", "赵暂住")
    assert bad.status_code == 422 and "暂住事由" in bad.text
    with world.session() as session:
        assert session.execute(select(ChangeSet).where(ChangeSet.summary == "赵暂住")).first() is None
    ok = _submit(client, scene, "03", "赵暂住")
    assert ok.status_code == 303, ok.text
    with world.session() as session:
        cs_id = session.execute(select(ChangeSet.id).where(ChangeSet.summary == "赵暂住")).scalar_one()
    station = web_as("station_admin_li")
    desk = station.get(f"/web/changesets/{cs_id}")
    assert desk.status_code == 200 and "经商" in desk.text
    approved = station.post(f"/web/changesets/{cs_id}/approve", data={"csrf_token": csrf_of(desk.text)})
    assert approved.status_code == 303, approved.text
    with world.session() as session:
        person = session.execute(
            select(PersonVersion.entity_id).where(PersonVersion.name == "赵暂住")
        ).scalar_one()
        reasons = session.execute(
            select(ResidenceVersion.stay_reason)
            .join(Residence, Residence.id == ResidenceVersion.entity_id)
            .where(Residence.person_id == person)
        ).scalars()
        assert list(reasons) == ["03"]
    shown = station.get(f"/web/persons/{person}")
    assert shown.status_code == 200 and 'data-testid="stay-reason">经商<' in shown.text
