"""`liangshi checks`: hold a department's file, run the checks, print one JSON object per finding, dismiss."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from liangshi.cli.main import app

runner = CliRunner()


def test_checks_run_json_prints_one_object_per_finding_with_natural_keys(tmp_path: Path) -> None:
    env = {"LIANGSHI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    city = tmp_path / "city"
    built = runner.invoke(
        app,
        [
            "synth",
            "--persons",
            "3000",
            "--seed",
            "2010",
            "--today",
            "2026-11-27",
            "--out",
            str(city),
            "--db",
            env["LIANGSHI_DATABASE_URL"],
        ],
        env=env,
    )
    assert built.exit_code == 0, built.output
    held = runner.invoke(
        app, ["checks", "source", str(city / "housing_dwellings.csv"), "--kind", "dwellings"], env=env
    )
    assert held.exit_code == 0, held.output
    assert "housing_dwellings" in held.output
    result = runner.invoke(app, ["checks", "run", "--json", "--check", "plate.not_installed"], env=env)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    with (city / "truth" / "plate_not_installed.csv").open(encoding="utf-8") as fh:
        planted = {(r["community_code"], r["street"], r["number"]) for r in csv.DictReader(fh)}
    assert planted, "the city plants plates not installed"
    assert {(f["keys"]["community_code"], f["keys"]["street"], f["keys"]["number"]) for f in lines} <= planted
    assert all(
        f["check"] == "plate.not_installed" and set(f["keys"]) == {"community_code", "street", "number"}
        for f in lines
    )
    listed = runner.invoke(app, ["checks", "findings", "--check", "plate.not_installed"], env=env)
    assert listed.exit_code == 0 and f"{len(lines):,} findings" in listed.output
    refused = runner.invoke(app, ["checks", "dismiss", "1"], env=env)
    assert refused.exit_code == 2 and "check.dismiss_reason_required" in refused.output
    done = runner.invoke(app, ["checks", "dismiss", "1", "--reason", "门牌已安装，待补录"], env=env)
    assert done.exit_code == 0, done.output


def test_an_unknown_check_or_area_exits_2_with_its_code(tmp_path: Path) -> None:
    env = {"LIANGSHI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    unknown = runner.invoke(app, ["checks", "run", "--check", "plate.nonsense"], env=env)
    assert unknown.exit_code == 2 and "check.unknown" in unknown.output
    foreign = runner.invoke(app, ["checks", "run", "--area", "110101001001"], env=env)
    assert foreign.exit_code == 2 and "check.area_not_found" in foreign.output
