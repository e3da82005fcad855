"""`liangshi import`: templates, exit codes, the error report."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from liangshi.cli.main import app

runner = CliRunner()


def _db(tmp_path: Path) -> dict[str, str]:
    env = {"LIANGSHI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    return env


def test_templates_import_cleanly_and_twice_without_change(tmp_path: Path) -> None:
    env = _db(tmp_path)
    for kind in (
        "areas",
        "streets",
        "plates",
        "buildings",
        "dwellings",
        "persons",
        "households",
        "residences",
    ):
        path = tmp_path / f"{kind}.csv"
        made = runner.invoke(app, ["import", "template", kind, "--out", str(path)], env=env)
        assert made.exit_code == 0, made.output
        first = runner.invoke(app, ["import", kind, str(path), "--source", "police"], env=env)
        assert first.exit_code == 0, first.output
        assert "loaded 1" in first.output or kind == "areas"
        again = runner.invoke(app, ["import", kind, str(path)], env=env)
        assert again.exit_code == 0 and "loaded 0" in again.output and "existing 1" in again.output


def test_rejected_rows_exit_1_and_write_the_error_report(tmp_path: Path) -> None:
    env = _db(tmp_path)
    path = tmp_path / "p.csv"
    path.write_text(
        "姓名,性别,证件号码,管辖社区\n张丽,女,11010519491231002X,420704001\n李四,男,110105194912310021,420704001\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import", "persons", str(path)], env=env)
    assert result.exit_code == 1
    report = tmp_path / "p.csv.errors.csv"
    text = report.read_text(encoding="utf-8-sig")
    assert "3,id_number,id_number.checksum" in text


def test_file_level_errors_exit_2(tmp_path: Path) -> None:
    env = _db(tmp_path)
    missing = tmp_path / "missing.csv"
    assert runner.invoke(app, ["import", "persons", str(missing)], env=env).exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("name\n张三\n", encoding="utf-8")
    result = runner.invoke(app, ["import", "persons", str(bad)], env=env)
    assert result.exit_code == 2 and "import.columns_missing" in result.output
    assert runner.invoke(app, ["import", "template", "spaceships"], env=env).exit_code == 2
