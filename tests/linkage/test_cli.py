"""`liangshi link dedupe`: the happy path and refused input (nothing written, exit code 2)."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from liangshi.cli.main import app

from .helpers import labelled_records

runner = CliRunner()
HEADER = "record_id,source,name,sex,birth_date,id_number,phone,address"


def _write_records(path: Path) -> None:
    records, _ = labelled_records()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER.split(","))
        for r in records:
            writer.writerow(
                [r.record_id, r.source, r.name, r.sex, r.birth_date, r.id_number, r.phone, r.address]
            )


def test_dedupe_writes_a_cluster_for_every_input_row(tmp_path: Path) -> None:
    source, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    _write_records(source)
    result = runner.invoke(app, ["link", "dedupe", "--input", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    records, truth = labelled_records()
    assert [r["record_id"] for r in rows] == [r.record_id for r in records]
    clusters = {r["record_id"]: r["cluster_id"] for r in rows}
    assert clusters["h1"] == clusters["p1"]
    assert clusters["p2"] != clusters["p1"]
    assert len(set(clusters.values())) == len(set(truth.values()))


def test_dedupe_accepts_missing_optional_columns_and_empty_cells(tmp_path: Path) -> None:
    source, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    source.write_text("record_id,name,sex\nr1,王芳,女\nr2,,\nr3,王芳,2\n", encoding="utf-8")
    result = runner.invoke(app, ["link", "dedupe", "--input", str(source), "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "record_id,cluster_id"
    assert [line.split(",")[0] for line in lines[1:]] == ["r1", "r2", "r3"]


def test_missing_record_id_column_is_refused(tmp_path: Path) -> None:
    source, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    source.write_text("id,name\n1,王芳\n", encoding="utf-8")
    result = runner.invoke(app, ["link", "dedupe", "--input", str(source), "--out", str(out)])
    assert result.exit_code == 2
    assert "linkage.missing_column" in result.output
    assert "缺少必需的列" in result.output and "Missing required column" in result.output
    assert not out.exists()


def test_wrong_encoding_is_refused(tmp_path: Path) -> None:
    source, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    source.write_bytes(f"{HEADER}\nr1,police,王芳,女,,,,\n".encode("utf-16"))
    result = runner.invoke(app, ["link", "dedupe", "--input", str(source), "--out", str(out)])
    assert result.exit_code == 2
    assert "linkage.encoding" in result.output
    assert not out.exists()


def test_gbk_file_is_refused_as_utf8_and_read_with_its_encoding(tmp_path: Path) -> None:
    source, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    source.write_bytes(f"{HEADER}\nr1,police,王芳,女,,,,\nr2,health,王芳,女,,,,\n".encode("gb18030"))
    refused = runner.invoke(app, ["link", "dedupe", "--input", str(source), "--out", str(out)])
    assert refused.exit_code == 2 and "linkage.encoding" in refused.output
    assert not out.exists()
    accepted = runner.invoke(
        app, ["link", "dedupe", "--input", str(source), "--out", str(out), "--encoding", "gb18030"]
    )
    assert accepted.exit_code == 0, accepted.output
    assert out.read_text(encoding="utf-8").splitlines()[1:] == ["r1,r1", "r2,r2"]


def test_duplicate_record_id_is_refused(tmp_path: Path) -> None:
    source, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    source.write_text(f"{HEADER}\nr1,police,王芳,女,,,,\nr1,health,李娜,女,,,,\n", encoding="utf-8")
    result = runner.invoke(app, ["link", "dedupe", "--input", str(source), "--out", str(out)])
    assert result.exit_code == 2
    assert "linkage.duplicate_record_id" in result.output
    assert not out.exists()


def test_existing_output_is_left_alone_when_the_input_is_refused(tmp_path: Path) -> None:
    source, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    out.write_text("previous\n", encoding="utf-8")
    source.write_text("name\n王芳\n", encoding="utf-8")
    result = runner.invoke(app, ["link", "dedupe", "--input", str(source), "--out", str(out)])
    assert result.exit_code == 2
    assert out.read_text(encoding="utf-8") == "previous\n"


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    source, out = tmp_path / "records.csv", tmp_path / "clusters.csv"
    _write_records(source)
    result = runner.invoke(
        app, ["link", "dedupe", "--input", str(source), "--out", str(out), "--engine", "x"]
    )
    assert result.exit_code == 2
    assert "linkage.engine_unknown" in result.output
    assert not out.exists()


def test_explain_prints_each_fields_level_and_weight(tmp_path: Path) -> None:
    source = tmp_path / "records.csv"
    _write_records(source)
    result = runner.invoke(app, ["link", "explain", "--input", str(source), "p1", "p2"])
    assert result.exit_code == 0, result.output
    assert "id_both_valid_differ" in result.output
    missing = runner.invoke(app, ["link", "explain", "--input", str(source), "p1", "zz"])
    assert missing.exit_code == 2 and "linkage.record_not_found" in missing.output
