"""The daily per-area aggregate of the residence and stay KPIs, kept exact by the database's own triggers.

Why: counting a period's KPIs from the registry reads every residence (seconds at a million persons). The counts
`kpis.service.compute` takes from residences and stays are sums over rows, each row counting by itself — so they
can be kept as signed counts per area and day and summed for any period:

- **valid** (stock on `to`, per category): a current residence version counts +1 from `valid_from` and -1 from
  `valid_to`; the stock on `to` is the sum of the counts dated on or before it.
- **arrival** (floating, flow): a current floating version counts once on its arrival date, with the window of
  period ends `to` for which it is the residence's state (`state_from` ≤ to < `state_to`: its valid interval,
  open-ended once the residence departed) and its days to registration (`lateness`, capped at 32 as the live count
  does; 99 = not registered). The deadline is applied when reading, with the calendar asked for.
- **departure** (floating, flow): a current floating version with a departure counts once on the departure date,
  `m` = deregistered.
- **stay** (flow): a stay counts once on its check-in date in China (UTC+8), `m` = a verified identity received
  within the real-time limit — the same expressions as the live count.

Plates and rentals are not aggregated: they are few (a plate per building, a rental per rented dwelling) and read
live with indexes, in well under the budget.

**Exact under every write, back-dated ones included.** Rows are never edited in place except `superseded_at`, a
correction is a new row that supersedes the old one, and a stay or a residence may be re-pointed to another area;
whatever the statement (a use case, a bulk import, an MPI merge, a retention purge, hand-written SQL), a trigger
on `residence_versions`, `residences` and `stays` appends the old row's counts negated and the new row's counts to
`kpi_deltas` in the same transaction. A back-dated change therefore lands on the days it concerns, however long
closed, and nothing is ever "recomputed for closed days". `compact` folds the deltas into `kpi_daily` at the day,
month, year and decade grains; a read sums the folded buckets that tile its period (`rules.cover`) and the
unfolded deltas in one statement (one snapshot on PostgreSQL; SQLite transactions are serialised), so it is exact
whether or not compaction has run.

**When it is not used.** The trigger names carry a hash of their definition: if any is missing (a future
migration that rebuilds a table drops its triggers on SQLite) or was made by another definition, `ready` is false,
`kpis.service.compute` counts live (exact, slower) and `maintain` (the server's warm-up thread, `liangshi db
kpi-daily`) reinstalls the triggers and rebuilds the aggregate from the registry in one transaction. Stays
checked in before 1992 (China's last daylight-saving year, where UTC+8 is not the civil date) are counted live.
TRUNCATE of a source table bypasses the triggers: truncate `kpi_deltas` and `kpi_daily` with it (or rebuild).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Date, Integer, and_, case, cast, func, null, or_, select, text, union_all
from sqlalchemy.orm import Session

from liangshi.kpis import rules
from liangshi.kpis.models import KpiDaily, KpiDelta
from liangshi.residence.rules import status_sql
from liangshi.venues.rules import identity_verified_sql

log = logging.getLogger("liangshi.kpis")

OPEN_START = dt.date(1, 1, 1)
OPEN_END = dt.date(9999, 12, 31)
NO_LATENESS = 99  # not registered (and: not an arrival)
LATE_CAP = 32  # as `residence.service.residence_counts`: a month late is late whatever the calendar
STAY_DAY_FROM = dt.date(1992, 1, 1)  # from here on China's civil date is UTC+8 all year
STOCK_KINDS = ("valid",)
FLOW_KINDS = ("departure", "stay")
ARRIVAL = "arrival"
COLUMNS = "area_id, kind, tag, day, state_from, state_to, lateness, n, m"
KEY = "kind, grain, day, area_id, tag, state_from, state_to, lateness"
PREFIX = "kpi_"
LOCK_KEY = 7402311  # PostgreSQL advisory lock of compaction and rebuild


# ---- the counts of one row, as SQL (one SELECT per dialect, used by the triggers and the rebuild) -------------


class _Sql:
    """Dialect-specific fragments."""

    def __init__(self, dialect: str, realtime_limit: dt.timedelta) -> None:
        self.pg = dialect == "postgresql"
        self.limit = realtime_limit

    def date(self, day: dt.date) -> str:
        return f"DATE '{day.isoformat()}'" if self.pg else f"'{day.isoformat()}'"

    def days_between(self, later: str, earlier: str) -> str:
        # The live count's expressions (residence.service.residence_counts).
        return (
            f"({later} - {earlier})"
            if self.pg
            else f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
        )

    def china_day(self, instant: str) -> str:
        if self.pg:
            return f"CAST(({instant} AT TIME ZONE 'UTC') + INTERVAL '8 hours' AS DATE)"
        return f"date({instant}, '+8 hours')"

    def within_limit(self, received: str, check_in: str) -> str:
        # The live count's expressions (venues.service.stay_counts), the limit as a literal of the same value.
        seconds = self.limit.total_seconds()
        if self.pg:
            return f"({received} - {check_in} <= INTERVAL '{seconds!r} seconds')"
        return f"((julianday({received}) - julianday({check_in})) * 86400.0 <= {seconds!r})"

    def bucket(self, grain: str, day: str) -> str:
        if self.pg:
            return {
                "d": day,
                "m": f"CAST(date_trunc('month', {day}) AS DATE)",
                "y": f"CAST(date_trunc('year', {day}) AS DATE)",
                "x": f"make_date(GREATEST(CAST(extract(year FROM {day}) AS INTEGER) / 10 * 10, 1), 1, 1)",
            }[grain]
        return {
            "d": day,
            "m": f"date({day}, 'start of month')",
            "y": f"date({day}, 'start of year')",
            "x": f"printf('%04d-01-01', max(CAST(substr({day}, 1, 4) AS INTEGER) / 10 * 10, 1))",
        }[grain]


def _select(values: tuple[str, ...], source: str, where: str) -> str:
    """One SELECT of the nine delta columns."""
    named = ", ".join(f"{v} AS {c}" for v, c in zip(values, COLUMNS.split(", "), strict=True))
    return f"SELECT {named} FROM {source} WHERE {where}"


def _residence_counts(q: _Sql, r: str, area: str, sign: int, source: str, where: str) -> str:
    """The signed counts of residence version rows `r` (a row prefix such as `NEW.`) in area `area`."""
    current = f"{where} AND {r}superseded_at IS NULL"
    start, end = q.date(OPEN_START), q.date(OPEN_END)
    days = q.days_between(f"{r}registration_date", f"{r}arrival_date")
    lateness = (
        f"CASE WHEN {r}registration_date IS NULL THEN {NO_LATENESS} "
        f"WHEN {days} > {LATE_CAP} THEN {LATE_CAP} ELSE {days} END"
    )
    floating = f"{current} AND {r}category = 'floating'"
    none = str(NO_LATENESS)
    return " UNION ALL ".join(
        (
            # valid from valid_from ...
            _select(
                (area, "'valid'", f"{r}category", f"{r}valid_from", start, end, none, str(sign), "0"),
                source,
                f"{current} AND ({r}valid_to IS NULL OR {r}valid_to > {r}valid_from)",
            ),
            # ... until valid_to
            _select(
                (area, "'valid'", f"{r}category", f"{r}valid_to", start, end, none, str(-sign), "0"),
                source,
                f"{current} AND {r}valid_to > {r}valid_from",
            ),
            # a floating arrival, counted for the period ends at which this row is the residence's state
            _select(
                (
                    area,
                    f"'{ARRIVAL}'",
                    "''",
                    f"{r}arrival_date",
                    f"CASE WHEN {r}valid_from > {r}arrival_date THEN {r}valid_from ELSE {start} END",
                    f"CASE WHEN {r}departure_date IS NOT NULL OR {r}valid_to IS NULL THEN {end} "
                    f"ELSE {r}valid_to END",
                    lateness,
                    str(sign),
                    "0",
                ),
                source,
                floating,
            ),
            # a floating departure (m: deregistered)
            _select(
                (
                    area,
                    "'departure'",
                    "''",
                    f"{r}departure_date",
                    f"CASE WHEN {r}valid_from > {r}departure_date THEN {r}valid_from ELSE {start} END",
                    end,
                    none,
                    str(sign),
                    f"CASE WHEN {status_sql(r)} = 'deregistered' THEN {sign} ELSE 0 END",
                ),
                source,
                f"{floating} AND {r}departure_date IS NOT NULL",
            ),
        )
    )


def _stay_counts(q: _Sql, s: str, sign: int, source: str, where: str) -> str:
    """The signed counts of stay rows `s` (m: a verified identity received within the limit)."""
    good = f"{identity_verified_sql(s)} AND {q.within_limit(f'{s}received_at', f'{s}check_in_at')}"
    return _select(
        (
            f"{s}area_id",
            "'stay'",
            "''",
            q.china_day(f"{s}check_in_at"),
            q.date(OPEN_START),
            q.date(OPEN_END),
            str(NO_LATENESS),
            str(sign),
            f"CASE WHEN {good} THEN {sign} ELSE 0 END",
        ),
        source,
        where,
    )


RESIDENCE_COLUMNS = (
    "entity_id",
    "superseded_at",
    "valid_from",
    "valid_to",
    "category",
    "arrival_date",
    "registration_date",
    "departure_date",
    "deregistration_date",
)
STAY_COLUMNS = ("area_id", "check_in_at", "person_id", "received_at", "doc_type", "doc_country")


def _triggers(q: _Sql) -> list[tuple[str, str, list[str]]]:
    """(short name, table, statements) of every trigger, without the hashed prefix (`{p}` stands for it)."""
    return _pg_triggers(q) if q.pg else _sqlite_triggers(q)


def _sqlite_triggers(q: _Sql) -> list[tuple[str, str, list[str]]]:
    """Row triggers: each row's counts, the old row's negated."""

    def trigger(name: str, event: str, table: str, when: str, body: str) -> tuple[str, str, list[str]]:
        when_sql = f" WHEN {when}" if when else ""
        return (
            name,
            table,
            [
                f"CREATE TRIGGER {{p}}{name} AFTER {event} ON {table} FOR EACH ROW{when_sql} BEGIN "
                f"INSERT INTO kpi_deltas ({COLUMNS}) {body}; END"
            ],
        )

    def rv(r: str, sign: int) -> str:
        return _residence_counts(q, r, "r.area_id", sign, "residences r", f"r.id = {r}entity_id")

    def stay(s: str, sign: int) -> str:
        return _stay_counts(q, s, sign, "(SELECT 1)", "1 = 1")

    def moved(area: str, sign: int) -> str:
        return _residence_counts(q, "v.", area, sign, "residence_versions v", "v.entity_id = NEW.id")

    return [
        trigger("rv_ins", "INSERT", "residence_versions", "NEW.superseded_at IS NULL", rv("NEW.", 1)),
        trigger(
            "rv_upd",
            f"UPDATE OF {', '.join(RESIDENCE_COLUMNS)}",
            "residence_versions",
            "",
            f"{rv('OLD.', -1)} UNION ALL {rv('NEW.', 1)}",
        ),
        trigger("rv_del", "DELETE", "residence_versions", "OLD.superseded_at IS NULL", rv("OLD.", -1)),
        trigger(
            "res_area",
            "UPDATE OF area_id",
            "residences",
            "OLD.area_id IS NOT NEW.area_id",
            f"{moved('OLD.area_id', -1)} UNION ALL {moved('NEW.area_id', 1)}",
        ),
        trigger("stay_ins", "INSERT", "stays", "", stay("NEW.", 1)),
        trigger(
            "stay_upd",
            f"UPDATE OF {', '.join(STAY_COLUMNS)}",
            "stays",
            "",
            f"{stay('OLD.', -1)} UNION ALL {stay('NEW.', 1)}",
        ),
        trigger("stay_del", "DELETE", "stays", "", stay("OLD.", -1)),
    ]


def _pg_triggers(q: _Sql) -> list[tuple[str, str, list[str]]]:
    """Statement triggers over the transition tables: a bulk statement's counts in one grouped INSERT."""

    def function(
        name: str, table: str, event: str, referencing: str, body: str
    ) -> tuple[str, str, list[str]]:
        grouped = (
            f"INSERT INTO kpi_deltas ({COLUMNS}) SELECT area_id, kind, tag, day, state_from, state_to, lateness, "
            f"SUM(n), SUM(m) FROM ({body}) AS c "
            "GROUP BY area_id, kind, tag, day, state_from, state_to, lateness HAVING SUM(n) <> 0 OR SUM(m) <> 0"
        )
        return (
            name,
            table,
            [
                f"CREATE FUNCTION {{p}}{name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {grouped}; "
                "RETURN NULL; END $$",
                f"CREATE TRIGGER {{p}}{name} AFTER {event} ON {table} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {{p}}{name}()",
            ],
        )

    def rv(rows: str, sign: int) -> str:
        return _residence_counts(
            q, "t.", "r.area_id", sign, f"{rows} t JOIN residences r ON r.id = t.entity_id", "TRUE"
        )

    def stay(rows: str, sign: int) -> str:
        return _stay_counts(q, "t.", sign, f"{rows} t", "TRUE")

    changed = "old_rows o JOIN new_rows n ON n.id = o.id JOIN residence_versions v ON v.entity_id = n.id"
    area_changed = "o.area_id IS DISTINCT FROM n.area_id"
    return [
        function("rv_ins", "residence_versions", "INSERT", "NEW TABLE AS new_rows", rv("new_rows", 1)),
        function(
            "rv_upd",
            "residence_versions",
            "UPDATE",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            f"{rv('old_rows', -1)} UNION ALL {rv('new_rows', 1)}",
        ),
        function("rv_del", "residence_versions", "DELETE", "OLD TABLE AS old_rows", rv("old_rows", -1)),
        function(
            "res_area",
            "residences",
            "UPDATE",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            _residence_counts(q, "v.", "o.area_id", -1, changed, area_changed)
            + " UNION ALL "
            + _residence_counts(q, "v.", "n.area_id", 1, changed, area_changed),
        ),
        function("stay_ins", "stays", "INSERT", "NEW TABLE AS new_rows", stay("new_rows", 1)),
        function(
            "stay_upd",
            "stays",
            "UPDATE",
            "OLD TABLE AS old_rows NEW TABLE AS new_rows",
            f"{stay('old_rows', -1)} UNION ALL {stay('new_rows', 1)}",
        ),
        function("stay_del", "stays", "DELETE", "OLD TABLE AS old_rows", stay("old_rows", -1)),
    ]


