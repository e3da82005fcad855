"""KPI use cases: every KPI of an area and its whole subtree for a period, and the xlsx workbook.

Each domain counts its own facts per area with one GROUP BY (addresses, rentals, residence, venues services);
this service rolls those per-area counts up the area tree (through the area paths — a few hundred areas, never a
loop over persons or dwellings) and forms the rates with `rules`. The residence and stay counts — the large ones —
are read from the daily per-area aggregate (`kpis.daily`, kept exact by triggers) when it is in place, so any
period costs about what the default one does; `live=True` counts them from the registry tables instead.

Definitions, for a period [from, to]:
- stock KPIs are read as valid on `to`: plate installation, the three rental rates, counts by residence category;
- flow KPIs count the events in the period: floating arrivals (arrival date in the period) and whether they were
  registered at all / by the deadline of the rule (a table of deadlines per arrival date, joined in SQL), floating
  departures (departure date in the period, and the departures the quality checks found in the period that
  the register never dated: `checks.found_departures_by_area`) and whether they were deregistered, venue stays
  (check-in in the period) with a verified identity received within the limit. Residences are read in their
  state as of `to` (category included); registrations and deregistrations as the register knows them now.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.access.service import SYSTEM
from liangshi.addresses import service as addresses
from liangshi.areas import service as areas
from liangshi.areas.models import Area
from liangshi.checks import service as checks
from liangshi.clock import CHINA_TZ
from liangshi.db import PRIMARY, ReadSource, session_scope
from liangshi.errors import NotFound
from liangshi.kpis import daily, rules
from liangshi.registry import Context
from liangshi.rentals import service as rentals
from liangshi.residence import calendar
from liangshi.residence import service as residence
from liangshi.venues import service as venues

LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "province": ("省", "Province"),
    "city": ("市", "City"),
    "district": ("区县", "District"),
    "subdistrict": ("街道", "Subdistrict"),
    "town": ("镇", "Town"),
    "township": ("乡", "Township"),
    "community": ("社区", "Community"),
    "village": ("村", "Village"),
    "group": ("组", "Village group"),
    "grid": ("网格", "Grid"),
}


@dataclass(frozen=True)
class AreaNode:
    """An area of the report's subtree."""

    id: int
    code: str
    level: str
    name: str
    parent_id: int | None
    path: str
    depth: int

    def to_json(self) -> dict[str, Any]:
        """The area as the API shows it."""
        return {"id": self.id, "code": self.code, "name": self.name, "level": self.level}


@dataclass
class Report:
    """The KPIs of an area and of every area below it, for one period."""

    root: AreaNode
    date_from: dt.date
    date_to: dt.date
    nodes: dict[int, AreaNode]
    counts: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    computed_at: dt.datetime | None = None
    # Where the counts were read: the primary, or the reporting replica as of a time (issue 19).
    source: ReadSource = PRIMARY

    def kpis(self, area_id: int) -> list[dict[str, Any]]:
        """Every KPI of one area of the subtree: numerator, denominator, rate, target, area and period."""
        node = self.nodes[area_id]
        values = self.counts.get(area_id, {})
        out = []
        for k in rules.KPIS:
            num, den = values.get(k.key, [0, 0])
            out.append(
                {
                    "key": k.key,
                    "group": k.group,
                    "label_zh": k.label_zh,
                    "label_en": k.label_en,
                    "numerator_zh": k.numerator_zh,
                    "denominator_zh": k.denominator_zh,
                    "numerator": num,
                    "denominator": den,
                    "rate": rules.rate(num, den),
                    "target": k.target,
                    "is_count": k.is_count,
                    "area_code": node.code,
                    "from": self.date_from,
                    "to": self.date_to,
                }
            )
        return out

    def children(self, area_id: int) -> list[AreaNode]:
        """The areas right below one area, by code."""
        return sorted((n for n in self.nodes.values() if n.parent_id == area_id), key=lambda n: n.code)

    def levels(self) -> list[list[AreaNode]]:
        """The subtree's areas by depth below the root (root first), each level by code."""
        by_depth: dict[int, list[AreaNode]] = {}
        for n in self.nodes.values():
            by_depth.setdefault(n.depth, []).append(n)
        return [sorted(by_depth[d], key=lambda n: n.code) for d in sorted(by_depth)]

    def subreport(self, area_id: int) -> Report:
        """The report of an area inside this one (its subtree and counts, without counting again)."""
        root = self.nodes[area_id]
        base = root.depth
        nodes = {
            i: AreaNode(n.id, n.code, n.level, n.name, n.parent_id, n.path, n.depth - base)
            for i, n in self.nodes.items()
            if n.path.startswith(root.path)
        }
        counts = {i: c for i, c in self.counts.items() if i in nodes}
        return Report(
            nodes[area_id], self.date_from, self.date_to, nodes, counts, self.computed_at, self.source
        )

    def to_json(self) -> dict[str, Any]:
        """The area's KPIs and, for the drill-down, the same KPIs of each child area."""
        return {
            "area": self.root.to_json(),
            "from": self.date_from,
            "to": self.date_to,
            "computed_at": self.computed_at,
            "read_from": "replica" if self.source.replica else "primary",
            "as_of": self.source.as_of,
            "kpis": self.kpis(self.root.id),
            "children": [{"area": c.to_json(), "kpis": self.kpis(c.id)} for c in self.children(self.root.id)],
        }


