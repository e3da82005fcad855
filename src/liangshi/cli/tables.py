"""`liangshi tables`: the standard statistical tables / 统计表格.

liangshi tables population --area 420704001 --on 2026-11-30 --xlsx population.xlsx
liangshi tables population --area 420704001 --json
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from liangshi.cli.common import context_as, database, err, fail, out
from liangshi.errors import LiangshiError
from liangshi.tables import service

app = typer.Typer(help="Standard statistical tables / 统计表格", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """Statistical tables."""


@app.command("population")
def population(
    area: str = typer.Option(..., "--area", help="Area code"),
    on: str | None = typer.Option(None, "--on", help="Day the table is valid on (YYYY-MM-DD, default today)"),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Write the workbook here"),
    lang: str = typer.Option("zh", "--lang", help="zh or en (workbook headers)"),
    as_json: bool = typer.Option(False, "--json", help="Print the table as JSON"),
    user: str | None = typer.Option(None, "--as", help="Act as this user (default: the system operator)"),
) -> None:
    """Population by category × sex × age band per community / 人口统计表."""
    try:
        day = dt.date.fromisoformat(on) if on else None
    except ValueError:
        raise typer.BadParameter(
            f"日期格式须为 YYYY-MM-DD / a date is YYYY-MM-DD: {on}", param_hint="--on"
        ) from None
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, user, "statistical table")
            table = service.population(session, ctx, area_code=area, on=day or ctx.today)
    except LiangshiError as exc:
        raise fail(exc) from None
    if xlsx is not None:
        xlsx.write_bytes(service.population_workbook(table, lang))
        err.print(f"写入 wrote {xlsx} ({len(table['rows'])} rows)")
    if as_json:
        print(json.dumps(table, ensure_ascii=False, indent=2))
        return
    out.print(f"{table['area']['name']} {table['area']['code']} {table['on']}")
    for row in table["rows"]:
        out.print(f"  {row['code']} {row['name']}: {row['total']:,}")
    out.print(f"  合计 total: {table['totals']['total']:,}")
