"""`liangshi inspect`: inspection plans, their samples, results, rates and rectification items / 检查验收.

liangshi inspect plan --area 420704001 --name "2026年11月检查验收" --seed 20261101 --as inspector_zhao
liangshi inspect show 1
liangshi inspect sample 1 --json
liangshi inspect redraw 1
liangshi inspect result 1 HOUSEHOLD_ID --registered 3 --present 3 --main 3 --general 2 --as inspector_zhao
liangshi inspect rates 1
liangshi inspect notices
liangshi inspect fix ITEM_ID --as collector_zhang
liangshi inspect reinspect ITEM_ID --passed --as inspector_zhao
liangshi inspect oc 1 --community 420704001001 --json
liangshi inspect trends --area 420704001 --from 2026-01-01 --to 2026-11-30 --json
liangshi inspect scores --area 420704001 --from 2026-11-01 --to 2026-11-30 [--sheet scoring.toml] [--xlsx F]
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.table import Table

from liangshi.areas import service as areas
from liangshi.cli.common import context_as, database, err, fail, out
from liangshi.errors import LiangshiError, NotFound, ValidationFailed
from liangshi.inspections import rules, service
from liangshi.inspections.schemas import (
    BandCount,
    LotRead,
    PlanCreate,
    PlanRead,
    RectificationRead,
    ResultCreate,
)

app = typer.Typer(
    help="Checking and acceptance: plans, samples, results, rates / 检查验收", no_args_is_help=True
)

AS_USER = typer.Option(None, "--as", help="Act as this user (default: the system operator)")
AS_JSON = typer.Option(False, "--json", help="Print JSON")


def _dump(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str, indent=2))


@app.command("plan")
def plan(
    area: str = typer.Option(..., "--area", help="Area code (a subdistrict, township or community)"),
    name: str = typer.Option(..., "--name", help="Name of the inspection"),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the draw (default: a fresh one, stored)"),
    margin: float = typer.Option(0.05, "--margin", help="Margin wanted per community"),
    p: float = typer.Option(0.95, "--p", help="Expected rate"),
    aql: float = typer.Option(0.02, "--aql", help="Acceptable quality level (defective households)"),
    lq: float = typer.Option(0.10, "--lq", help="Limiting quality"),
    alpha: float = typer.Option(0.05, "--alpha", help="Producer's risk"),
    beta: float = typer.Option(0.10, "--beta", help="Consumer's risk"),
    model: str = typer.Option("auto", "--model", help="auto, binomial or hypergeometric"),
    rectify_days: int = typer.Option(10, "--rectify-days", help="Working days to rectify"),
    user: str | None = AS_USER,
    as_json: bool = AS_JSON,
) -> None:
    """Draw a stratified sample of households per community with each lot's acceptance plan / 抽样."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, user, "inspection plan")
            found = areas.by_code(session, area)
            if found is None:
                raise NotFound(
                    "area.not_found", "未找到该区划", "Area not found", {"field": "area", "code": area}
                )
            data = PlanCreate.model_validate(
                {
                    "area_id": found.id,
                    "name": name,
                    "seed": seed,
                    "margin": margin,
                    "expected_rate": p,
                    "aql": aql,
                    "lq": lq,
                    "alpha": alpha,
                    "beta": beta,
                    "model": model,
                    "rectify_days": rectify_days,
                }
            )
            read = service.create_plan(session, ctx, data)
    except LiangshiError as exc:
        raise fail(exc) from None
    _show(read.model_dump(), as_json)


