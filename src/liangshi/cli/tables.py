"""`liangshi tables`: the standard statistical tables / 统计表格.

liangshi tables population --area 420704001 --on 2026-11-30 --xlsx population.xlsx
liangshi tables population --area 420704001 --json
liangshi tables housing|floating|rentals|venues|progress --area 420704001 [--on DAY] [--xlsx F] [--json]
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from liangshi.cli.common import context_as, database, err, fail, out
from liangshi.config import Settings
from liangshi.db import make_replica, reporting
from liangshi.errors import LiangshiError
from liangshi.tables import service

app = typer.Typer(help="Standard statistical tables / 统计表格", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """Statistical tables."""


def _run(
    name: str, area: str, on: str | None, xlsx: Path | None, lang: str, as_json: bool, user: str | None
) -> None:
    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        raise typer.BadParameter(
            f"日期格式须为 YYYY-MM-DD / a date is YYYY-MM-DD: {on}", param_hint="--on"
        ) from None
    # The reporting replica when LIANGSHI_REPLICA_URL is set: the table is counted there, the user checked here.
    replica = make_replica(Settings())
    try:
        with database() as (session, clock), reporting(session, replica) as (reads, source):
            ctx = context_as(session, clock, user, "statistical table")
            table = service.build(
                session, ctx, name, area_code=area, on=day or ctx.today, reads=reads, source=source
            )
    except LiangshiError as exc:
        raise fail(exc) from None
    finally:
        if replica is not None:
            replica.engine.dispose()
    if source.replica:
        err.print(f"读自只读副本 read from the replica (as of {source.as_of or '?'})")
    elif source.fallback:
        err.print(
            f"只读副本不可用，已改读主库 the replica is unavailable ({source.fallback}): read from the primary"
        )
    if xlsx is not None:
        xlsx.write_bytes(service.workbook(table, lang))
        err.print(f"写入 wrote {xlsx} ({len(table['rows'])} rows)")
    if as_json:
        print(json.dumps(table, ensure_ascii=False, indent=2))
        return
    out.print(f"{table['title']} {table['area']['name']} {table['area']['code']} {table['on']}")
    for row in table["rows"]:
        figure = row["total"] if row["total"] is not None else row["values"][0]
        out.print(f"  {row['code']} {row['name']}: {figure:,}")
    figure = table["totals"]["total"]
    out.print(f"  合计 total: {(figure if figure is not None else table['totals']['values'][0]):,}")


def _command(name: str, title: str, title_en: str) -> None:
    """Register `liangshi tables <name>` (the same options for every table)."""

    def command(
        area: str = typer.Option(..., "--area", help="Area code"),
        on: str | None = typer.Option(
            None, "--on", help="Day the table is valid on (YYYY-MM-DD, default today)"
        ),
        xlsx: Path | None = typer.Option(None, "--xlsx", help="Write the workbook here"),
        lang: str = typer.Option("zh", "--lang", help="zh or en (workbook headers)"),
        as_json: bool = typer.Option(False, "--json", help="Print the table as JSON"),
        user: str | None = typer.Option(None, "--as", help="Act as this user (default: the system operator)"),
    ) -> None:
        _run(name, area, on, xlsx, lang, as_json, user)

    command.__doc__ = f"{title_en} / {title}."
    app.command(name)(command)


for _name, (_builder, _zh, _en) in service.TABLES.items():
    _command(_name, _zh, _en)