def default_period(
    date_from: dt.date | None, date_to: dt.date | None, today: dt.date
) -> tuple[dt.date, dt.date]:
    """The period asked for; by default from 1 January of the end's year to today."""
    end = date_to or today
    return date_from or dt.date(end.year, 1, 1), end


def _root(session: Session, ctx: Context, area_code: str | None) -> Area:
    ctx.actor.ensure("kpi.read")
    area = areas.by_code(session, area_code) if area_code else areas.by_id(session, ctx.actor.area_id)
    if area is None or not ctx.actor.covers_path(area.path):
        # Outside the jurisdiction answers as if it did not exist.
        raise NotFound(
            "area.not_found", "未找到该区划", "Area not found", {"field": "area", "code": area_code}
        )
    return area


def _nodes(session: Session, root: Area, on: dt.date) -> dict[int, AreaNode]:
    rows = session.execute(
        select(Area.id, Area.code, Area.level, Area.parent_id, Area.path).where(
            Area.path.startswith(root.path)
        )
    ).all()
    names = areas.names_of(session, [r[0] for r in rows], on)
    base = root.path.count("/")
    return {
        int(i): AreaNode(
            int(i),
            str(code),
            str(level),
            names.get(int(i), ""),
            int(parent) if parent is not None else None,
            str(path),
            str(path).count("/") - base,
        )
        for i, code, level, parent, path in rows
    }


def _add(counts: dict[int, dict[str, list[int]]], area_id: int, key: str, num: int, den: int) -> None:
    slot = counts.setdefault(area_id, {}).setdefault(key, [0, 0])
    slot[0] += num
    slot[1] += den


def _roll_up(report: Report, leaf: dict[int, dict[str, list[int]]]) -> None:
    """Add each area's own counts to itself and every ancestor inside the report's subtree."""
    for area_id, values in leaf.items():
        node = report.nodes.get(area_id)
        if node is None:
            continue
        ancestors = [int(x) for x in node.path.strip("/").split("/") if x]
        for anc in ancestors:
            if anc in report.nodes:
                for key, (num, den) in values.items():
                    _add(report.counts, anc, key, num, den)


def _add_residences(
    leaf: dict[int, dict[str, list[int]]],
    area_id: int,
    floating: dict[str, int],
    valid: dict[str, int],
) -> None:
    _add(leaf, area_id, "floating_registration", floating["registered"], floating["arrived"])
    _add(leaf, area_id, "floating_timeliness", floating["timely"], floating["arrived"])
    _add(leaf, area_id, "floating_deregistration", floating["deregistered"], floating["departed"])
    total = sum(valid.values())
    for key in rules.CATEGORY_KEYS:
        _add(leaf, area_id, key, valid.get(key.removeprefix("category_"), 0), total)


def _residences_live(
    session: Session,
    leaf: dict[int, dict[str, list[int]]],
    ids: Any,
    date_from: dt.date,
    date_to: dt.date,
    deadlines: dict[dt.date, dt.date],
) -> None:
    for area_id, by_category in residence.residence_counts(
        session, ids, date_from, date_to, deadlines
    ).items():
        floating = by_category.get("floating", dict.fromkeys(residence.RESIDENCE_COUNTS, 0))
        _add_residences(leaf, area_id, floating, {cat: c["valid"] for cat, c in by_category.items()})


