"""The leaders' dashboard: the KPIs of an area and period with numerator and denominator, drill-down, xlsx."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from liangshi.areas import service as areas
from liangshi.clock import CHINA_TZ
from liangshi.db import ReadSource, reporting
from liangshi.inspections import service as inspections
from liangshi.kpis import objects as kpi_objects_service
from liangshi.kpis import rules
from liangshi.kpis import service as kpis
from liangshi.web import i18n
from liangshi.web.i18n import N_
from liangshi.web.nav import NavItem, add_nav
from liangshi.web.pages import read_source, web_router
from liangshi.web.pages.places import script_json
from liangshi.web.render import render
from liangshi.web.session import Page, page

router = web_router()
add_nav(NavItem("/web/dashboard", N_("Dashboard"), "kpi.read", order=30))

# The rates shown side by side for each child area in the drill-down table (counts stay on the area's own card).
DRILL_KEYS = (
    "plate_installation",
    "rental_registration",
    "rental_agreement",
    "floating_timeliness",
    "floating_deregistration",
    "venue_realtime",
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report(
    request: Request,
    p: Page,
    area: str | None,
    date_from: dt.date | None,
    date_to: dt.date | None,
    reads: Session,
    source: ReadSource,
) -> kpis.Report:
    start, end = kpis.default_period(date_from, date_to, p.ctx.today)
    return kpis.compute_cached(
        p.session,
        p.ctx,
        request.app.state.kpi_cache,
        area_code=area,
        date_from=start,
        date_to=end,
        reads=reads,
        source=source,
    )


def _label(k: dict[str, Any], en: bool) -> str:
    return str(k["label_en"] if en else k["label_zh"])


def _trend_chart(trend: dict[str, Any], sample: dict[str, Any] | None, en: bool) -> dict[str, Any]:
    """The monthly lines: every register rate, and each sample-based rate where a month had a sample."""

    def pct(v: float | None) -> float | None:
        return None if v is None else round(v * 100, 2)

    lines = [
        {"name": r["label_en"] if en else r["label_zh"], "data": [pct(x["rate"]) for x in r["points"]]}
        for r in trend["rates"]
    ]
    if sample is not None:
        by_month = {m: i for i, m in enumerate(trend["months"])}
        for r in sample["rates"]:
            data: list[float | None] = [None] * len(trend["months"])
            for x in r["points"]:
                if x["month"] in by_month:
                    data[by_month[x["month"]]] = pct(x["rate"])
            if any(v is not None for v in data):
                lines.append({"name": r["label_en"] if en else r["label_zh"], "data": data, "dashed": True})
    return {"months": trend["months"], "lines": lines}


@router.get("/dashboard")
def dashboard(
    request: Request,
    area: str | None = Query(None, max_length=15),
    date_from: dt.date | None = Query(None, alias="from"),
    date_to: dt.date | None = Query(None, alias="to"),
) -> Response:
    """The KPIs of an area (default: the user's own) for a period, with the same KPIs for each child area."""
    with page(request) as p, reporting(p.session, request.app.state.replica) as (reads, source):
        report = _report(request, p, area, date_from, date_to, reads, source)
        en = i18n.short(p.lang) == "en"
        root = report.root
        crumbs = [
            {"code": line.code, "name": line.name}
            for line in areas.cached_lineage(p.session, root.id, p.ctx.today)
            if p.ctx.actor.covers_path(line.path)
        ]
        period = {"from": report.date_from.isoformat(), "to": report.date_to.isoformat()}
        own = report.kpis(root.id)
        for k in own:
            k["label"] = _label(k, en)
        rates = [k for k in own if not k["is_count"]]
        counts = [k for k in own if k["is_count"]]
        children = []
        for child in report.children(root.id):
            values = {k["key"]: k for k in report.kpis(child.id)}
            children.append(
                {
                    "code": child.code,
                    "name": child.name,
                    "link": "/web/dashboard?" + urlencode({"area": child.code, **period}),
                    "values": [values[key] for key in DRILL_KEYS],
                    "residents": values[rules.CATEGORY_KEYS[0]]["denominator"],
                }
            )
        chart = {
            "labels": [k["label"] for k in rates],
            "rates": [None if k["rate"] is None else round(k["rate"] * 100, 2) for k in rates],
            "targets": [None if k["target"] is None else k["target"] * 100 for k in rates],
            "gauge": {
                "label": rates[0]["label"],
                "value": None if rates[0]["rate"] is None else round(rates[0]["rate"] * 100, 2),
                # An empty denominator is said in words, never "NaN%" or "0/0".
                "empty": p.gettext("nothing to count"),
            },
            "categories": [{"name": k["label"], "value": k["numerator"]} for k in counts],
            "names": {"rate": p.gettext("Rate (%)"), "target": p.gettext("Target (%)")},
        }
        trend = kpis.monthly(
            p.session,
            p.ctx,
            request.app.state.kpi_cache,
            area_code=root.code,
            date_from=report.date_from,
            date_to=report.date_to,
            reads=reads,
            source=source,
        )
        sample_trend = (
            inspections.monthly_rates(
                p.session, p.ctx, area_code=root.code, date_from=report.date_from, date_to=report.date_to
            )
            if p.may("inspection.read")
            else None
        )
        chart["trend"] = _trend_chart(trend, sample_trend, en)
        return render(
            request,
            "dashboard.html",
            p,
            report=report,
            root=root,
            crumbs=crumbs,
            period=period,
            rates=rates,
            counts=counts,
            children=children,
            drill_labels=[_label(next(k for k in own if k["key"] == key), en) for key in DRILL_KEYS],
            chart=script_json(chart),
            xlsx="/web/dashboard.xlsx?" + urlencode({"area": root.code, **period}),
            period_query=urlencode(period),
            openable={
                key
                for key in rules.BY_KEY
                if kpi_objects_service.may_open(p.session, p.ctx, key, report.date_from, report.date_to)
            },
            inspection=inspections.latest_summary(p.session, p.ctx, root.id),
            sample_trend=sample_trend,
            read_source=read_source(report.source),
            computed_at=report.computed_at.astimezone(CHINA_TZ).strftime("%H:%M")
            if report.computed_at
            else None,
        )


@router.get("/dashboard.xlsx")
def dashboard_xlsx(
    request: Request,
    area: str | None = Query(None, max_length=15),
    date_from: dt.date | None = Query(None, alias="from"),
    date_to: dt.date | None = Query(None, alias="to"),
) -> Response:
    """The dashboard's KPIs as an xlsx workbook, one sheet per level, in the page language."""
    with page(request) as p, reporting(p.session, request.app.state.replica) as (reads, source):
        report = _report(request, p, area, date_from, date_to, reads, source)
        body = kpis.workbook(report, i18n.short(p.lang))
    name = f"kpis-{report.root.code}-{report.date_from}-{report.date_to}.xlsx"
    return Response(
        body,
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"},
    )


# A KPI's parts as the object lists name them (the gap first: the objects to fix).
PART_LABELS = (
    ("missing", N_("Missing (to fix)")),
    ("numerator", N_("Numerator")),
    ("denominator", N_("Denominator")),
)


@router.get("/kpis/{key}")
def kpi_objects(
    request: Request,
    key: str,
    area: str | None = Query(None, max_length=15),
    date_from: dt.date | None = Query(None, alias="from"),
    date_to: dt.date | None = Query(None, alias="to"),
    part: str = Query("missing", max_length=20),
    page_no: int = Query(1, alias="page"),
) -> Response:
    """The objects behind one KPI's numerator, denominator or gap for an area and period, paged (masked, audited)."""
    with page(request) as p:
        start, end = kpis.default_period(date_from, date_to, p.ctx.today)
        data = kpi_objects_service.objects(
            p.session, p.ctx, key, area_code=area, date_from=start, date_to=end, part=part, page=page_no
        )
        en = i18n.short(p.lang) == "en"
        query = {"area": data["area"]["code"], "from": start.isoformat(), "to": end.isoformat()}

        def link(**change: Any) -> str:
            return f"/web/kpis/{key}?" + urlencode({**query, "part": part, "page": page_no, **change})

        return render(
            request,
            "kpi_objects.html",
            p,
            data=data,
            label=data["label_en"] if en else data["label_zh"],
            tabs=[
                {"part": name, "label": p.gettext(text), "link": link(part=name, page=1), "on": name == part}
                for name, text in PART_LABELS
            ],
            previous=link(page=page_no - 1) if page_no > 1 else None,
            following=link(page=page_no + 1) if page_no < data["pages"] else None,
            dashboard="/web/dashboard?" + urlencode(query),
        )
