"""The root command: it lists every command from its table and loads a command's module only when it runs."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from liangshi.cli.main import COMMANDS, app, load

runner = CliRunner()


def test_every_listed_command_is_the_command_its_module_defines_with_the_help_the_root_lists() -> None:
    for name, (_module, _attribute, short_help) in COMMANDS.items():
        command = load(name)
        assert command.name == name
        assert command.help is not None
        assert command.help.splitlines()[0].strip() == short_help.splitlines()[0]
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert f" {name} [OPTIONS]" in result.output


def test_root_help_lists_every_command_in_the_table_order() -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    listed = [
        line.split()[1]
        for line in result.output.splitlines()
        if line.startswith("│ ") and len(line.split()) > 2
    ]
    assert [name for name in listed if name in COMMANDS] == list(COMMANDS)


def test_root_help_starts_without_sqlalchemy_fastapi_or_a_domain_service() -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from liangshi.cli.main import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi')"
        " or m.endswith('.service'))\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unknown_command_is_refused_with_a_suggestion() -> None:
    result = runner.invoke(app, ["dbb"])
    assert result.exit_code == 2
    assert "No such command" in result.output
    assert "'db'" in result.output
