"""`liangshi export`: the register handed off to a data platform.

liangshi export parquet --area 420700 --out /data/liangshi-2026-12   # masked ID and phone numbers
liangshi export parquet --area 420704 --out DIR --as admin --unmasked --reason "人口普查比对"
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from liangshi.cli.common import context_as, database, err, fail
from liangshi.errors import LiangshiError
from liangshi.exchange import parquet

app = typer.Typer(help="Export the register / 数据导出", no_args_is_help=True)


@app.command("parquet")
def export_parquet(
    area: str = typer.Option(..., "--area", help="Area code: its counties are exported"),
    out: Path = typer.Option(..., "--out", "-o", help="An empty or new directory"),
    as_user: str | None = typer.Option(None, "--as", help="Act as this user (their jurisdiction and role)"),
    unmasked: bool = typer.Option(False, "--unmasked", help="Full ID and phone numbers (needs a reason)"),
    reason: str | None = typer.Option(None, "--reason", help="Why the full numbers are needed"),
    kinds: str | None = typer.Option(None, "--kinds", help="Comma-separated kinds (default: all)"),
    as_json: bool = typer.Option(False, "--json", help="Print the manifest summary as JSON"),
) -> None:
    """Write the register under an area as Parquet, one Hive partition per county / 按区县分区导出 Parquet."""
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip()) if kinds else None
    try:
        with (
            database() as (session, clock),
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,} rows"),
                TimeElapsedColumn(),
                console=err,
            ) as bar,  # fmt: skip
        ):
            task = bar.add_task("导出 exporting", total=None)

            def tick(kind: str, rows: int) -> None:
                bar.update(task, advance=rows, description=f"导出 exporting {kind}")

            ctx = context_as(session, clock, as_user, purpose=reason or "parquet export")
            result = parquet.export_parquet(
                session, ctx, area_code=area, directory=out, unmasked=unmasked, reason=reason,
                kinds=chosen, progress=tick,
            )  # fmt: skip
    except LiangshiError as exc:
        raise fail(exc) from None
    summary = {
        "directory": str(out),
        "masked": result.masked,
        "files": len(result.files),
        "rows": result.rows,
    }
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    for kind, rows in result.rows.items():
        print(f"{kind}: {rows:,}")
    print(f"已写入 written {len(result.files)} files to {out} (manifest.json)")
