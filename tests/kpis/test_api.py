"""KPIs over HTTP and the command line: JSON with drill-down, the xlsx workbook, errors, scope."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from liangshi.cli.main import app as cli
from tests.conftest import World
from tests.kpis.helpers import EXPECTED, FROM, TO, A, B, build

PERIOD = {"from": FROM.isoformat(), "to": TO.isoformat()}


def test_get_kpis_returns_every_kpi_with_counts_target_and_the_children(
    world: World, client: TestClient, login: Any
) -> None:
    build(world)
    r = client.get("/kpis", params={"area": "420704001", **PERIOD}, headers=login("station_admin_li"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["area"]["code"] == "420704001" and (body["from"], body["to"]) == (
        PERIOD["from"],
        PERIOD["to"],
    )
    children = {c["area"]["code"]: {k["key"]: k for k in c["kpis"]} for c in body["children"]}
    for code in (A, B):
        for key, (num, den) in EXPECTED[code].items():
            k = children[code][key]
            assert (k["numerator"], k["denominator"]) == (num, den), (code, key)
            assert k["area_code"] == code and k["from"] == PERIOD["from"]
    assert children[B]["venue_realtime"]["rate"] is None
    assert children[A]["plate_installation"]["target"] == 1.0


def test_kpis_xlsx_has_chinese_headers_by_default_and_english_on_request(
    world: World, client: TestClient, login: Any
) -> None:
    build(world)
    headers = login("station_admin_li")
    zh = client.get("/kpis.xlsx", params={"area": "420704001", **PERIOD}, headers=headers)
    assert zh.status_code == 200
    assert "attachment" in zh.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(zh.content))
    assert [c.value for c in wb[wb.sheetnames[0]][1]][:4] == ["区划代码", "区划名称", "层级", "指标"]
    en = client.get("/kpis.xlsx", params={"area": A, **PERIOD}, headers={**headers, "Accept-Language": "en"})
    wb = load_workbook(io.BytesIO(en.content))
    assert len(wb.sheetnames) == 1
    rows = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
    assert rows[0][:4] == ("Area code", "Area", "Level", "KPI")
    plate = next(r for r in rows if r[3] == "Door-plate installation rate")
    assert (plate[4], plate[5]) == EXPECTED[A]["plate_installation"]


def test_kpis_errors_are_clear_and_scoped(world: World, client: TestClient, login: Any) -> None:
    collector = login("collector_zhang")
    r = client.get("/kpis", params={"area": B}, headers=collector)
    assert r.status_code == 404 and r.json()["error"]["code"] == "area.not_found"
    r = client.get("/kpis", params={"from": "2026-11-02", "to": "2026-11-01"}, headers=collector)
    assert r.status_code == 422 and r.json()["error"]["code"] == "kpi.period_reversed"
    r = client.get("/kpis", headers={**login("auditor_sun"), "Accept-Language": "en"})
    assert r.status_code == 403 and r.json()["error"]["message"] == "Your role may not do this"
    assert client.get("/kpis").status_code == 401


def test_the_kpis_command_prints_the_table_and_writes_the_workbook(
    world: World, db_url: str, tmp_path: Path
) -> None:
    build(world)
    out = tmp_path / "kpis.xlsx"
    env = {"LIANGSHI_DATABASE_URL": db_url}
    args = ["kpis", "--area", "420704001", "--from", PERIOD["from"], "--to", PERIOD["to"]]
    result = CliRunner().invoke(cli, [*args, "--xlsx", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "出租房屋登记率" in result.output and "66.67%" in result.output
    assert load_workbook(out).sheetnames[1].endswith("社区")
    bad = CliRunner().invoke(
        cli, ["kpis", "--area", "999999", "--from", "2026-01-01", "--to", "2026-02-01"], env=env
    )
    assert bad.exit_code == 2 and "area.not_found" in bad.output


def test_the_kpis_command_counts_live_on_request_and_the_db_command_folds_or_rebuilds(
    world: World, db_url: str
) -> None:
    build(world)
    env = {"LIANGSHI_DATABASE_URL": db_url}
    args = ["kpis", "--area", A, "--from", PERIOD["from"], "--to", PERIOD["to"], "--json"]
    folded = CliRunner().invoke(cli, ["db", "kpi-daily"], env=env)
    assert folded.exit_code == 0, folded.output
    assert "folded" in folded.output
    from_aggregate = CliRunner().invoke(cli, args, env=env)
    live = CliRunner().invoke(cli, [*args, "--live"], env=env)
    assert from_aggregate.exit_code == live.exit_code == 0, live.output
    for output in (from_aggregate.output, live.output):
        kpis = {k["key"]: (k["numerator"], k["denominator"]) for k in json.loads(output)["kpis"]}
        assert kpis["floating_timeliness"] == EXPECTED[A]["floating_timeliness"]
        assert kpis["venue_realtime"] == EXPECTED[A]["venue_realtime"]
    rebuilt = CliRunner().invoke(cli, ["db", "kpi-daily", "--rebuild"], env=env)
    assert rebuilt.exit_code == 0 and "rebuilt" in rebuilt.output
    again = json.loads(CliRunner().invoke(cli, args, env=env).output)
    assert again["kpis"] == json.loads(from_aggregate.output)["kpis"]