def _definition(dialect: str) -> tuple[str, list[tuple[str, str, list[str]]]]:
    """The hashed prefix of this definition's trigger names and the triggers (prefix filled in)."""
    q = _Sql(dialect, rules.VENUE_REALTIME_LIMIT)
    triggers = _triggers(q)
    digest = hashlib.sha256("\n".join(s for _, _, stmts in triggers for s in stmts).encode()).hexdigest()
    prefix = f"{PREFIX}{digest[:8]}_"
    return prefix, [
        (prefix + name, table, [s.replace("{p}", prefix) for s in stmts]) for name, table, stmts in triggers
    ]


def _dialect(bind: Session | Connection) -> str:
    return bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name


def _installed(bind: Session | Connection) -> set[str]:
    if _dialect(bind) == "postgresql":
        sql = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'kpi\\_%'"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'kpi\\_%' ESCAPE '\\'"
    return {str(name) for (name,) in bind.execute(text(sql))}


def ready(bind: Session | Connection) -> bool:
    """Whether the triggers of this definition are all in place (then the aggregate is exact)."""
    _, triggers = _definition(_dialect(bind))
    return _installed(bind) == {name for name, _, _ in triggers}


def uninstall(bind: Session | Connection) -> None:
    """Drop every KPI trigger (of any definition) and its function."""
    pg = _dialect(bind) == "postgresql"
    if pg:
        rows = bind.execute(
            text(
                "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND t.tgname LIKE 'kpi\\_%'"
            )
        ).all()
        for name, table in rows:
            bind.execute(text(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"'))
            bind.execute(text(f'DROP FUNCTION IF EXISTS "{name}"()'))
    else:
        for name in _installed(bind):
            bind.execute(text(f'DROP TRIGGER IF EXISTS "{name}"'))


def _grains_sql(q: _Sql, source: str) -> str:
    """Every grain's bucket of each count of `source` (arrivals only by day: their deadline is per day). The
    counts are summed by day first: a mass update's deltas mostly cancel, and the rest is far smaller."""
    grains = " UNION ALL ".join(f"SELECT '{g}' AS grain" for g in rules.GRAINS)
    bucket = (
        "CASE g.grain " + " ".join(f"WHEN '{g}' THEN {q.bucket(g, 'c.day')}" for g in rules.GRAINS) + " END"
    )
    by_day = (
        f"SELECT {COLUMNS.replace('n, m', 'SUM(n) AS n, SUM(m) AS m')} FROM ({source}) s "
        "GROUP BY area_id, kind, tag, day, state_from, state_to, lateness HAVING SUM(n) <> 0 OR SUM(m) <> 0"
    )
    return (
        f"SELECT c.kind, g.grain, {bucket}, c.area_id, c.tag, c.state_from, c.state_to, c.lateness, "
        f"SUM(c.n), SUM(c.m) FROM ({by_day}) c CROSS JOIN ({grains}) g "
        f"WHERE c.kind <> '{ARRIVAL}' OR g.grain = 'd' "
        f"GROUP BY c.kind, g.grain, {bucket}, c.area_id, c.tag, c.state_from, c.state_to, c.lateness "
        "HAVING SUM(c.n) <> 0 OR SUM(c.m) <> 0"
    )


def install(bind: Session | Connection) -> None:
    """(Re)create the triggers and rebuild the aggregate from the registry, in the caller's transaction.

    On PostgreSQL creating a trigger locks its table against writes until the transaction ends, so a write is
    either in the rebuild or counted by the new trigger; SQLite writers are serialised anyway.
    """
    dialect = _dialect(bind)
    q = _Sql(dialect, rules.VENUE_REALTIME_LIMIT)
    if dialect == "postgresql":
        # One rebuild or fold at a time (two servers' warm-up threads), tables in one order.
        bind.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))
        bind.execute(text("LOCK TABLE residence_versions, residences, stays IN SHARE ROW EXCLUSIVE MODE"))
    uninstall(bind)
    _, triggers = _definition(dialect)
    for _, _, statements in triggers:
        for statement in statements:
            bind.execute(text(statement))
    bind.execute(text("DELETE FROM kpi_deltas"))
    bind.execute(text("DELETE FROM kpi_daily"))
    everything = (
        _residence_counts(
            q, "v.", "r.area_id", 1, "residence_versions v JOIN residences r ON r.id = v.entity_id", "1 = 1"
        )
        + " UNION ALL "
        + _stay_counts(q, "s.", 1, "stays s", "1 = 1")
    )
    bind.execute(text(f"INSERT INTO kpi_daily ({KEY}, n, m) {_grains_sql(q, everything)}"))


