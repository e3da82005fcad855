"""`liangshi db`: bring the schema up to date, fold the KPI deltas."""

from __future__ import annotations

import typer
from sqlalchemy import func, select

from liangshi import migrate
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.cli.common import database, out
from liangshi.common.codes import ezhou_areas
from liangshi.config import Settings
from liangshi.db import make_engine
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
