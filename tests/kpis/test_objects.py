"""The objects behind every KPI: as many as the number they open, on the hand-built registry (issue 15)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from liangshi.audit.models import AuditEntry
from liangshi.cli.main import app as cli
from liangshi.errors import NotFound, ValidationFailed
from liangshi.kpis import objects, rules, service
from tests.conftest import World
from tests.kpis.helpers import EXPECTED, FROM, TO, A, B, build

ADMIN = "district_admin_chen"


def _all(world: World, key: str, area: str, part: str) -> list[dict[str, Any]]:
    with world.session() as s:
        first = objects.objects(
            s, world.ctx(s, ADMIN), key, area_code=area, date_from=FROM, date_to=TO, part=part, page_size=2
        )
        items = list(first["items"])
        for page in range(2, first["pages"] + 1):
            items += objects.objects(
                s,
                world.ctx(s, ADMIN),
                key,
                area_code=area,
                date_from=FROM,
                date_to=TO,
                part=part,
                page=page,
                page_size=2,
            )["items"]
    assert len(items) == first["total"]
    return items


def test_every_kpi_lists_as_many_objects_as_its_numerator_and_denominator(world: World) -> None:
    build(world)
    with world.session() as s:
        report = service.compute(s, world.ctx(s, ADMIN), area_code="420704", date_from=FROM, date_to=TO)
    codes = {n.code: n.id for n in report.nodes.values()}
    for code in [*EXPECTED, "420704001", "420704"]:
        counted = {k["key"]: (k["numerator"], k["denominator"]) for k in report.kpis(codes[code])}
        for key in rules.BY_KEY:
            num, den = counted[key]
            numerator = _all(world, key, code, "numerator")
            denominator = _all(world, key, code, "denominator")
            missing = _all(world, key, code, "missing")
            assert (len(numerator), len(denominator)) == (num, den), (code, key)
            assert len(missing) == den - num, (code, key)
            assert all(i["counted"] for i in numerator) and not any(i["counted"] for i in missing)
            pairs = lambda items: sorted((i["kind"], i["id"]) for i in items)  # noqa: E731
            assert pairs(denominator) == sorted(pairs(numerator) + pairs(missing)), (code, key)
    # and the hand count: A's timeliness misses f3 (4 working days) and f4 (not registered yet)
    assert EXPECTED[A]["floating_timeliness"] == (3, 5)


def test_missing_arrivals_name_the_person_masked_and_the_listing_is_audited(world: World) -> None:
    build(world)
    items = _all(world, "floating_timeliness", A, "missing")
    assert len(items) == 2
    assert {i["kind"] for i in items} == {"residence"}
    for item in items:
        assert item["document"]["masked"] is True and "*" in item["document"]["number"]
        assert item["address"] and item["person_id"]
    with world.session() as s:
        logged = s.query(AuditEntry).filter(AuditEntry.action == "kpi.objects").all()
        assert {e.subject_person_id for e in logged} >= {i["person_id"] for i in items}
    stays = _all(world, "venue_realtime", A, "missing")
    assert len(stays) == 1 and stays[0]["kind"] == "stay" and "*" in stays[0]["document"]["number"]
    rented = _all(world, "rental_registration", A, "missing")
    assert [i["kind"] for i in rented] == ["dwelling"]


def test_bad_key_part_page_and_foreign_area_are_refused(world: World) -> None:
    build(world)
    with world.session() as s:
        ctx = world.ctx(s, ADMIN)
        kw: dict[str, Any] = {"area_code": A, "date_from": FROM, "date_to": TO}
        with pytest.raises(ValidationFailed) as e:
            objects.objects(s, ctx, "no_such", **kw)
        assert e.value.code == "kpi.unknown"
        with pytest.raises(ValidationFailed) as e:
            objects.objects(s, ctx, "plate_installation", part="all", **kw)
        assert e.value.code == "kpi.part_invalid"
        with pytest.raises(ValidationFailed) as e:
            objects.objects(s, ctx, "plate_installation", page=0, **kw)
        assert e.value.code == "kpi.page_invalid"
        officer = world.ctx(s, "station_admin_li")
        with pytest.raises(NotFound):
            objects.objects(
                s, officer, "plate_installation", area_code="420704002001", date_from=FROM, date_to=TO
            )


def test_the_api_and_the_cli_list_the_objects_behind_a_kpi(
    world: World, client: TestClient, login: Any, db_url: str
) -> None:
    build(world)
    period = {"from": FROM.isoformat(), "to": TO.isoformat()}
    headers = login("station_admin_li")
    r = client.get(
        "/kpis/floating_deregistration/objects",
        params={"area": A, "part": "missing", **period},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and body["items"][0]["kind"] == "residence"  # f2: departed, not deregistered
    assert body["items"][0]["departure_date"] == "2026-11-12"
    assert body["items"][0]["document"]["masked"] is True
    r = client.get(
        "/kpis/plate_installation/objects",
        params={"area": "420704001", "part": "denominator", **period},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["total"] == 5
    r = client.get("/kpis/nope/objects", params={"area": A, **period}, headers=headers)
    assert r.status_code == 422 and r.json()["error"]["code"] == "kpi.unknown"
    r = client.get("/kpis/plate_installation/objects", params={"area": B}, headers=login("collector_zhang"))
    assert r.status_code == 404 and r.json()["error"]["code"] == "area.not_found"
    assert client.get("/kpis/plate_installation/objects").status_code == 401
    env = {"LIANGSHI_DATABASE_URL": db_url}
    args = [
        "kpis",
        "objects",
        "floating_timeliness",
        "--area",
        A,
        "--from",
        period["from"],
        "--to",
        period["to"],
    ]
    result = CliRunner().invoke(cli, [*args, "--json"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 2 and all("*" in i["document"]["number"] for i in data["items"])
    table = CliRunner().invoke(cli, [*args, "--part", "numerator"], env=env)
    assert table.exit_code == 0 and "3;" in table.output, table.output
    bad = CliRunner().invoke(cli, [*args, "--part", "all"], env=env)
    assert bad.exit_code == 2 and "kpi.part_invalid" in bad.output
    # the report itself still works as a plain `liangshi kpis --area …`
    report = CliRunner().invoke(
        cli, ["kpis", "--area", A, "--from", period["from"], "--to", period["to"], "--json"], env=env
    )
    assert report.exit_code == 0 and json.loads(report.output)["area"]["code"] == A


def test_a_page_past_the_end_and_an_empty_part_keep_the_count_the_dashboard_shows(world: World) -> None:
    """An empty page is counted without a second scan only when nothing matched at all: a page past the end still
    tells the whole total, and an empty part tells 0 (every KPI, both ways, against the dashboard's numbers)."""
    build(world)
    with world.session() as s:
        report = service.compute(s, world.ctx(s, ADMIN), area_code="420704", date_from=FROM, date_to=TO)
        counted = {k["key"]: (k["numerator"], k["denominator"]) for k in report.kpis(report.root.id)}
        for key in rules.BY_KEY:
            num, den = counted[key]
            for part, want in (("numerator", num), ("denominator", den), ("missing", den - num)):
                kw: dict[str, Any] = {"area_code": "420704", "date_from": FROM, "date_to": TO, "part": part}
                past = objects.objects(s, world.ctx(s, ADMIN), key, page=50, page_size=2, **kw)
                assert (past["total"], past["items"]) == (want, []), (key, part)
                first = objects.objects(s, world.ctx(s, ADMIN), key, page=1, page_size=2, **kw)
                assert first["total"] == want and len(first["items"]) == min(2, want), (key, part)
    assert any(den - num == 0 for num, den in counted.values())  # an empty part is among them
    assert any(den - num > 2 for num, den in counted.values())  # and a part longer than a page