def _stays_live(
    session: Session,
    leaf: dict[int, dict[str, list[int]]],
    ids: Any,
    date_from: dt.date,
    date_to: dt.date,
) -> None:
    start = dt.datetime.combine(date_from, dt.time(), CHINA_TZ)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA_TZ)
    for area_id, (good, stays) in venues.stay_counts(
        session, ids, start, end, rules.VENUE_REALTIME_LIMIT
    ).items():
        _add(leaf, area_id, "venue_realtime", good, stays)


def _residences_and_stays_from_aggregate(
    session: Session,
    leaf: dict[int, dict[str, list[int]]],
    ids: Any,
    date_from: dt.date,
    date_to: dt.date,
    deadlines: dict[dt.date, dt.date],
) -> None:
    """The residence and stay KPIs from the daily aggregate: the same numbers as `_residences_live` and
    `_stays_live` (the deadline of each arrival day is applied here, as the live count does)."""
    for area_id, c in daily.read(session, ids, date_from, date_to).items():
        floating = dict.fromkeys(residence.RESIDENCE_COUNTS, 0)
        for (arrival, lateness), n in c.arrivals.items():
            floating["arrived"] += n
            if lateness != daily.NO_LATENESS:
                floating["registered"] += n
                if arrival + dt.timedelta(days=lateness) <= deadlines[arrival]:
                    floating["timely"] += n
        floating["departed"], floating["deregistered"] = c.departed, c.deregistered
        if any(floating.values()) or any(c.valid.values()):
            _add_residences(leaf, area_id, floating, c.valid)
        if date_from >= daily.STAY_DAY_FROM and (c.stays or c.good_stays):
            _add(leaf, area_id, "venue_realtime", c.good_stays, c.stays)
    if date_from < daily.STAY_DAY_FROM:
        _stays_live(session, leaf, ids, date_from, date_to)


def compute(
    session: Session,
    ctx: Context,
    *,
    area_code: str | None,
    date_from: dt.date,
    date_to: dt.date,
    cal: calendar.HolidayCalendar | None = None,
    live: bool = False,
    reads: Session | None = None,
    source: ReadSource = PRIMARY,
) -> Report:
    """Every KPI of an area in the caller's jurisdiction (default: their own area) and of each area below it.

    The jurisdiction is checked on `session` (the primary); the counts are read from `reads` when given (the
    reporting replica's read-only session, whose `source` the report keeps), else from `session` too.

    Residences and stays are read from the daily aggregate (`kpis.daily`) when it is in place, else — or with
    `live` — counted from the registry tables; plates and rentals are always counted from the registry. Both ways
    give the same numbers (tests/kpis/test_daily.py).
    """
    rules.check_period(date_from, date_to)
    root_area = _root(session, ctx, area_code)
    session = reads if reads is not None else session
    nodes = _nodes(session, root_area, date_to)
    if root_area.id not in nodes:  # an area the replica has not received yet
        raise NotFound(
            "area.not_found", "未找到该区划", "Area not found", {"field": "area", "code": area_code}
        )
    report = Report(nodes[root_area.id], date_from, date_to, nodes, source=source)
    ids = select(Area.id).where(Area.path.startswith(root_area.path))
    leaf: dict[int, dict[str, list[int]]] = {}

    for area_id, (installed, total) in addresses.plate_counts_by_area(session, ids, date_to).items():
        _add(leaf, area_id, "plate_installation", installed, total)

    for area_id, c in rentals.rental_counts_by_area(session, ids, date_to).items():
        _add(
            leaf, area_id, "rental_registration", c["registered"], c["registered"] + c["rented_unregistered"]
        )
        _add(leaf, area_id, "rental_entry", c["entered"], c["registered"])
        _add(leaf, area_id, "rental_agreement", c["signed"], c["registered"])

    holidays = cal or calendar.default_calendar()
    deadlines = rules.registration_deadlines(date_from, date_to, holidays)
    if not live and daily.ready(session):
        _residences_and_stays_from_aggregate(session, leaf, ids, date_from, date_to, deadlines)
    else:
        _residences_live(session, leaf, ids, date_from, date_to, deadlines)
        _stays_live(session, leaf, ids, date_from, date_to)
    # Departures the checks found but the register never deregistered (nor dated) enter the denominator.
    start = dt.datetime.combine(date_from, dt.time(), CHINA_TZ)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time(), CHINA_TZ)
    for area_id, n in checks.found_departures_by_area(session, ids, start, end).items():
        _add(leaf, area_id, "floating_deregistration", 0, n)
    _roll_up(report, leaf)
    report.computed_at = ctx.now
    return report


