"""`liangshi plates gaps|propose` on CSV files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liangshi.cli.plates import app

runner = CliRunner()
KEYS = ["missing_odd", "missing_even", "duplicates", "parity_violations", "order_violations"]

CSV = """street,number,side,chainage_m
滨湖南路,1,,0
滨湖南路,3号,单,10
滨湖南路,９,,30
滨湖南路,21,,35
滨湖南路,11,,50
滨湖南路,2,双,0
滨湖南路,12,,50
滨湖南路,12-1,,55
滨湖南路,16附1,,70
滨湖南路,12号,,52
滨湖南路,14,单,60
洋澜路,5,,
"""


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "plates.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_gaps_json_is_one_object_keyed_by_street_with_all_five_keys(tmp_path: Path) -> None:
    result = runner.invoke(app, ["gaps", "--file", str(_write(tmp_path, CSV)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["滨湖南路", "洋澜路"]
    assert all(list(v) == KEYS for v in data.values())
    assert data["滨湖南路"] == {
        "missing_odd": [5, 7, 13, 15, 17, 19],
        "missing_even": [4, 6, 8, 10],
        "duplicates": ["12"],
        "parity_violations": ["14"],
        "order_violations": ["21"],
    }
    assert data["洋澜路"] == {key: [] for key in KEYS}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_gaps_reads_bom_and_gb18030(tmp_path: Path, encoding: str) -> None:
    result = runner.invoke(app, ["gaps", "--file", str(_write(tmp_path, CSV, encoding)), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["滨湖南路"]["duplicates"] == ["12"]


def test_gaps_table_without_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["gaps", "--file", str(_write(tmp_path, CSV))])
    assert result.exit_code == 0, result.output
    assert "滨湖南路" in result.stdout and "{" not in result.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("street,number\n滨湖南路,12--1\n", "line 2, field number: plate.number_invalid"),
        ("street,number\n滨湖南路,abc号\n", "line 2, field number: plate.number_invalid"),
        ("street,number,side\n滨湖南路,12,左\n", "line 2, field side: plate.side_invalid"),
        (
            "street,number,chainage_m\n滨湖南路,12,-3\n",
            "line 2, field chainage_m: plate.chainage_out_of_range",
        ),
        (
            "street,number,chainage_m\n滨湖南路,12,200000\n",
            "line 2, field chainage_m: plate.chainage_out_of_range",
        ),
        ("", "line 1, field file: csv.empty"),
        ("street,side\n滨湖南路,odd\n", "line 1, field number: csv.column_missing"),
    ],
)
def test_gaps_bad_input_exits_2_with_line_field_code_and_no_json(
    tmp_path: Path, text: str, expected: str
) -> None:
    result = runner.invoke(app, ["gaps", "--file", str(_write(tmp_path, text)), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert expected in result.stderr


def test_gaps_reports_every_bad_line(tmp_path: Path) -> None:
    text = "street,number\n滨湖南路,1\n滨湖南路,x\n滨湖南路,3\n滨湖南路,12--1\n"
    result = runner.invoke(app, ["gaps", "--file", str(_write(tmp_path, text)), "--json"])
    assert result.exit_code == 2
    assert "line 3, field number" in result.stderr and "line 5, field number" in result.stderr
    assert "格式不正确" in result.stderr and "Malformed" in result.stderr


def test_gaps_wrong_encoding_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes("street,number\n滨湖南路,1\n".encode("utf-16"))
    result = runner.invoke(app, ["gaps", "--file", str(path), "--json"])
    assert result.exit_code == 2 and "csv.encoding" in result.stderr
    result = runner.invoke(app, ["gaps", "--file", str(tmp_path / "none.csv"), "--json"])
    assert result.exit_code == 2 and "file.unreadable" in result.stderr


def test_propose_prints_the_number(tmp_path: Path) -> None:
    text = "street,number\n滨湖南路,12\n滨湖南路,16\n滨湖南路,14\n滨湖南路,20\n"
    path = str(_write(tmp_path, text))
    base = ["propose", "--file", path, "--street", "滨湖南路"]
    result = runner.invoke(app, [*base, "--between", "12", "14"])
    assert (result.exit_code, result.stdout.strip()) == (0, "12-1号")
    result = runner.invoke(app, [*base, "--between", "12", "14", "--style", "fu"])
    assert result.stdout.strip() == "12附1号"
    result = runner.invoke(app, [*base, "--between", "16", "20", "--reserved", "18"])
    assert result.stdout.strip() == "18号"
    result = runner.invoke(app, [*base, "--between", "16", "20", "--json"])
    assert json.loads(result.stdout) == {
        "street": "滨湖南路",
        "number": "18号",
        "normalized": "18",
        "base": 18,
        "sub": None,
        "reason": "free",
    }


def test_propose_refusals_exit_2(tmp_path: Path) -> None:
    path = str(_write(tmp_path, "street,number\n滨湖南路,12\n滨湖南路,16\n"))
    base = ["propose", "--file", path, "--street", "滨湖南路"]
    result = runner.invoke(app, [*base, "--between", "12", "18"])
    assert result.exit_code == 2 and "plate.neighbour_not_found" in result.stderr
    result = runner.invoke(app, [*base, "--between", "12", "16", "--style", "x"])
    assert result.exit_code == 2 and "plate.style_invalid" in result.stderr
    result = runner.invoke(app, [*base, "--between", "12", "16", "--reserved", "14,a"])
    assert result.exit_code == 2 and "plate.reserved_invalid" in result.stderr