def compact(bind: Session | Connection) -> int:
    """Fold the deltas appended so far into `kpi_daily` (caller's transaction); returns how many were folded."""
    dialect = _dialect(bind)
    q = _Sql(dialect, rules.VENUE_REALTIME_LIMIT)
    upsert = (
        " ON CONFLICT (" + KEY + ") DO UPDATE SET n = kpi_daily.n + excluded.n, m = kpi_daily.m + excluded.m"
    )
    if dialect == "postgresql":
        # One compaction at a time; the DELETE takes exactly the deltas this statement sees, in-flight ones stay.
        bind.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))
        folded = bind.execute(
            text(
                f"WITH moved AS (DELETE FROM kpi_deltas RETURNING {COLUMNS}), "
                f"counted AS (SELECT count(*) AS k FROM moved), "
                f"folded AS (INSERT INTO kpi_daily ({KEY}, n, m) "
                f"{_grains_sql(q, f'SELECT {COLUMNS} FROM moved')}{upsert}) "
                "SELECT k FROM counted"
            )
        ).scalar_one()
    else:
        top = bind.execute(text("SELECT max(id) FROM kpi_deltas")).scalar()
        if top is None:
            return 0
        source = f"SELECT {COLUMNS} FROM kpi_deltas WHERE id <= {int(top)}"
        bind.execute(text(f"INSERT INTO kpi_daily ({KEY}, n, m) {_grains_sql(q, source)}{upsert}"))
        folded = bind.execute(
            select(func.count()).select_from(KpiDelta).where(KpiDelta.id <= top)
        ).scalar_one()
        bind.execute(text(f"DELETE FROM kpi_deltas WHERE id <= {int(top)}"))
    bind.execute(text("DELETE FROM kpi_daily WHERE n = 0 AND m = 0"))
    return int(folded)


