"""Batch matching: a column of addresses in (xlsx, CSV, text), the ranked matches out as xlsx (API, CLI)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from liangshi.addresses.batch import matches_workbook, read_address_column
from liangshi.cli.main import app as cli
from liangshi.errors import ValidationFailed
from tests.addresses.test_matching import _dwelling, _street_with_plates
from tests.conftest import World


def _xlsx(values: list[str]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for v in values:
        sheet.append([v, "ignored second column"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rows(body: bytes, sheet: int = 0) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(body))
    return [list(r) for r in book.worksheets[sheet].iter_rows(values_only=True)]


def test_the_first_column_is_read_from_xlsx_csv_and_text() -> None:
    assert read_address_column(_xlsx(["地址", "滨湖南路8号", "花园路1号"])) == ["滨湖南路8号", "花园路1号"]
    assert read_address_column("滨湖南路8号,x\n\n花园路1号\n".encode("gb18030")) == [
        "滨湖南路8号",
        "花园路1号",
    ]
    assert read_address_column("address\n滨湖南路8号\n".encode("utf-8-sig")) == ["滨湖南路8号"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "address.batch_empty"),
        ("地址\n\n".encode(), "address.batch_empty"),
        (b"PK\x03\x04 not a workbook", "address.batch_unreadable"),
        (b"\x00\x01\x02binary", "address.batch_unreadable"),
        (("路1号\n" * 5001).encode(), "address.batch_too_large"),
    ],
)
def test_a_bad_file_is_refused_with_a_reason(data: bytes, code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_address_column(data)
    assert caught.value.code == code


def test_the_api_matches_an_uploaded_column_into_an_xlsx(
    world: World, client: TestClient, login: Any
) -> None:
    _, plates = _street_with_plates(world, ["12"], name="花园路")
    upload = _xlsx(["地址", "鄂城区花园路12号", "鄂城区花圆路12号", "火星路1号"])
    r = client.post(
        "/addresses/match.xlsx",
        files={"file": ("in.xlsx", upload, "application/octet-stream")},
        headers={**login("police_liu"), "Accept-Language": "en"},
    )
    assert r.status_code == 200, r.text
    rows = _rows(r.content)
    assert rows[0][:4] == ["Input", "Match level", "Standard address", "Confidence"]
    assert [row[0] for row in rows[1:]] == ["鄂城区花园路12号", "鄂城区花圆路12号", "火星路1号"]
    assert [row[1] for row in rows[1:]] == ["plate", "plate", None]
    assert rows[1][4] == rows[2][4] == plates["12"]
    assert rows[1][3] > rows[2][3] > 0.5
    candidates = _rows(r.content, 1)
    assert candidates[1][:3] == ["鄂城区花园路12号", 1, "plate"]
    empty = client.post(
        "/addresses/match.xlsx", files={"file": ("in.csv", b"", "text/csv")}, headers=login("police_liu")
    )
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "address.batch_empty"


def test_the_workbook_is_in_chinese_by_default() -> None:
    result = {
        "input": "滨湖南路8号",
        "match_level": "plate",
        "standard": "湖北省鄂州市鄂城区滨湖南路8号",
        "confidence": 0.8,
        "address_id": 1,
        "dwelling_id": None,
        "reasons": ["street:滨湖南路", "number:8"],
        "notes": [],
        "candidates": [],
    }
    rows = _rows(matches_workbook([result], en=False))
    assert rows[0][0] == "输入地址" and rows[1][1] == "门牌" and rows[1][6] == "street:滨湖南路 number:8"


def test_the_unit_and_floor_levels_are_named_in_the_workbook_and_the_cli_table(
    world: World, db_url: str, tmp_path: Path
) -> None:
    for level, zh, en in (("unit", "单元", "unit"), ("floor", "楼层", "floor")):
        result = {"input": "x", "match_level": level, "reasons": [], "notes": [], "candidates": []}
        assert _rows(matches_workbook([result], en=False))[1][1] == zh
        assert _rows(matches_workbook([result], en=True))[1][1] == en
    _, plates = _street_with_plates(world, ["28-3"])
    _dwelling(world, plates["28-3"])
    runner = CliRunner()
    env = {"LIANGSHI_DATABASE_URL": db_url, "COLUMNS": "200"}
    out = runner.invoke(cli, ["address", "match", "滨湖南路28-3号3栋2单元502室", "--table"], env=env)
    assert out.exit_code == 0, out.output
    assert "floor" in out.output and "dwelling" not in out.output
    listed = runner.invoke(cli, ["address", "match", "滨湖南路28-3号3栋2单元502室"], env=env)
    assert json.loads(listed.output.splitlines()[0])["match_level"] == "floor"
    target = tmp_path / "out.xlsx"
    source = tmp_path / "in.txt"
    source.write_text("滨湖南路28-3号3栋2单元\n", encoding="utf-8")
    done = runner.invoke(cli, ["address", "match", "--file", str(source), "--xlsx", str(target)], env=env)
    assert done.exit_code == 0, done.output
    assert _rows(target.read_bytes())[1][1] == "单元"


def test_the_cli_writes_the_matches_to_xlsx(world: World, db_url: str, tmp_path: Path) -> None:
    _street_with_plates(world, ["5"])
    source = tmp_path / "in.xlsx"
    source.write_bytes(_xlsx(["滨湖南路5号", "滨湖楠路5号"]))
    target = tmp_path / "out.xlsx"
    runner = CliRunner()
    env = {"LIANGSHI_DATABASE_URL": db_url}
    out = runner.invoke(cli, ["address", "match", "--file", str(source), "--xlsx", str(target)], env=env)
    assert out.exit_code == 0, out.output
    rows = _rows(target.read_bytes())
    assert [r[1] for r in rows[1:]] == ["门牌", "门牌"]
    listed = runner.invoke(cli, ["address", "match", "滨湖楠路5号"], env=env)
    assert json.loads(listed.output.splitlines()[0])["candidates"][0]["level"] == "plate"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04broken")
    refused = runner.invoke(cli, ["address", "match", "--file", str(bad)], env=env)
    assert refused.exit_code == 2 and "address.batch_unreadable" in refused.output


def test_cli_parse_details_carry_notes_and_current_names() -> None:
    runner = CliRunner()
    out = runner.invoke(cli, ["address", "parse", "湖北省襄樊市樊城区人民路1号", "--json", "--details"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.output.splitlines()[0])
    assert row["current"] == {"city": "襄阳市"} and row["code"] == "420606" and row["notes"] == []