def _show(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        _dump(data)
        return
    table = Table(title=f"#{data['id']} {data['name']}  {data['area_code']}  种子 seed {data['seed']}")
    for col in (
        "社区 community",
        "户数 lot",
        "样本 sample",
        "n (FPC)",
        "n (plan)",
        "Ac",
        "模型 model",
        "已查 done",
        "差错 defects",
        "结论 decision",
    ):
        table.add_column(col)
    for lot in data["lots"]:
        table.add_row(
            f"{lot['community_name']} {lot['community_code']}",
            str(lot["households"]),
            str(lot["sample_size"]),
            str(lot["estimate_n"]),
            str(lot["plan_n"]),
            str(lot["ac"]),
            lot["model"],
            str(lot["inspected"]),
            str(lot["defects"]),
            lot["decision"] or "—",
        )
    out.print(table)


@app.command("show")
def show(plan_id: int, user: str | None = AS_USER, as_json: bool = AS_JSON) -> None:
    """A plan's lots: sample size, (n, Ac), progress and decision / 方案."""
    try:
        with database() as (session, clock):
            read = service.plan_read(session, context_as(session, clock, user), plan_id)
    except LiangshiError as exc:
        raise fail(exc) from None
    _show(read.model_dump(), as_json)


@app.command("sample")
def sample(plan_id: int, user: str | None = AS_USER, as_json: bool = AS_JSON) -> None:
    """The households drawn / 样本户."""
    try:
        with database() as (session, clock):
            rows = service.sample_of(session, context_as(session, clock, user), plan_id)
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        _dump([r.model_dump() for r in rows])
        return
    table = Table(title=f"样本户 sampled households ({len(rows)})")
    for col in ("社区 community", "户 household", "户号 number", "人数 members", "已查 inspected"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r.community_code,
            str(r.household_id),
            r.household_number or "",
            str(r.members),
            "✓" if r.inspected else "",
        )
    out.print(table)


@app.command("redraw")
def redraw(plan_id: int, user: str | None = AS_USER) -> None:
    """Draw the sample again from the stored seed and compare / 复现抽样."""
    try:
        with database() as (session, clock):
            result = service.redraw(session, context_as(session, clock, user), plan_id)
    except LiangshiError as exc:
        raise fail(exc) from None
    _dump(result)
    if not result["same"]:
        raise typer.Exit(1)


@app.command("result")
def result(
    plan_id: int,
    household_id: int,
    registered: int = typer.Option(..., "--registered", help="Persons the register lists there"),
    present: int = typer.Option(..., "--present", help="Of them, found living there"),
    main: int = typer.Option(..., "--main", help="Of those present, with the main items right"),
    general: int = typer.Option(
        ..., "--general", help="Of those present, with the general items complete and right"
    ),
    general_wrong: int | None = typer.Option(
        None,
        "--general-wrong",
        help="General items missing or wrong over the persons present (needed when --general is below --present)",
    ),
    floating_found: int = typer.Option(0, "--floating-found", help="Floating persons found living there"),
    floating_registered: int = typer.Option(
        0, "--floating-registered", help="Of them, registered (declared or collected)"
    ),
    floating_entered: int | None = typer.Option(
        None, "--floating-entered", help="Of those registered, entered in the system"
    ),
    floating_right: int = typer.Option(0, "--floating-right", help="Of those entered, with main items right"),
    missed: int = typer.Option(0, "--missed", help="Persons living there whom the register does not list"),
    unconfirmed: int = typer.Option(
        0, "--unconfirmed", help="Of the registered not found, those whose departure could not be confirmed"
    ),
    band: list[str] = typer.Option(
        [],
        "--band",
        help="Persons of an age band (0-17, 18-34, 35-59, 60+, unknown) as BAND:REGISTERED:PRESENT:MISSED "
        "(e.g. 18-34:2:2:0), repeated per band; the bands add up to the totals",
    ),
    count_matches: bool = typer.Option(True, "--count-matches/--count-differs", help="Member count matches"),
    note: str | None = typer.Option(None, "--note"),
    user: str | None = AS_USER,
    as_json: bool = AS_JSON,
) -> None:
    """Record what was found at a sampled household / 录入抽查结果."""
    try:
        with database() as (session, clock):
            data = ResultCreate(
                persons_registered=registered,
                persons_present=present,
                main_right=main,
                general_right=general,
                general_items_wrong=general_wrong,
                floating_found=floating_found,
                floating_registered=floating_registered,
                floating_entered=floating_entered,
                floating_right=floating_right,
                persons_missed=missed,
                persons_unconfirmed=unconfirmed,
                count_matches=count_matches,
                note=note,
                bands=_bands(band) if band else None,
            )
            read = service.record_result(
                session, context_as(session, clock, user, "inspection"), plan_id, household_id, data
            )
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        _dump(read.model_dump())
    else:
        out.print(f"已录入 recorded #{read.id}  {'差错 defective' if read.defective else '合格 conforming'}")


# The target read statistically (rules.target_reading).
READINGS = {
    "met": ("达标（下限达到目标）", "met (lower bound reaches it)"),
    "missed": ("未达标（上限低于目标）", "missed (upper bound below it)"),
    "undecided": ("未能判定（区间含目标）", "undecided (interval holds it)"),
}


def _bands(given: list[str]) -> list[BandCount]:
    """`--band BAND:REGISTERED:PRESENT:MISSED` as the result's age bands (the service checks that they add up)."""
    bands = []
    for text in given:
        parts = text.split(":")
        try:
            if len(parts) != 4 or not all(p.isdigit() for p in parts[1:]):
                raise ValueError(text)
            bands.append(
                BandCount(
                    age_band=parts[0],
                    persons_registered=int(parts[1]),
                    persons_present=int(parts[2]),
                    persons_missed=int(parts[3]),
                )
            )
        except (ValueError, ValidationError):
            raise fail(
                ValidationFailed(
                    "inspection.band_format",
                    "年龄段须写作 年龄段:登记:在住:漏登，年龄段为 0-17、18-34、35-59、60+ 或 unknown，"
                    f"如 18-34:2:2:0（收到 {text!r}）",
                    f"An age band is written BAND:REGISTERED:PRESENT:MISSED with BAND one of 0-17, 18-34, 35-59, "
                    f"60+, unknown, e.g. 18-34:2:2:0 (got {text!r})",
                    {"field": "band", "value": text},
                )
            ) from None
    return bands


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"


@app.command("rates")
def rates(
    plan_id: int,
    user: str | None = AS_USER,
    as_json: bool = AS_JSON,
    lang: str = typer.Option("zh", "--lang"),
) -> None:
    """The five sample-based rates with Wilson 95 % intervals / 抽查指标."""
    try:
        with database() as (session, clock):
            report = service.rates(session, context_as(session, clock, user), plan_id)
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        _dump(
            {
                "plan_id": plan_id,
                "overall": [r.model_dump() for r in report["overall"]],
                "lots": [{**lot, "rates": [r.model_dump() for r in lot["rates"]]} for lot in report["lots"]],
            }
        )
        return
    en = lang == "en"
    table = Table(
        title=f"#{plan_id} " + ("rates (all communities, weighted)" if en else "抽查指标（分层加权汇总）")
    )
    for col in (
        "rate" if en else "指标",
        "x/n",
        "rate" if en else "比率",
        "95 % CI",
        "households" if en else "户数",
        "target" if en else "目标",
        "reading" if en else "达标判读",
    ):
        table.add_column(col)
    for r in report["overall"]:
        met = "—" if r.target_reading is None else READINGS[r.target_reading][1 if en else 0]
        table.add_row(
            r.label_en if en else r.label_zh,
            f"{r.x}/{r.n}",
            _pct(r.rate),
            f"[{_pct(r.low)}, {_pct(r.high)}]",
            str(r.households),
            f"{r.target:.0%}",
            met,
        )
    out.print(table)


@app.command("collectors")
def collectors(plan_id: int, user: str | None = AS_USER, as_json: bool = AS_JSON) -> None:
    """Defects per collector with Wilson intervals / 采集员差错率."""
    try:
        with database() as (session, clock):
            rows = service.accountability(session, context_as(session, clock, user), plan_id)
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        _dump(rows)
        return
    table = Table(title=f"#{plan_id} 采集员差错率 defects per collector")
    for col in (
        "采集员 collector",
        "已查户 inspected",
        "差错户 defective",
        "差错率 rate",
        "95 % CI",
        "主项差错人 main wrong",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["collector"] or "—",
            str(r["inspected"]),
            str(r["defective"]),
            _pct(r["defect_rate"]),
            f"[{_pct(r['low'])}, {_pct(r['high'])}]",
            str(r["main_wrong"]),
        )
    out.print(table)


@app.command("coverage")
def coverage(
    plan_id: int,
    user: str | None = AS_USER,
    by_housing: bool = typer.Option(False, "--by-housing", help="Post-strata: area × housing type"),
    by_age: bool = typer.Option(False, "--by-age", help="Post-strata: area × housing type × age band"),
) -> None:
    """People the register missed: Chapman per community (or community × housing type [× age band]), summed /
    漏登人口估计."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, user)
            estimate = (
                service.coverage_by_age
                if by_age
                else service.coverage_by_housing
                if by_housing
                else service.coverage
            )
            result = estimate(session, ctx, plan_id)
    except LiangshiError as exc:
        raise fail(exc) from None
    _dump(result)


@app.command("notices")
def notices(
    user: str | None = AS_USER, all_items: bool = typer.Option(False, "--all"), as_json: bool = AS_JSON
) -> None:
    """The 通报 list: open and overdue rectification items / 整改通报."""
    try:
        with database() as (session, clock):
            items = service.notices(session, context_as(session, clock, user), only_open=not all_items)
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        _dump([i.model_dump() for i in items])
        return
    table = Table(title=f"整改通报 rectification notices ({len(items)})")
    for col in ("#", "社区 community", "户 household", "责任人 owner", "期限 due", "状态 status"):
        table.add_column(col)
    for i in items:
        status = f"{i.status}{' 逾期 overdue' if i.overdue else ''}"
        table.add_row(
            str(i.id), i.community_code, str(i.household_id or ""), i.owner or "", str(i.due_on), status
        )
    out.print(table)


def _item_done(read: RectificationRead, as_json: bool, zh: str, en: str) -> None:
    if as_json:
        _dump(read.model_dump())
        return
    status = {"open": "待整改 open", "fixed": "待复查 awaiting re-inspection", "closed": "已关闭 closed"}
    overdue = " 逾期 overdue" if read.overdue else ""
    out.print(
        f"{zh} {en} #{read.id}  期限 due {read.due_on}  {status.get(read.status, read.status)}{overdue}"
    )


@app.command("fix")
def fix(item_id: int, user: str | None = AS_USER, as_json: bool = AS_JSON) -> None:
    """Report a rectification item rectified; it then waits for its re-inspection / 报告整改完成."""
    try:
        with database() as (session, clock):
            read = service.fix_rectification(
                session, context_as(session, clock, user, "rectification"), item_id
            )
    except LiangshiError as exc:
        raise fail(exc) from None
    _item_done(read, as_json, "已报告整改", "reported rectified")


@app.command("reinspect")
def reinspect(
    item_id: int,
    passed: bool = typer.Option(
        ..., "--passed/--failed", help="The re-inspection passed (closes the item) or failed (opens it again)"
    ),
    user: str | None = AS_USER,
    as_json: bool = AS_JSON,
) -> None:
    """Re-inspect a rectified item: closed when it passes, open again when not / 复查."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, user, "reinspection")
            read = service.reinspect(session, ctx, item_id, passed=passed)
    except LiangshiError as exc:
        raise fail(exc) from None
    if passed:
        _item_done(read, as_json, "复查通过", "re-inspection passed")
    else:
        _item_done(read, as_json, "复查未通过", "re-inspection failed")


def _oc_lot(lot: LotRead, curve: list[tuple[float, float]]) -> dict[str, Any]:
    return {
        "lot_id": lot.id,
        "community_code": lot.community_code,
        "community_name": lot.community_name,
        "households": lot.households,
        "sample_size": lot.sample_size,
        "n": lot.plan_n,
        "ac": lot.ac,
        "model": lot.model,
        "accept_at_aql": lot.accept_at_aql,
        "accept_at_lq": lot.accept_at_lq,
        "producer_risk": 1.0 - lot.accept_at_aql,
        "consumer_risk": lot.accept_at_lq,
        "curve": [{"p": p, "accept": a} for p, a in curve],
    }


def _oc_table(plan: PlanRead, lot: dict[str, Any]) -> Table:
    table = Table(
        title=(
            f"#{plan.id} {lot['community_name']} {lot['community_code']}  OC 抽检特性曲线  "
            f"N={lot['households']} n={lot['n']} Ac={lot['ac']} ({lot['model']})"
        )
    )
    for col in ("缺陷率 defect rate", "接收概率 P(accept)", ""):
        table.add_column(col, justify="right" if col else "left")
    # The AQL and the LQ as the plan states them, with the risks the lot's plan gives there, among the curve's
    # points (at the AQL the hypergeometric model counts ⌈AQL·N⌉ defective households, as the plan was derived).
    marks = [
        (
            plan.aql,
            lot["accept_at_aql"],
            f"AQL 生产方风险 producer's risk α = {lot['producer_risk']:.2%} (方案 plan ≤ {100 * plan.alpha:g}%)",
        ),
        (
            plan.lq,
            lot["accept_at_lq"],
            f"LQ 使用方风险 consumer's risk β = {lot['consumer_risk']:.2%} (方案 plan ≤ {100 * plan.beta:g}%)",
        ),
    ]
    rows = {round(x["p"], 12): (x["accept"], "") for x in lot["curve"]}
    rows.update({round(p, 12): (a, mark) for p, a, mark in marks})
    for p in sorted(rows):
        accept, mark = rows[p]
        table.add_row(f"{p:.2%}", f"{accept:.4f}", mark, style="bold" if mark else None)
    return table


@app.command("oc")
def oc(
    plan_id: int,
    community: str | None = typer.Option(None, "--community", help="Only this community's lot (its code)"),
    user: str | None = AS_USER,
    as_json: bool = AS_JSON,
) -> None:
    """Each lot's operating characteristic: P(accept) against the defect rate, with the AQL and LQ marked /
    抽检特性曲线."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, user)
            plan = service.plan_read(session, ctx, plan_id)
            lots = [lot for lot in plan.lots if community is None or lot.community_code == community]
            if community is not None and not lots:
                raise NotFound(
                    "inspection.lot_not_found",
                    "未找到该检查批",
                    "Lot not found",
                    {"field": "community", "plan_id": plan_id, "community": community},
                )
            shown = [_oc_lot(lot, service.oc_curve(session, ctx, plan_id, lot.id)) for lot in lots]
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        _dump(
            {
                "plan_id": plan.id,
                "aql": plan.aql,
                "lq": plan.lq,
                "alpha": plan.alpha,
                "beta": plan.beta,
                "lots": shown,
            }
        )
        return
    if not shown:
        out.print(f"#{plan.id} 无检查批 no lots")
    for lot in shown:
        out.print(_oc_table(plan, lot))


def _date(value: str, hint: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"日期格式须为 YYYY-MM-DD / a date is YYYY-MM-DD: {value}", param_hint=hint
        ) from None


@app.command("scores")
def scores(
    area: str = typer.Option(..., "--area", help="Area code"),
    date_from: str = typer.Option(..., "--from", help="First day of the period (YYYY-MM-DD)"),
    date_to: str = typer.Option(..., "--to", help="Last day of the period (YYYY-MM-DD)"),
    sheet: Path | None = typer.Option(None, "--sheet", help="Scoring sheet, TOML or JSON (default weights)"),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Write the scores as xlsx here"),
    lang: str = typer.Option("zh", "--lang", help="zh or en (workbook headers)"),
    user: str | None = AS_USER,
    as_json: bool = AS_JSON,
) -> None:
    """Each collector's period: defects traced to them, rates, score, 奖惩 lists / 采集员考核."""
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    try:
        chosen = None
        if sheet is not None:
            fmt = "json" if sheet.suffix.lower() == ".json" else "toml"
            chosen = rules.parse_sheet(sheet.read_text(encoding="utf-8"), fmt)
        with database() as (session, clock):
            ctx = context_as(session, clock, user)
            report = service.collector_report(
                session, ctx, area_code=area, date_from=start, date_to=end, sheet=chosen
            )
    except LiangshiError as exc:
        raise fail(exc) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--sheet") from None
    if xlsx is not None:
        xlsx.write_bytes(service.report_workbook(report, lang))
        err.print(f"写入 wrote {xlsx} ({len(report['collectors'])} collectors)")
    if as_json:
        _dump(report)
        return
    period = f"{report['from']}–{report['to']}"
    table = Table(title=f"{report['area']['name']} {period} 采集员考核 ({report['sheet']['name']})")
    columns = (
        "采集员 collector",
        "录入 records",
        "抽查差错 defects",
        "退回 returns",
        "逻辑错误 errors",
        "得分 score",
    )
    for col in (*columns, "奖惩"):
        table.add_column(col)
    for r in report["collectors"]:
        c, insp, rev = r["counts"], r["inspection"], r["review"]
        table.add_row(
            r["collector"],
            str(c.get("record", 0)),
            "—" if insp is None else f"{insp['x']}/{insp['n']} [{_pct(insp['low'])}, {_pct(insp['high'])}]",
            "—" if rev is None else f"{rev['x']}/{rev['n']}",
            str(c.get("finding", 0) + c.get("duplicate", 0)),
            f"{r['score']['total']:g}",
            {"reward": "奖 reward", "penalty": "惩 penalty"}.get(r["verdict"] or "", ""),
        )
    out.print(table)


@app.command("trends")
def trends(
    area: str = typer.Option(..., "--area", help="Area code"),
    date_from: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD)"),
    date_to: str = typer.Option(..., "--to", help="Last day (YYYY-MM-DD)"),
    user: str | None = AS_USER,
    as_json: bool = AS_JSON,
) -> None:
    """The sample-based rates month by month, with intervals and the target read statistically / 逐月抽查指标."""
    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    try:
        with database() as (session, clock):
            report = service.monthly_rates(
                session, context_as(session, clock, user), area_code=area, date_from=start, date_to=end
            )
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        _dump(report)
        return
    table = Table(title=f"{area} 逐月抽查指标 sample-based rates by month")
    table.add_column("指标 rate")
    for month in report["months"]:
        table.add_column(month)
    for r in report["rates"]:
        cells = []
        for x in r["points"]:
            met = {"met": " ✓", "missed": " ✗", "undecided": " ?"}.get(x["target_reading"] or "", "")
            cells.append("—" if x["rate"] is None else f"{_pct(x['rate'])} {x['households']}户/hh{met}")
        table.add_row(r["label_zh"], *cells)
    out.print(table)
