"""`liangshi areas load`: load areas from a gazetteer CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import typer

from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.cli.common import database, err, fail, out
from liangshi.errors import LiangshiError
from liangshi.registry import Context

app = typer.Typer(help="Areas / 区划", no_args_is_help=True)


@app.command("load")
def areas_load(file: Path = typer.Argument(..., help="CSV with code,name,level,parent")) -> None:
    """Load areas from a CSV in the format of Ezhou's gazetteer."""
    try:
        with file.open(encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]file.unreadable[/red]: {exc}")
        raise typer.Exit(2) from None
    try:
        with database() as (session, clock):
            ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="gazetteer")
            added = areas.load_gazetteer(session, ctx, rows)
    except LiangshiError as exc:
        raise fail(exc) from None
    out.print(f"新增区划 / areas added: {added}")
