"""`liangshi address parse`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from liangshi.addresses.parsing import ADDRESS_FIELDS
from liangshi.cli.address import app

runner = CliRunner()


def _rows(output: str) -> list[dict[str, str | None]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_parse_prints_one_object_per_input_in_order_with_exactly_13_keys(tmp_path: Path) -> None:
    path = tmp_path / "addresses.txt"
    path.write_text(
        "北京市朝阳区建国路88号SOHO现代城A座1205室\n\n广西南宁市青秀区民族大道100号\n", encoding="gb18030"
    )
    result = runner.invoke(
        app,
        [
            "parse",
            "湖北省鄂州市鄂城区凤凰街道滨湖社区滨湖南路28-3号3栋2单元501室",
            "--file",
            str(path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = _rows(result.stdout)
    assert [list(r) for r in rows] == [list(ADDRESS_FIELDS)] * 3
    assert [r["district"] for r in rows] == ["鄂城区", "朝阳区", "青秀区"]
    assert rows[0]["number"] == "28-3" and rows[0]["room"] == "501"
    assert rows[1]["poi"] == "SOHO现代城"
    assert rows[2]["province"] == "广西壮族自治区"


def test_parse_without_json_prints_a_table() -> None:
    result = runner.invoke(app, ["parse", "鄂州市华容区葛店镇王家村3组12号"])
    assert result.exit_code == 0, result.output
    assert "葛店镇" in result.stdout and "village_group" in result.stdout


def test_parse_without_input_exits_2() -> None:
    result = runner.invoke(app, ["parse", "--json"])
    assert result.exit_code == 2
    assert "address.no_input" in result.stderr
    assert result.stdout == ""


def test_parse_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["parse", "--file", str(tmp_path / "missing.txt"), "--json"])
    assert result.exit_code == 2 and "file.unreadable" in result.stderr
    path = tmp_path / "bad.txt"
    path.write_bytes("滨湖南路".encode("utf-16"))
    result = runner.invoke(app, ["parse", "--file", str(path), "--json"])
    assert result.exit_code == 2 and "csv.encoding" in result.stderr
