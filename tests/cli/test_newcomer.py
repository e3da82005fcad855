"""A newcomer's first steps: the CLI and the demo share one database default, and a fresh database says what to
do instead of a traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from liangshi.cli.main import app
from liangshi.config import Settings

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_script_uses_the_cli_default_database_and_keeps_it() -> None:
    script = (ROOT / "scripts" / "demo.sh").read_text(encoding="utf-8")
    # No database of its own: whatever `liangshi ...` uses by default is what the demo builds.
    assert "demo.db" not in script
    assert Settings.model_fields["database_url"].default == "sqlite:///./liangshi.db"
    # The plain start deletes nothing; only --rebuild (make demo-rebuild) does.
    before_rebuild, _, rebuild = script.partition('"--rebuild" ]]')
    assert "rm -f" not in before_rebuild
    assert "rm -f liangshi.db" in rebuild
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo-rebuild: install\n\tscripts/demo.sh --rebuild$", makefile, re.M)
    assert re.search(r"^demo: install\n\tscripts/demo.sh$", makefile, re.M)


def test_a_command_on_a_database_without_schema_says_run_db_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIANGSHI_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["dept", "list"])
    assert result.exit_code == 2
    assert "db.not_migrated" in result.output
    assert "liangshi db upgrade" in result.output
    assert "Traceback" not in result.output


def test_readme_commands_work_as_written_on_the_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # As a newcomer does it: in the checkout, no variable set, `make demo` first (db upgrade + demo build).
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LIANGSHI_DATABASE_URL", raising=False)
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    built = runner.invoke(app, ["demo", "build", "--persons", "300"])
    assert built.exit_code == 0, built.output
    assert (tmp_path / "liangshi.db").exists()
    # A second `make demo` keeps the city: the build is skipped, the logins printed again.
    again = runner.invoke(app, ["demo", "build", "--persons", "300"])
    assert again.exit_code == 0 and "Demo-2026-liangshi" in again.output
    # Then the README's commands, copied as written.
    verify = runner.invoke(app, ["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    listed = runner.invoke(app, ["dept", "list"])
    assert listed.exit_code == 0 and "health" in listed.output, listed.output
    gaps = runner.invoke(app, ["plates", "gaps", "--area", "420704001001", "--json"])
    assert gaps.exit_code == 0, gaps.output
    assert isinstance(json.loads(gaps.output), dict | list)
    kpis = runner.invoke(app, ["kpis", "--area", "420704", "--from", "2026-01-01", "--to", "2026-11-30"])
    assert kpis.exit_code == 0, kpis.output
    assert "Traceback" not in kpis.output