class ReportCache:
    """Recently computed reports, reused for `seconds` (the counts are aggregates: no personal data in them).

    A city's report answers for every area below it too (`Report.subreport`), so drilling down from a computed
    area costs nothing. The jurisdiction check runs before the cache is consulted, on every request.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._reports: dict[tuple[dt.date, dt.date, dt.date], list[tuple[float, Report]]] = {}
        self._lock = threading.Lock()

    def find(self, area_id: int, key: tuple[dt.date, dt.date, dt.date]) -> Report | None:
        """A fresh report that contains the area, narrowed to it."""
        now = self.clock()
        with self._lock:
            fresh = [(t, r) for t, r in self._reports.get(key, []) if now - t < self.seconds]
            self._reports[key] = fresh
            for _, report in fresh:
                if area_id in report.nodes:
                    return report if report.root.id == area_id else report.subreport(area_id)
        return None

    def store(self, key: tuple[dt.date, dt.date, dt.date], report: Report) -> None:
        """Keep a report (the largest ones first, so the widest fresh one answers)."""
        with self._lock:
            entries = [e for e in self._reports.get(key, []) if e[1].root.id != report.root.id]
            entries.append((self.clock(), report))
            entries.sort(key=lambda e: -len(e[1].nodes))
            self._reports[key] = entries[:16]


def compute_cached(
    session: Session,
    ctx: Context,
    cache: ReportCache | None,
    *,
    area_code: str | None,
    date_from: dt.date,
    date_to: dt.date,
    reads: Session | None = None,
    source: ReadSource = PRIMARY,
) -> Report:
    """`compute`, answered from the cache when a fresh report of this area or one above it exists (`reads` and
    `source` as for `compute`)."""
    if cache is None or cache.seconds <= 0:
        return compute(
            session,
            ctx,
            area_code=area_code,
            date_from=date_from,
            date_to=date_to,
            reads=reads,
            source=source,
        )
    rules.check_period(date_from, date_to)
    area = _root(session, ctx, area_code)
    key = (date_from, date_to, ctx.today)
    found = cache.find(area.id, key)
    if found is not None:
        return found
    report = compute(
        session, ctx, area_code=area.code, date_from=date_from, date_to=date_to, reads=reads, source=source
    )
    cache.store(key, report)
    return report


def warm(sessions: Any, cache: ReportCache, clock: Any) -> list[str]:
    """Keep the daily aggregate in shape, then count the dashboard's default report (1 January to today) of every
    top area into the cache, as the system.

    A server keeps its dashboard warm with this (`start_warming`): first `daily.maintain` folds the deltas the
    triggers appended since the last round (or rebuilds the aggregate if its triggers are missing), then a user's
    request for the default period of any area narrows a fresh report instead of counting again. The jurisdiction
    check still runs on every request, before the cache is read. Returns the codes counted.
    """
    with session_scope(sessions) as session:
        began = time.monotonic()
        done = daily.maintain(session)
        logging.getLogger("liangshi.kpis").info(
            "KPI daily aggregate %s in %.1f s", done, time.monotonic() - began
        )
    counted = []
    with session_scope(sessions) as session:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="kpi warm-up")
        start, end = default_period(None, None, ctx.today)
        tops = session.execute(
            select(Area.code).where(Area.parent_id.is_(None)).order_by(Area.code)
        ).scalars()
        for code in list(tops):
            report = compute(session, ctx, area_code=code, date_from=start, date_to=end)
            cache.store((start, end, ctx.today), report)
            counted.append(code)
    return counted


def start_warming(sessions: Any, cache: ReportCache, clock: Any, *, every: float) -> threading.Thread:
    """Keep the dashboard warm: `warm` now and then every `every` seconds, in a daemon thread."""
    log = logging.getLogger("liangshi.kpis")

    def loop() -> None:
        while True:
            began = time.monotonic()
            try:
                codes = warm(sessions, cache, clock)
                log.info("KPI reports warmed for %s in %.1f s", ", ".join(codes), time.monotonic() - began)
            except Exception:  # a failed count must not stop the server; the next round tries again
                log.exception("KPI warm-up failed")
            time.sleep(every)

    thread = threading.Thread(target=loop, name="kpi-warm-up", daemon=True)
    thread.start()
    return thread


# ---- the workbook --------------------------------------------------------------------------------------------

HEADERS = {
    "zh": ("区划代码", "区划名称", "层级", "指标", "分子", "分母", "比率", "目标", "起始日期", "截止日期"),
    "en": ("Area code", "Area", "Level", "KPI", "Numerator", "Denominator", "Rate", "Target", "From", "To"),
}


def _sheet_title(nodes: Iterable[AreaNode], lang: str, depth: int) -> str:
    labels = sorted({LEVEL_LABELS.get(n.level, (n.level, n.level))[0 if lang == "zh" else 1] for n in nodes})
    title = f"{depth + 1} " + "/".join(labels)
    # Excel sheet names: at most 31 characters, none of []:*?/\ .
    return title.replace("/", "、" if lang == "zh" else "+")[:31]


def workbook(report: Report, lang: str = "zh") -> bytes:
    """The report as an xlsx file: one sheet per level (the area, its children, theirs …), one row per KPI."""
    # Imported here, not at the top: openpyxl (it loads numpy) is needed only for XLSX files.
    from openpyxl import Workbook
    from openpyxl.styles import Font

    lang = "en" if lang == "en" else "zh"
    wb = Workbook()
    wb.remove(wb.active)
    for depth, level_nodes in enumerate(report.levels()):
        ws = wb.create_sheet(_sheet_title(level_nodes, lang, depth))
        ws.append(list(HEADERS[lang]))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for node in level_nodes:
            level = LEVEL_LABELS.get(node.level, (node.level, node.level))[0 if lang == "zh" else 1]
            for k in report.kpis(node.id):
                ws.append(
                    [
                        node.code,
                        node.name,
                        level,
                        k["label_zh"] if lang == "zh" else k["label_en"],
                        k["numerator"],
                        k["denominator"],
                        k["rate"],
                        k["target"],
                        report.date_from,
                        report.date_to,
                    ]
                )
        for row in ws.iter_rows(min_row=2, min_col=7, max_col=8):
            for cell in row:
                cell.number_format = "0.00%"
        for col, width in zip("ABCDEFGHIJ", (14, 16, 10, 26, 10, 10, 10, 8, 12, 12), strict=True):
            ws.column_dimensions[col].width = width
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def monthly(
    session: Session,
    ctx: Context,
    cache: ReportCache | None,
    *,
    area_code: str | None,
    date_from: dt.date,
    date_to: dt.date,
    max_months: int = 12,
    reads: Session | None = None,
    source: ReadSource = PRIMARY,
) -> dict[str, Any]:
    """The rates of an area month by month over a period (its last `max_months` months, each cut to the period):
    the same KPIs as `compute`, one report per month (from the cache when one is fresh)."""
    rules.check_period(date_from, date_to)
    months: list[tuple[dt.date, dt.date]] = []
    start = date_to.replace(day=1)
    while len(months) < max_months and start >= date_from.replace(day=1):
        end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        months.append((max(start, date_from), min(end, date_to)))
        start = (start - dt.timedelta(days=1)).replace(day=1)
    months.reverse()
    series: dict[str, dict[str, Any]] = {}
    for first, last in months:
        report = compute_cached(
            session,
            ctx,
            cache,
            area_code=area_code,
            date_from=first,
            date_to=last,
            reads=reads,
            source=source,
        )
        for k in report.kpis(report.root.id):
            if k["is_count"]:
                continue
            line = series.setdefault(
                k["key"],
                {
                    "key": k["key"],
                    "label_zh": k["label_zh"],
                    "label_en": k["label_en"],
                    "target": k["target"],
                },
            )
            line.setdefault("points", []).append(
                {
                    "month": f"{first:%Y-%m}",
                    "numerator": k["numerator"],
                    "denominator": k["denominator"],
                    "rate": k["rate"],
                }
            )
    return {"months": [f"{first:%Y-%m}" for first, _ in months], "rates": list(series.values())}