def maintain(bind: Session | Connection) -> str:
    """Rebuild when the triggers are missing or of another definition, else fold the deltas; says which."""
    if not ready(bind):
        log.warning(
            "KPI daily aggregate: triggers missing or of another definition; rebuilding from the registry"
        )
        install(bind)
        return "rebuilt"
    compact(bind)
    return "compacted"


# ---- reading a period -----------------------------------------------------------------------------------------


class Counts:
    """The aggregate's counts of one area for a period."""

    def __init__(self) -> None:
        self.valid: dict[str, int] = {}
        self.arrivals: dict[tuple[dt.date, int], int] = {}
        self.departed = 0
        self.deregistered = 0
        self.stays = 0
        self.good_stays = 0


def _in_cover(table: Any, ranges: Iterable[tuple[str, dt.date | None, dt.date]]) -> Any:
    return or_(
        *(
            and_(table.grain == g, table.day <= hi, *(() if lo is None else (table.day >= lo,)))
            for g, lo, hi in ranges
        )
    )


def read(session: Session, area_ids: Any, date_from: dt.date, date_to: dt.date) -> dict[int, Counts]:
    """Per area: residences valid on `date_to` by category, floating arrivals of the period by arrival date and
    days to registration, floating departures and deregistrations, stays and good stays — folded and unfolded
    counts summed in one statement."""
    d, e = KpiDaily, KpiDelta
    no_day = cast(null(), Date)
    no_lateness = cast(null(), Integer)

    def window(t: Any) -> Any:
        return and_(t.state_from <= date_to, t.state_to > date_to)

    folded_stock = (
        select(d.area_id, d.kind, d.tag, no_day, no_lateness, func.sum(d.n), func.sum(d.m))
        .where(d.kind.in_(STOCK_KINDS), _in_cover(d, rules.cover(None, date_to)), d.area_id.in_(area_ids))
        .group_by(d.area_id, d.kind, d.tag)
    )
    folded_flow = (
        select(d.area_id, d.kind, d.tag, no_day, no_lateness, func.sum(d.n), func.sum(d.m))
        .where(
            d.kind.in_(FLOW_KINDS),
            _in_cover(d, rules.cover(date_from, date_to)),
            window(d),
            d.area_id.in_(area_ids),
        )
        .group_by(d.area_id, d.kind, d.tag)
    )
    folded_arrivals = (
        select(d.area_id, d.kind, d.tag, d.day, d.lateness, func.sum(d.n), func.sum(d.m))
        .where(
            d.kind == ARRIVAL,
            d.grain == "d",
            d.day >= date_from,
            d.day <= date_to,
            window(d),
            d.area_id.in_(area_ids),
        )
        .group_by(d.area_id, d.kind, d.tag, d.day, d.lateness)
    )
    is_arrival = e.kind == ARRIVAL
    arrival_day = case((is_arrival, e.day), else_=null())
    arrival_lateness = case((is_arrival, e.lateness), else_=null())
    unfolded = (
        select(e.area_id, e.kind, e.tag, arrival_day, arrival_lateness, func.sum(e.n), func.sum(e.m))
        .where(
            e.area_id.in_(area_ids),
            or_(
                and_(e.kind.in_(STOCK_KINDS), e.day <= date_to),
                and_(e.kind.in_((*FLOW_KINDS, ARRIVAL)), e.day >= date_from, e.day <= date_to, window(e)),
            ),
        )
        .group_by(e.area_id, e.kind, e.tag, arrival_day, arrival_lateness)
    )
    out: dict[int, Counts] = {}
    for area_id, kind, tag, day, lateness, n, m in session.execute(
        union_all(folded_stock, folded_flow, folded_arrivals, unfolded)
    ):
        c = out.setdefault(int(area_id), Counts())
        n, m = int(n or 0), int(m or 0)
        if kind == "valid":
            c.valid[str(tag)] = c.valid.get(str(tag), 0) + n
        elif kind == ARRIVAL:
            key = (day, int(lateness))
            c.arrivals[key] = c.arrivals.get(key, 0) + n
        elif kind == "departure":
            c.departed += n
            c.deregistered += m
        elif kind == "stay":
            c.stays += n
            c.good_stays += m
    return out
