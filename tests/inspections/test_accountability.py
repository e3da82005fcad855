"""Accountability (谁采集、谁录入、谁负责): defects found by inspection, at review and by the checks traced through
provenance to the collector who entered the value; rates with Wilson intervals; a scoring sheet; the 奖惩 lists."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from liangshi.campaign import service as campaign
from liangshi.campaign.schemas import PersonAtDwelling
from liangshi.checks import service as checks
from liangshi.cli.main import app
from liangshi.common.types import validation_context
from liangshi.errors import NotFound, ValidationFailed
from liangshi.inspections import rules, service
from liangshi.review import service as review
from tests import factories
from tests.conftest import INSIDE, World
from tests.inspections.test_service import TOWNSHIP, _all_right, _households, _plan, _wrong

FROM, TO = dt.date(2026, 11, 1), dt.date(2026, 11, 30)


def _inspected(world: World) -> None:
    """collector_zhang entered three households, police_liu two; the inspection finds two of zhang's wrong."""
    zhang = _households(world, INSIDE, 3, "collector_zhang")
    liu = _households(world, INSIDE, 2, "police_liu")
    with world.session() as session:
        plan = service.create_plan(session, world.ctx(session, "inspector_zhao"), _plan(world, margin=0.01))
    for household_id, result in [(zhang[0], _wrong()), (zhang[1], _wrong()), (zhang[2], _all_right())] + [
        (h, _all_right()) for h in liu
    ]:
        with world.session() as session:
            service.record_result(
                session, world.ctx(session, "inspector_zhao"), plan.id, household_id, result
            )


def _returned_and_found(world: World) -> None:
    """A person collector_zhang proposes is returned at review; the checks find the dwelling recorded occupied
    with nobody living there (entered by district_admin_chen)."""
    with world.session() as session:
        home = factories.place(
            session,
            world.ctx(session, "district_admin_chen"),
            area_id=world.area(INSIDE),
            district_id=world.area("420704"),
        )
    with world.session() as session:
        found = PersonAtDwelling.model_validate(
            {
                "name": "王小雨",
                "id_number": factories.make_id("420704", dt.date(1991, 5, 6), seq=12),
                "arrival_date": "2026-11-01",
            },
            context=validation_context(dt.date(2026, 11, 27)),
        )
        cs_id = campaign.add_person_at_dwelling(
            session, world.ctx(session, "collector_zhang"), home.dwelling_id, found
        ).id
    with world.session() as session:
        review.return_(session, world.ctx(session, "station_admin_li"), cs_id, "姓名写错了")
    with world.session() as session:
        checks.run_checks(
            session,
            world.ctx(session, "station_admin_li"),
            area_code=INSIDE,
            codes=["dwelling.vacant_recorded_occupied"],
        )


def _report(world: World, sheet: rules.ScoringSheet | None = None) -> dict[str, dict[str, object]]:
    with world.session() as session:
        report = service.collector_report(
            session,
            world.ctx(session, "inspector_zhao"),
            area_code=TOWNSHIP,
            date_from=FROM,
            date_to=TO,
            sheet=sheet,
        )
    return {r["collector"]: r for r in report["collectors"]} | {"_": report}


def test_every_defect_is_traced_to_the_collector_who_entered_the_value(world: World) -> None:
    _inspected(world)
    _returned_and_found(world)
    rows = _report(world)
    zhang, liu, chen = rows["collector_zhang"], rows["police_liu"], rows["district_admin_chen"]
    assert zhang["counts"]["record"] == 9  # six persons and three households
    assert liu["counts"]["record"] == 6
    inspection = zhang["inspection"]
    expected = rules.wilson(2, 3)
    assert (inspection["x"], inspection["n"]) == (2, 3)
    assert inspection["low"] == pytest.approx(expected.low) and inspection["high"] == pytest.approx(
        expected.high
    )
    assert (liu["inspection"]["x"], liu["inspection"]["n"]) == (0, 2)
    assert (zhang["counts"]["change_set"], zhang["counts"]["reviewed"], zhang["counts"]["review_return"]) == (
        1,
        1,
        1,
    )
    assert zhang["review"]["rate"] == 1.0
    assert chen["counts"]["finding"] == 1  # the dwelling's value is the district administrator's
    assert "finding" not in zhang["counts"]


