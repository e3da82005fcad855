"""The whole city in one command survives a department batch refused as a whole (issue 15): the refused batch is
kept with its report, the summary prints it with its reasons, the rest of the city loads and the command succeeds;
only a police file that fails stops the build with a non-zero exit. Justice's community-correction cases go
through the corrections feed, each labelled row as truth/corrections.csv says."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest
import typer
from sqlalchemy import select

from liangshi.access.service import SYSTEM
from liangshi.cli.synth import load_into
from liangshi.demo.city import load_whole_city
from liangshi.departments import service as departments
from liangshi.departments.models import CorrectionCase, DepartmentBatch
from liangshi.synth import write_city
from liangshi.synth.generate import DefectRates
from tests.conftest import World

TODAY = dt.date(2026, 11, 27)  # the test clock's day


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    write_city(out, persons=1500, seed=5, today=TODAY, rates=DefectRates(corrections=0.05, births=0.02))
    return out


def test_the_corrections_file_goes_through_the_feed_each_row_as_labelled(world: World, city: Path) -> None:
    truth = _rows(city / "truth" / "corrections.csv")
    assert len(truth) == len(_rows(city / "justice_corrections.csv")) > 5
    loaded = load_whole_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    assert loaded.refused == {}
    batch = loaded.batches["justice_corrections"]
    kept = [r for r in truth if r["outcome"] == "accepted"]
    refused = {line for line, r in enumerate(truth, start=2) if r["outcome"] != "accepted"}
    assert (batch.kind, batch.rows, batch.applied) == ("corrections", len(kept), len(kept))
    assert {p.line for p in batch.rejected} == refused
    assert {p.code for p in batch.rejected} <= {"department.correction_person_unknown"}
    with world.session() as s:
        ctx = world.ctx(s)
        holders = departments.resolve_persons(s, ctx, [("resident_id", r["id_number"]) for r in truth])
        cases = {
            (c.person_id, c.case_kind, c.start_date)
            for c in s.execute(select(CorrectionCase).where(CorrectionCase.superseded_at.is_(None))).scalars()
        }
    assert cases == {
        (holders[r["id_number"]], r["case_kind"], dt.date.fromisoformat(r["start_date"])) for r in kept
    }
    assert all(r["id_number"] not in holders for r in truth if r["outcome"] != "accepted")


def _copy(city: Path, tmp_path: Path) -> Path:
    sent = tmp_path / "sent"
    shutil.copytree(city, sent)
    return sent


def test_a_batch_refused_as_a_whole_is_kept_and_the_rest_of_the_city_loads(
    world: World, city: Path, tmp_path: Path
) -> None:
    sent = _copy(city, tmp_path)
    # Justice's file with a column the feed does not know: the file is refused as a whole.
    text = (sent / "justice_corrections.csv").read_text(encoding="utf-8").replace("负责司法所", "经办人", 1)
    (sent / "justice_corrections.csv").write_text(text, encoding="utf-8")
    loaded = load_whole_city(world.sessions, sent, actor=SYSTEM, clock=world.clock)
    whole = loaded.refused["justice_corrections"]
    assert (whole.department, whole.kind) == ("justice", "corrections")
    assert whole.code.startswith("department.") and " / " in whole.reasons[0]
    # The rest went on: the births after it in the order of feeds, and the files held for checking.
    assert {"health_persons", "justice_persons", "health_births"} <= set(loaded.batches)
    assert set(loaded.held) == {"housing_dwellings", "housing_rentals", "health_persons", "justice_persons"}
    with world.session() as s:
        kept = s.get(DepartmentBatch, whole.batch_id)
        assert kept is not None and (kept.status, kept.kind) == ("refused", "corrections")
        assert whole.code in (kept.report or "")
        assert s.execute(select(CorrectionCase)).first() is None


def test_synth_db_prints_the_refused_batch_with_its_reasons_and_exits_zero_unless_a_police_file_fails(
    city: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = _copy(city, tmp_path)
    # Every row of health's births names an unknown mother's number: no good row, the batch refused whole.
    rows = _rows(sent / "health_births.csv")
    with (sent / "health_births.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([r | {"母亲证件号码": "42070419900101123X"} for r in rows])
    load_into(f"sqlite:///{tmp_path / 'city.db'}", sent, everything=True)
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.split()[:1] == ["health_births"])
    assert "refused as a whole (department.batch_rows_invalid)" in line
    assert "liangshi dept batches health --status refused" in line
    after = out.split(line, 1)[1].splitlines()
    assert "line 2" in after[1] or "line 2" in after[2]
    assert "department batch(es) refused as a whole; the rest of the city is loaded" in out
    assert next(x for x in out.splitlines() if x.split()[:1] == ["justice_corrections"])
    # A police file that fails stops the build: a non-zero exit.
    broken = _copy(city, tmp_path / "broken")
    (broken / "police_persons.csv").write_text("nobody,knows\n1,2\n", encoding="utf-8")
    with pytest.raises(typer.Exit) as exc:
        load_into(f"sqlite:///{tmp_path / 'broken.db'}", broken, everything=True)
    assert exc.value.exit_code != 0
