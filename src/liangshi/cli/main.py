"""`liangshi` command: database, server, users, audit, validation, demo, and the domains' command groups.

Each command lives in its own module of this package and imports what it uses at its top; this root loads the
module of the one command that runs. `liangshi --help` (and a mistyped command) therefore starts without
SQLAlchemy, FastAPI or a domain service: COMMANDS holds the short help it lists.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
import typer.main
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

# name -> (module, its Typer (a group) or its command function, the short help `liangshi --help` lists), in the
# order listed.
# tests/cli/test_cli.py checks each entry against the command its module defines.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "kpis": (
        "liangshi.cli.kpis",
        "app",
        "KPIs of an area (numerator, denominator, rate, target) and of each child area / 指标统计.",
    ),
    "stats": (
        "liangshi.cli.stats",
        "app",
        "Statistics of checking and acceptance: Wilson, sample size, acceptance plan, Chapman / 检查验收统计",
    ),
    "inspect": (
        "liangshi.cli.inspections",
        "app",
        "Checking and acceptance: plans, samples, results, rates, rectification / 检查验收",
    ),
    "tables": ("liangshi.cli.tables", "app", "Standard statistical tables (xlsx) / 统计表格"),
    "serve": ("liangshi.cli.serve", "serve", "Serve the API and web app."),
    "campaign": ("liangshi.cli.campaign", "app", "Campaigns, assignments, progress / 采集活动"),
    "import": (
        "liangshi.cli.imports",
        "import_",
        "Bulk-import a department file, or write an empty template (`liangshi import template persons`).",
    ),
    "synth": (
        "liangshi.cli.synth",
        "synth",
        "Build a synthetic Ezhou with labelled defects: department files (--out) and/or a database (--db).",
    ),
    "checks": (
        "liangshi.cli.checks",
        "app",
        "Quality checks: run over an area, findings, dismiss / 质量检查",
    ),
    "plates": ("liangshi.cli.plates", "app", "Door plates: gaps and proposals / 门牌编号检查"),
    "address": ("liangshi.cli.address", "app", "Addresses: parse free text / 地址解析"),
    "venues": ("liangshi.cli.venues", "app", "Hotels and internet cafés / 旅店网吧"),
    "dept": ("liangshi.cli.departments", "app", "Department data exchange / 部门数据交换"),
    "export": ("liangshi.cli.export", "app", "Export the register: Parquet per county / 数据导出"),
    "link": ("liangshi.cli.link", "app", "Record linkage: dedupe, explain, persons / 记录关联"),
    "review": ("liangshi.cli.review", "app", "Review desk: approve or return collected change sets / 审核台"),
    "db": ("liangshi.cli.db", "app", "Database schema / 数据库"),
    "user": ("liangshi.cli.users", "app", "Users / 用户"),
    "audit": ("liangshi.cli.audit", "app", "Audit log / 审计日志"),
    "keys": ("liangshi.cli.keys", "app", "Field encryption keys: generate, rotate, check / 字段加密密钥"),
    "validate": ("liangshi.cli.validate", "app", "Validate input / 校验"),
    "demo": ("liangshi.cli.demo", "app", "Demo data / 演示数据"),
    "areas": ("liangshi.cli.areas", "app", "Areas / 区划"),
    "collect": ("liangshi.cli.collect", "app", "Offline collection: sync an outbox / 离线采集"),
}


def load(name: str) -> click.Command:
    """The command `name` as its module defines it (importing that module and what it uses)."""
    module, attribute, short_help = COMMANDS[name]
    target: Any = getattr(importlib.import_module(module), attribute)
    # Mounted on a root of its own, as `add_typer`/`command` on this app would: no completion options of its own.
    holder = typer.Typer(add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name, help=short_help)
        group = typer.main.get_command(holder)
        assert isinstance(group, TyperGroup)
        command = group.commands[name]
    else:
        holder.command(name)(target)
        command = typer.main.get_command(holder)
    return command


class LazyCommands(TyperGroup):
    """The root group: lists COMMANDS from the table, loads a command's module only when it is invoked."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        # Stand-ins carrying the name and the short help: what the help listing and "did you mean" read.
        for name, (_module, _attribute, short_help) in COMMANDS.items():
            self.commands[name] = TyperCommand(name=name, help=short_help, short_help=short_help)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is not None and name in COMMANDS:
            command = load(name)
        return name, command, rest


app = typer.Typer(
    cls=LazyCommands, help="两实 liangshi: registry of actual population and housing", no_args_is_help=True
)


@app.callback()
def _root() -> None:
    """两实 liangshi: registry of actual population and housing"""


if __name__ == "__main__":
    app()
