"""`liangshi dept` and `liangshi import KIND FILE --source DEPT` on a fresh SQLite database."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import create_engine, func, select, update
from typer.testing import CliRunner

from liangshi.cli.main import app
from liangshi.departments.models import CorrectionCase, DepartmentBatch, ExchangeLogEntry
from tests import factories

runner = CliRunner()
ID = "11010519491231002X"


def _db(tmp_path: Path) -> tuple[dict[str, str], str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"LIANGSHI_DATABASE_URL": url}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    persons = tmp_path / "persons.csv"
    persons.write_text(f"姓名,性别,证件号码,管辖社区,职业\n张丽,女,{ID},420704001,工人\n", encoding="utf-8")
    loaded = runner.invoke(app, ["import", "persons", str(persons), "--source", "police"], env=env)
    assert loaded.exit_code == 0 and "loaded 1" in loaded.output, loaded.output
    return env, url


def _count(url: str, table: type) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    engine.dispose()
    return n


def test_departments_agreements_feeds_extracts_and_the_log_from_the_command_line(tmp_path: Path) -> None:
    env, url = _db(tmp_path)
    assert runner.invoke(app, ["dept", "add", "health"], env=env).exit_code == 0
    agreement = tmp_path / "health.toml"
    agreement.write_text(
        'department = "health"\npurpose = "出生、死亡医学证明核对"\nvalid_from = 2026-01-01\n'
        '[provides]\nperson = ["phone", "occupation"]\n[reads]\nperson = ["name", "occupation"]\n',
        encoding="utf-8",
    )
    added = runner.invoke(app, ["dept", "agreement", str(agreement)], env=env)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["dept", "list", "--json"], env=env)
    [dept] = json.loads(listed.stdout)
    assert dept["code"] == "health" and dept["agreements"][0]["provides"] == {
        "person": ["occupation", "phone"]
    }

    feed = tmp_path / "health.csv"
    feed.write_bytes(f"证件号码,联系电话,职业\n{ID},13812345678,教师\n".encode("gb18030"))
    result = runner.invoke(app, ["import", "persons", str(feed), "--source", "health"], env=env)
    assert result.exit_code == 0, result.output
    assert "applied 1" in result.output and "conflicts 1" in result.output

    out = tmp_path / "extract.csv"
    extracted = runner.invoke(
        app, ["dept", "extract", "health", "--out", str(out), "--kind", "person"], env=env
    )
    assert extracted.exit_code == 0, extracted.output
    assert out.read_text(encoding="utf-8-sig").splitlines()[1].endswith(",张丽,工人")

    verified = runner.invoke(app, ["dept", "verify-log", "--json"], env=env)
    assert verified.exit_code == 0 and json.loads(verified.stdout)["entries"] == 2
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(update(ExchangeLogEntry).where(ExchangeLogEntry.seq == 1).values(row_count=5))
    engine.dispose()
    assert runner.invoke(app, ["dept", "verify-log"], env=env).exit_code == 1


def test_a_feed_from_an_unknown_department_or_a_forbidden_column_is_refused_and_writes_nothing(
    tmp_path: Path,
) -> None:
    env, url = _db(tmp_path)
    feed = tmp_path / "feed.csv"
    feed.write_text(f"证件号码,婚姻状况\n{ID},20\n", encoding="utf-8")
    unknown = runner.invoke(app, ["import", "persons", str(feed), "--source", "justice"], env=env)
    assert unknown.exit_code == 2 and "department.unknown" in unknown.output
    assert runner.invoke(app, ["dept", "add", "justice"], env=env).exit_code == 0
    no_agreement = runner.invoke(app, ["import", "persons", str(feed), "--source", "justice"], env=env)
    assert no_agreement.exit_code == 2 and "department.no_agreement" in no_agreement.output
    agreement = tmp_path / "justice.json"
    agreement.write_text(
        json.dumps(
            {
                "department": "justice",
                "purpose": "社区矫正对象核查",
                "valid_from": "2026-01-01",
                "provides": {"person": ["occupation"]},
            }
        ),
        encoding="utf-8",
    )
    assert runner.invoke(app, ["dept", "agreement", str(agreement)], env=env).exit_code == 0
    refused = runner.invoke(app, ["import", "persons", str(feed), "--source", "justice"], env=env)
    assert refused.exit_code == 2 and "department.field_not_provided" in refused.output
    assert _count(url, DepartmentBatch) == 0 and _count(url, ExchangeLogEntry) == 0


def test_civil_affairs_areas_from_the_command_line_and_a_refused_file_kept_and_listed(tmp_path: Path) -> None:
    env, url = _db(tmp_path)
    assert runner.invoke(app, ["dept", "add", "civil_affairs"], env=env).exit_code == 0
    agreement = tmp_path / "civil.json"
    agreement.write_text(
        json.dumps(
            {
                "department": "civil_affairs",
                "purpose": "区划与地名登记核对",
                "valid_from": "2026-01-01",
                "all_or_nothing": True,
                "provides": {"area": ["name"], "street": ["name"]},
            }
        ),
        encoding="utf-8",
    )
    assert runner.invoke(app, ["dept", "agreement", str(agreement)], env=env).exit_code == 0
    areas = tmp_path / "areas.csv"
    areas.write_text(
        "区划代码,区划名称,上级区划代码,级别\n420704001901,试点社区,420704001,社区\n", encoding="utf-8"
    )
    sent = runner.invoke(app, ["import", "areas", str(areas), "--source", "civil_affairs"], env=env)
    assert sent.exit_code == 0 and "applied 1" in sent.output, sent.output
    bad = tmp_path / "bad.csv"
    bad.write_text("区划代码,区划名称,上级区划代码,级别\n420704001902,,420704001,小区\n", encoding="utf-8")
    refused = runner.invoke(app, ["import", "areas", str(bad), "--source", "civil_affairs"], env=env)
    assert refused.exit_code == 2 and "department.batch_rows_invalid" in refused.output
    listed = runner.invoke(app, ["dept", "batches", "civil_affairs", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    found = json.loads(listed.stdout)
    assert [(b["kind"], b["status"], b["file_name"]) for b in found] == [
        ("areas", "refused", "bad.csv"),
        ("areas", "accepted", "areas.csv"),
    ]
    assert {e["code"] for e in found[0]["report"]["errors"]} == {
        "department.place_field_required",
        "department.area_level_unknown",
    }
    text = runner.invoke(app, ["dept", "batches", "civil_affairs", "--status", "refused"], env=env)
    assert text.exit_code == 0 and "department.batch_rows_invalid" in text.output and "line 2" in text.output
    assert _count(url, DepartmentBatch) == 2


def test_justice_corrections_from_the_command_line_an_unknown_person_is_a_bad_row(tmp_path: Path) -> None:
    env, url = _db(tmp_path)
    assert runner.invoke(app, ["dept", "add", "justice"], env=env).exit_code == 0
    agreement = tmp_path / "justice.json"
    agreement.write_text(
        json.dumps(
            {
                "department": "justice",
                "purpose": "社区矫正对象与人口登记核对",
                "valid_from": "2026-01-01",
                "provides": {"person": ["correction"]},
            }
        ),
        encoding="utf-8",
    )
    assert runner.invoke(app, ["dept", "agreement", str(agreement)], env=env).exit_code == 0
    feed = tmp_path / "jz.csv"
    feed.write_text(
        "证件号码,姓名,矫正类别,矫正开始日期,负责司法所,管辖社区\n"
        f"{ID},张丽,缓刑,2026-03-01,凤凰司法所,420704001999\n"
        f"{factories.make_id('420704', dt.date(1980, 5, 5), 391)},王五,假释,2026-03-01,凤凰司法所,420704001999\n",
        encoding="utf-8",
    )
    refused = runner.invoke(app, ["import", "corrections", str(feed), "--source", "justice"], env=env)
    assert refused.exit_code == 2 and "department.batch_rows_invalid" in refused.output, refused.output
    listed = runner.invoke(app, ["dept", "batches", "justice", "--json"], env=env)
    [batch] = json.loads(listed.stdout)
    assert (batch["kind"], batch["status"]) == ("corrections", "refused")
    assert {(e["line"], e["code"]) for e in batch["report"]["errors"]} == {
        (2, "department.community_unknown"),
        (3, "department.correction_person_unknown"),
        (3, "department.community_unknown"),
    }
    assert _count(url, CorrectionCase) == 0
