"""`liangshi stats`: each statistic with --json exactly as issue 16 says, bad input exits 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from liangshi.cli.main import app

runner = CliRunner()


def _json(*args: str) -> dict[str, float]:
    result = runner.invoke(app, ["stats", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, float] = json.loads(result.stdout)
    return data


def test_wilson_json() -> None:
    data = _json("wilson", "45", "50")
    assert set(data) == {"low", "high", "centre"}
    assert data["low"] == pytest.approx(0.7864, abs=1e-4)
    assert data["high"] == pytest.approx(0.9565, abs=1e-4)
    wider = _json("wilson", "45", "50", "--z", "2.576")
    assert wider["low"] < data["low"] and wider["high"] > data["high"]


def test_sample_size_json() -> None:
    assert _json("sample-size", "--margin", "0.05", "--p", "0.5", "--population", "1000", "--z", "1.96") == {
        "n": 278
    }


def test_acceptance_plan_json() -> None:
    args = ["--lot", "1000", "--aql", "0.01", "--lq", "0.05", "--alpha", "0.05", "--beta", "0.10"]
    assert _json("acceptance-plan", *args) == {"n": 132, "ac": 3}
    small = ["--lot", "100", "--aql", "0.02", "--lq", "0.15", "--alpha", "0.05", "--beta", "0.10"]
    data = _json("acceptance-plan", *small, "--model", "hypergeometric")
    assert set(data) == {"n", "ac"} and data["n"] <= 100


def test_chapman_json() -> None:
    data = _json("chapman", "900", "100", "88")
    assert set(data) == {"estimate", "variance", "low", "high"}
    assert data["estimate"] == pytest.approx(901 * 101 / 89 - 1)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["wilson", "60", "50"], "stats.more_than_trials"),
        (["sample-size", "--margin", "1.5", "--p", "0.5", "--population", "100"], "stats.out_of_range"),
        (
            [
                "acceptance-plan",
                "--lot",
                "1000",
                "--aql",
                "0.1",
                "--lq",
                "0.05",
                "--alpha",
                "0.05",
                "--beta",
                "0.1",
            ],
            "stats.aql_not_below_lq",
        ),
        (
            [
                "acceptance-plan",
                "--lot",
                "1000",
                "--aql",
                "0.01",
                "--lq",
                "0.05",
                "--alpha",
                "1",
                "--beta",
                "0.1",
            ],
            "stats.out_of_range",
        ),
        (["chapman", "10", "5", "6"], "stats.matched_exceeds_systems"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_2(args: list[str], code: str) -> None:
    result = runner.invoke(app, ["stats", *args])
    assert result.exit_code == 2
    assert code in result.stderr
