"""`liangshi kpis`: the dashboard's KPIs of an area and period, printed or written to an xlsx workbook.

liangshi kpis --area 420704 --from 2026-01-01 --to 2026-11-30
liangshi kpis --area 420700 --from 2026-01-01 --to 2026-11-30 --xlsx kpis.xlsx --lang en
liangshi kpis --area 420700 --from 2026-03-01 --to 2026-08-31 --live   # count from the registry tables alone
liangshi kpis objects floating_deregistration --area 420704 --from 2026-01-01 --to 2026-11-30 --part missing
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.table import Table

from liangshi.access.service import SYSTEM
from liangshi.cli.common import database, err, fail, out
from liangshi.errors import LiangshiError
from liangshi.kpis import objects as kpi_objects
from liangshi.kpis import service
from liangshi.registry import Context

app = typer.Typer(no_args_is_help=False, invoke_without_command=True)


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"日期格式须为 YYYY-MM-DD / a date is YYYY-MM-DD: {value}", param_hint=option
        ) from None


@app.callback(invoke_without_command=True)
def kpis(
    typer_ctx: typer.Context,
    area: str | None = typer.Option(None, "--area", help="Area code (city, district, township or community)"),
    date_from: str | None = typer.Option(None, "--from", help="First day of the period (YYYY-MM-DD)"),
    date_to: str | None = typer.Option(None, "--to", help="Last day of the period (YYYY-MM-DD)"),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Also write the workbook (one sheet per level)"),
    lang: str = typer.Option("zh", "--lang", help="zh or en (workbook headers and KPI names)"),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
    live: bool = typer.Option(
        False, "--live", help="Count residences and stays from the registry tables, not the daily aggregate"
    ),
) -> None:
    """KPIs of an area (numerator, denominator, rate, target) and of each child area / 指标统计.

    `liangshi kpis objects KEY …` lists the objects behind one KPI's numerator, denominator or gap."""
    if typer_ctx.invoked_subcommand is not None:
        return
    for value, option in ((area, "--area"), (date_from, "--from"), (date_to, "--to")):
        if value is None:
            raise typer.BadParameter(f"必填 / required: {option}", param_hint=option)
    assert area is not None and date_from is not None and date_to is not None
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    try:
        with database() as (session, clock), out.status("计算指标 computing KPIs …"):
            ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="kpi report")
            report = service.compute(session, ctx, area_code=area, date_from=start, date_to=end, live=live)
            body = service.workbook(report, lang) if xlsx is not None else None
    except LiangshiError as exc:
        raise fail(exc) from None
    if xlsx is not None and body is not None:
        xlsx.write_bytes(body)
        err.print(f"写入 wrote {xlsx} ({len(report.levels())} sheets)")
    data = report.to_json()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, default=str, indent=2))
        return
    en = lang == "en"
    table = Table(title=f"{report.root.name} {report.root.code}  {start} – {end}")
    for col in ("KPI" if en else "指标", "numerator" if en else "分子", "denominator" if en else "分母"):
        table.add_column(col, justify="left" if col in ("KPI", "指标") else "right")
    table.add_column("rate" if en else "比率", justify="right")
    table.add_column("target" if en else "目标", justify="right")
    for k in data["kpis"]:
        rate = "—" if k["rate"] is None else f"{k['rate']:.2%}"
        target = "" if k["target"] is None else f"{k['target']:.0%}"
        table.add_row(
            k["label_en"] if en else k["label_zh"],
            f"{k['numerator']:,}",
            f"{k['denominator']:,}",
            rate,
            target,
        )
    out.print(table)


@app.command("objects")
def objects(
    key: str = typer.Argument(..., help="KPI key, e.g. floating_deregistration (see `liangshi kpis --json`)"),
    area: str = typer.Option(..., "--area", help="Area code"),
    date_from: str = typer.Option(..., "--from", help="First day of the period (YYYY-MM-DD)"),
    date_to: str = typer.Option(..., "--to", help="Last day of the period (YYYY-MM-DD)"),
    part: str = typer.Option("missing", "--part", help="numerator, denominator or missing (the gap to fix)"),
    page: int = typer.Option(1, "--page", help="Page, from 1"),
    page_size: int = typer.Option(kpi_objects.PAGE_SIZE, "--page-size", help="Rows per page (at most 500)"),
    as_json: bool = typer.Option(False, "--json", help="Print the page as JSON"),
    lang: str = typer.Option("zh", "--lang", help="zh or en"),
) -> None:
    """The objects behind a KPI's numerator, denominator or gap / 指标对象清单 (ID numbers masked, audited)."""
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    try:
        with database() as (session, clock):
            ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="kpi objects")
            data = kpi_objects.objects(
                session,
                ctx,
                key,
                area_code=area,
                date_from=start,
                date_to=end,
                part=part,
                page=page,
                page_size=page_size,
            )
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        print(json.dumps(data, ensure_ascii=False, default=str, indent=2))
        return
    en = lang == "en"
    table = Table(
        title=f"{data['label_en'] if en else data['label_zh']} · {part} · {area} {start} – {end} "
        f"({data['total']:,}; {data['page']}/{data['pages']})"
    )
    for col in (
        ("kind", "id", "name", "document", "address / venue")
        if en
        else ("类别", "编号", "姓名", "证件", "地址")
    ):
        table.add_column(col)
    for item in data["items"]:
        doc = item.get("document") or {}
        table.add_row(
            str(item["kind_en"] if en else item["kind_zh"]),
            str(item["id"]),
            str(item.get("name") or ""),
            str(doc.get("number") or ""),
            str(item.get("address") or item.get("venue_id") or ""),
        )
    out.print(table)