def test_the_lists_read_the_rates_statistically(world: World) -> None:
    _inspected(world)
    report = _report(world)["_"]
    # zhang's defect rate is above the tolerated 2 % even at its lower bound: penalised.
    assert report["penalties"] == ["collector_zhang"]
    assert report["rewards"] == []  # liu scores 6 < 50
    lenient = rules.scoring_sheet({"reward": {"min_score": 5}})
    rows = _report(world, lenient)
    # 0 of 2 inspected: the upper bound (≈ 66 %) is far above 5 %, so two lucky households earn no reward.
    assert rows["police_liu"]["verdict"] is None
    generous = rules.scoring_sheet(
        {"reward": {"min_score": 5, "max_defect_rate": 1.0}, "volume": {"record": 2}}
    )
    rows = _report(world, generous)
    assert rows["police_liu"]["verdict"] == "reward" and rows["police_liu"]["score"]["volume"] == 12.0
    zhang = rows["collector_zhang"]
    assert zhang["score"]["quality"] == -10.0 and zhang["score"]["total"] == 18.0 - 10.0
    assert zhang["verdict"] == "penalty" and zhang["reasons"] == ["defect_rate"]


def test_a_scoring_sheet_is_validated() -> None:
    sheet = rules.scoring_sheet({"name": "鄂州市评分表", "quality": {"duplicate": -8}})
    assert sheet.name == "鄂州市评分表" and sheet.weights["quality"]["duplicate"] == -8.0
    assert sheet.weights["volume"]["record"] == 1.0  # the default where the sheet is silent
    for bad in (
        {"quality": {"typo": 1}},
        {"bonus": {"x": 1}},
        {"volume": {"record": "many"}},
        {"penalty": {"defect_rate": 1.5}},
        {"volume": 3},
    ):
        with pytest.raises(ValidationFailed) as exc:
            rules.scoring_sheet(bad)  # type: ignore[arg-type]
        assert exc.value.code == "scoring.invalid"


def test_a_reversed_period_or_an_area_outside_is_refused(world: World) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "inspector_zhao")
        with pytest.raises(ValidationFailed):
            service.collector_report(session, ctx, area_code=TOWNSHIP, date_from=TO, date_to=FROM)
        with pytest.raises(NotFound):
            service.collector_report(session, ctx, area_code="420102001", date_from=FROM, date_to=TO)


def test_the_scores_as_xlsx_with_group_headers_and_the_verdict(world: World) -> None:
    _inspected(world)
    report = _report(world)["_"]
    body = service.report_workbook(report)
    assert body == service.report_workbook(report)
    ws = load_workbook(io.BytesIO(body)).active
    assert (
        ws.cell(2, 1).value == "采集员"
        and ws.cell(2, 3).value == "工作量"
        and ws.cell(3, 3).value == "录入记录"
    )
    names = {ws.cell(r, 1).value: r for r in range(4, ws.max_row + 1)}
    assert ws.cell(names["collector_zhang"], ws.max_column).value == "处罚"
    assert ws.cell(ws.max_row, 2).value == "合计" and ws.cell(ws.max_row, 3).value == 15


def test_the_scores_over_http_and_the_command_line(
    world: World, client: TestClient, login: Any, db_url: str, tmp_path: Path
) -> None:
    _inspected(world)
    headers = login("inspector_zhao")
    period = {"area": TOWNSHIP, "from": FROM.isoformat(), "to": TO.isoformat()}
    r = client.get("/accountability", params=period, headers=headers)
    assert r.status_code == 200 and r.json()["penalties"] == ["collector_zhang"]
    own = client.post(
        "/accountability",
        json={**period, "sheet": {"reward": {"min_score": 5, "max_defect_rate": 1.0}}},
        headers=headers,
    )
    assert own.status_code == 200 and own.json()["rewards"] == ["police_liu"]
    bad = client.post("/accountability", json={**period, "sheet": {"quality": {"typo": 1}}}, headers=headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "scoring.invalid"
    x = client.get("/accountability.xlsx", params=period, headers=headers)
    assert x.status_code == 200 and load_workbook(io.BytesIO(x.content)).active.cell(2, 1).value == "采集员"
    assert client.get("/accountability", params=period).status_code == 401
    sheet = tmp_path / "scoring.toml"
    sheet.write_text('name = "鄂州"\n[reward]\nmin_score = 5\nmax_defect_rate = 1.0\n', encoding="utf-8")
    book = tmp_path / "scores.xlsx"
    args = ["inspect", "scores", "--area", TOWNSHIP, "--from", FROM.isoformat(), "--to", TO.isoformat()]
    env = {"LIANGSHI_DATABASE_URL": db_url}
    result = CliRunner().invoke(
        app, [*args, "--sheet", str(sheet), "--xlsx", str(book), "--json", "--as", "inspector_zhao"], env=env
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sheet"]["name"] == "鄂州" and data["rewards"] == ["police_liu"] and book.exists()
    sheet.write_text("[quality]\nduplicate = 'x'\n", encoding="utf-8")
    refused = CliRunner().invoke(app, [*args, "--sheet", str(sheet), "--as", "inspector_zhao"], env=env)
    assert refused.exit_code != 0 and "scoring.invalid" in refused.output
