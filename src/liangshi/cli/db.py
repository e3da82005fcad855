"""`liangshi db`: bring the schema up to date, fold the KPI deltas, back up and restore."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from sqlalchemy import func, select

from liangshi import backup, migrate
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.audit import service as audit
from liangshi.cli.common import database, err, fail, out
from liangshi.common.codes import ezhou_areas
from liangshi.config import Settings
from liangshi.db import make_engine
from liangshi.errors import LiangshiError
from liangshi.kpis import daily
from liangshi.kpis.models import KpiDaily
from liangshi.registry import Context

app = typer.Typer(help="Database schema / 数据库", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Bring the schema up to date and load Ezhou's areas (idempotent)."""
    settings = Settings()
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine, revision)
    engine.dispose()
    with database() as (session, clock):
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="gazetteer")
        added = areas.load_gazetteer(session, ctx, ezhou_areas())
    out.print(
        f"数据库已升级 / database upgraded ({settings.database_url.split('://')[0]}); 新增区划 areas added: {added}"
    )


@app.command("kpi-daily")
def db_kpi_daily(
    rebuild: bool = typer.Option(False, "--rebuild", help="Rebuild the aggregate from the registry tables"),
) -> None:
    """Fold the KPI deltas into the daily aggregate (rebuild it if its triggers are missing) / 指标日汇总."""
    with database() as (session, _):
        if rebuild:
            daily.install(session)
            done = "rebuilt"
        else:
            done = daily.maintain(session)
        rows = session.execute(select(func.count()).select_from(KpiDaily)).scalar_one()
    label = {"rebuilt": "已重建 rebuilt", "compacted": "已归并 folded"}[done]
    out.print(f"指标日汇总 KPI daily aggregate: {label}; {rows:,} rows")


@app.command("backup")
def db_backup(target: Path = typer.Argument(..., help="Backup file to write / 备份文件")) -> None:
    """Back up the database while it runs: SQLite's online backup, PostgreSQL's pg_dump (custom format) / 备份."""
    settings = Settings()
    try:
        size = backup.backup(settings.database_url, target)
    except LiangshiError as exc:
        raise fail(exc) from exc
    out.print(f"已备份 / backed up: {target} ({size:,} bytes)")


def _published_head(path: Path) -> audit.Head:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None  # refused below as not a head
    return audit.Head.from_json(data)


@app.command("restore")
def db_restore(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, help="Backup file / 备份文件"),
    yes: bool = typer.Option(False, "--yes", help="Replace the database without asking / 不再确认"),
    head: Path | None = typer.Option(None, "--head", help="A signed audit head published before the backup"),
) -> None:
    """Replace the database with a backup, then verify the audit log; exit 1 if it is not intact / 恢复."""
    settings = Settings()
    if not yes:
        typer.confirm("这会覆盖当前数据库 / this replaces the current database. Continue?", abort=True)
    try:
        published = _published_head(head) if head is not None else None
        backup.restore(settings.database_url, source)
        ring = audit.load_keys(settings, create=True)
        with database() as (session, clock):
            result = audit.verify(session, keys=ring, head=published, now=clock.now())
    except LiangshiError as exc:
        raise fail(exc) from exc
    out.print(f"已恢复 / restored from {source}")
    if not result.ok:
        for p in result.problems[:20]:
            err.print(f"[red]{p}[/red]")
        err.print("[red]恢复后审计日志校验失败 / the audit log does not verify after the restore[/red]")
        raise typer.Exit(1)
    out.print(
        f"[green]审计日志完整 / audit log intact[/green]: {result.entries} entries, root {result.root_hash}"
    )
