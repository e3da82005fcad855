"""Feeds out: changes since a cursor and extracts, cut to the agreement's readable fields (or aggregates only)."""

from __future__ import annotations

import csv
import datetime as dt
import heapq
import io
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, text, tuple_
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.areas.models import Area, AreaVersion
from liangshi.audit import service as audit
from liangshi.common.idnumber import mask_id_number
from liangshi.departments import rules
from liangshi.departments.models import Agreement, Department, ExchangeLogEntry
from liangshi.departments.service.agreements import _liaison_agreement, _with_purpose, kinds
from liangshi.departments.service.batch_rows import _text
from liangshi.departments.service.exchange_log import log_exchange
from liangshi.errors import Forbidden
from liangshi.registry import Context, Kind

# The category each kind's aggregates are counted by (statistics gets counts per area and category only).
AGGREGATE_BY = {
    "person": "sex",
    "residence": "category",
    "dwelling": "status",
    "building": "use",
    "address": "status",
    "rental": "use",
}


# ---- feeds out -------------------------------------------------------------------------------------------------


def _show(kind: str, name: str, value: Any) -> Any:
    # Departments get document numbers masked, like every other reader without an unmask right.
    if kind == "document" and name == "number" and isinstance(value, str):
        return mask_id_number(value)
    return value


def _readable(agreement: Agreement) -> dict[str, list[str]]:
    known = kinds()
    return {
        k: [f for f in fields if f in known[k].attributes]
        for k, fields in json.loads(agreement.reads).items()
        if k in known
    }


def _records_only(dept: Department, agreement: Agreement) -> None:
    if agreement.aggregates_only:
        raise Forbidden(
            "department.aggregates_only",
            "该部门的协议只提供统计汇总，不提供个案记录",
            "The department's agreement gives aggregates only, not records",
            {"department": dept.code},
        )


# How long a writer may take, at most, from the clock reading that stamps its rows to its commit: a legacy cursor
# (a point in record time) resumes this far before it. A repeat is better than a miss.
LEGACY_CURSOR_MARGIN = dt.timedelta(days=7)


# The oldest transaction of this database still running, from one snapshot: the snapshot's in-progress ids, less
# those pg_stat_activity shows running in another database of the server (they cannot write these tables, and
# must not hold the feed back); without one, the first id not yet handed out. Ids are compared as 32-bit xids there.
_HORIZON = text(
    """
    SELECT coalesce(
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s) AS x
         WHERE x::text::bigint % 4294967296 NOT IN (
            SELECT a.backend_xid::text::bigint FROM pg_stat_activity AS a
            WHERE a.backend_xid IS NOT NULL AND a.datname <> current_database())),
        pg_snapshot_xmax(s)::text::bigint)
    FROM pg_current_snapshot() AS s
    """
)


def _horizon(session: Session) -> int | None:
    """On PostgreSQL, a transaction id below which every transaction that could write version rows has ended: its
    rows are final (visible to any later statement) and rows not yet committed always carry this id or a larger
    one. A transaction still running holds back the rows of later ones until it ends. None on SQLite, where
    writers are serialised (a version row's id grows in commit order and `xact_id` is 0)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return int(session.execute(_HORIZON).scalar_one())


def _frontier(session: Session, kind: Kind, horizon: int | None) -> rules.Position:
    """A position that every row of the kind committed from now on comes after."""
    if horizon is not None:
        return (horizon, 0)
    top = session.execute(select(func.max(kind.version.row_id))).scalar()
    return (0, int(top or 0))


def _from_legacy(
    session: Session, cursor: rules.LegacyCursor, horizon: int | None
) -> dict[str, rules.Position]:
    """Positions for a cursor of the first form, conservatively: per kind, before the first row recorded less than
    LEGACY_CURSOR_MARGIN before the cursor's record time (rows of a still-open transaction come after, too)."""
    since = cursor.recorded_at - LEGACY_CURSOR_MARGIN
    out: dict[str, rules.Position] = {}
    for name, kind in kinds().items():
        v = kind.version
        later = (
            v.recorded_at >= since if horizon is None else or_(v.recorded_at >= since, v.xact_id >= horizon)
        )
        first = session.execute(
            select(v.xact_id, v.row_id).where(later).order_by(v.xact_id, v.row_id).limit(1)
        ).first()
        frontier = _frontier(session, kind, horizon)
        out[name] = frontier if first is None else min((int(first[0]), int(first[1]) - 1), frontier)
    return out


def _last_cursor(session: Session, dept: Department) -> str | None:
    row = session.execute(
        select(ExchangeLogEntry.detail)
        .where(ExchangeLogEntry.department == dept.code, ExchangeLogEntry.operation == "pull")
        .order_by(ExchangeLogEntry.seq.desc())
        .limit(1)
    ).scalar_one_or_none()
    return json.loads(row).get("next_cursor") if row else None


@dataclass(frozen=True)
class _Pulled:
    kind: str
    position: rules.Position
    order: tuple[dt.datetime, str, int]  # how kinds interleave on a page: record time, kind, row id
    item: dict[str, Any]
    subject: int | None


def _pull_kind(
    session: Session,
    ctx: Context,
    name: str,
    kind: Kind,
    fields: list[str],
    after: dict[str, rules.Position],
    horizon: int | None,
    limit: int,
) -> list[_Pulled]:
    """One kind's rows after its position (at most `limit + 1`), in (transaction, row id) order."""
    v, e = kind.version, kind.entity
    stmt: Select[Any] = select(v, e).join(e, e.id == v.entity_id)
    if name in after:
        stmt = stmt.where(tuple_(v.xact_id, v.row_id) > tuple_(*after[name]))
    if horizon is not None:
        stmt = stmt.where(v.xact_id < horizon)
    stmt = registry.scoped(stmt, kind, ctx.actor).order_by(v.xact_id, v.row_id).limit(limit + 1)
    run: list[_Pulled] = []
    for row, ent in session.execute(stmt):
        item = {
            "kind": name,
            "id": ent.id,
            "row_id": row.row_id,
            "version": row.version,
            "change": row.change,
            "valid_from": row.valid_from.isoformat(),
            "valid_to": row.valid_to.isoformat() if row.valid_to else None,
            "recorded_at": row.recorded_at.isoformat(),
            "superseded_at": row.superseded_at.isoformat() if row.superseded_at else None,
            "attributes": {f: _text(_show(name, f, getattr(row, f))) for f in fields},
        }
        position = (int(row.xact_id), int(row.row_id))
        order = (row.recorded_at, name, row.row_id)
        run.append(_Pulled(name, position, order, item, registry.subject_of(kind, ent)))
    return run


def pull_changes(
    session: Session, ctx: Context, *, department: str, cursor: str | None, limit: int
) -> dict[str, Any]:
    """Version rows committed after the cursor (without one: after the department's last pull), cut to the
    agreement's readable fields and the caller's jurisdiction.

    The cursor holds a position per kind, (writing transaction, row id) of the last row delivered, and each kind is
    read in that order. On SQLite writers are serialised, so row ids grow in commit order. On PostgreSQL a row is
    delivered only once its transaction id is below the oldest transaction of the database still running
    (`_horizon`): every row committed later has a larger id than any already delivered. So every committed row is
    delivered exactly once across successive pulls, whatever its `recorded_at`. A page merges the kinds by record
    time, taking each kind's rows in order (a page holds a prefix of every kind)."""
    dept, agreement = _liaison_agreement(session, ctx, department)
    _records_only(dept, agreement)
    start = cursor if cursor is not None else _last_cursor(session, dept)
    decoded = rules.decode_cursor(start) if start else {}
    horizon = _horizon(session)
    after = _from_legacy(session, decoded, horizon) if isinstance(decoded, rules.LegacyCursor) else decoded
    known = kinds()
    readable = _readable(agreement)
    runs: list[list[_Pulled]] = []
    for name, fields in sorted(readable.items()):
        runs.append(_pull_kind(session, ctx, name, known[name], fields, after, horizon, limit))
    # heapq.merge only ever takes the head of a run, so each kind's part of the page is a prefix of its run.
    merged = list(itertools.islice(heapq.merge(*runs, key=lambda p: p.order), limit + 1))
    page = merged[:limit]
    positions = {k: p for k, p in after.items() if k in known}
    positions.update({p.kind: p.position for p in page})
    for name, kind in known.items():
        if name not in readable:
            # Kinds the agreement does not let it read move on too: if it later may, it gets what comes after.
            frontier = _frontier(session, kind, horizon)
            positions[name] = max(positions.get(name, frontier), frontier)
    next_cursor = rules.encode_cursor(positions)
    items = [p.item for p in page]
    purposed = _with_purpose(ctx, dept, agreement)
    log_exchange(
        session,
        ctx,
        direction="out",
        operation="pull",
        department=dept.code,
        agreement_id=agreement.id,
        kinds=sorted({i["kind"] for i in items}),
        row_count=len(items),
        sha256=rules.content_hash(items),
        detail={"cursor": start, "next_cursor": next_cursor},
    )
    registry.log(
        purposed,
        session,
        [
            audit.Event("department.pull", p.kind, p.item["id"], p.subject, {"row_id": p.item["row_id"]})
            for p in page
            if p.kind in registry.PERSONAL_KINDS
        ],
    )
    return {"items": items, "next_cursor": next_cursor, "has_more": len(merged) > limit}


def _area_names(session: Session, area_ids: set[int]) -> dict[int, tuple[str, str]]:

    if not area_ids:
        return {}
    rows = session.execute(
        select(Area.id, Area.code, AreaVersion.name)
        .join(AreaVersion, and_(AreaVersion.entity_id == Area.id, AreaVersion.superseded_at.is_(None)))
        .where(Area.id.in_(area_ids))
        .order_by(AreaVersion.valid_from)
    )
    return {int(i): (str(code), str(name)) for i, code, name in rows}


@dataclass
class Sheet:
    """One kind's rows of an extract (or the aggregates)."""

    name: str
    header: list[str]
    rows: list[list[Any]]


def extract(session: Session, ctx: Context, *, department: str, kind: str | None = None) -> list[Sheet]:
    """The current state cut to the agreement: one sheet per readable kind; aggregates only for an
    aggregates-only (statistics) agreement — counts per area and category, never person rows."""
    dept, agreement = _liaison_agreement(session, ctx, department)
    readable = _readable(agreement)
    if kind is not None and kind not in readable:
        raise Forbidden(
            "department.kind_not_readable",
            "共享协议不允许读取该类对象",
            "The agreement does not let the department read this kind of object",
            {"department": dept.code, "kind": kind},
        )
    wanted = [kind] if kind else sorted(readable)
    known = kinds()
    sheets: list[Sheet] = []
    events: list[audit.Event] = []
    for name in wanted:
        k = known[name]
        v, e = k.version, k.entity
        current = and_(v.entity_id == e.id, v.superseded_at.is_(None), v.valid_to.is_(None))
        if agreement.aggregates_only:
            by = AGGREGATE_BY.get(name)
            category = getattr(v, by) if by else None
            cols = [e.area_id, *([category] if category is not None else [])]
            stmt = (
                registry.scoped(select(*cols, func.count()).select_from(e).join(v, current), k, ctx.actor)
                .group_by(*cols)
                .order_by(*cols)
            )
            counted = session.execute(stmt).all()
            names = _area_names(session, {int(r[0]) for r in counted})
            rows = [
                [name, *names.get(int(r[0]), ("", "")), by or "", _text(r[1]) if by else "", int(r[-1])]
                for r in counted
            ]
            sheets.append(
                Sheet(name, ["kind", "area_code", "area_name", "category_field", "category", "count"], rows)
            )
            continue
        fields = readable[name]
        stmt = registry.scoped(select(e, v).join(v, current), k, ctx.actor).order_by(e.id)
        rows = []
        for ent, row in session.execute(stmt):
            rows.append([ent.id, ent.version, *(_text(_show(name, f, getattr(row, f))) for f in fields)])
            if name in registry.PERSONAL_KINDS:
                events.append(audit.Event("department.extract", name, ent.id, registry.subject_of(k, ent)))
        sheets.append(Sheet(name, ["id", "version", *fields], rows))
    log_exchange(
        session,
        ctx,
        direction="out",
        operation="aggregates" if agreement.aggregates_only else "extract",
        department=dept.code,
        agreement_id=agreement.id,
        kinds=wanted,
        row_count=sum(len(s.rows) for s in sheets),
        sha256=rules.content_hash([[s.name, s.header, s.rows] for s in sheets]),
        detail={"kinds": wanted},
    )
    registry.log(_with_purpose(ctx, dept, agreement), session, events)
    return sheets


def sheets_csv(sheets: Sequence[Sheet]) -> bytes:
    """Sheets as one CSV (UTF-8 with BOM for Excel): one block per sheet, the kind in the first column."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for i, sheet in enumerate(sheets):
        if len(sheets) > 1 and i:
            writer.writerow([])
        writer.writerow(sheet.header)
        writer.writerows(sheet.rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def sheets_xlsx(sheets: Sequence[Sheet]) -> bytes:
    """Sheets as an XLSX workbook, one worksheet per kind."""
    # Imported here: openpyxl is heavy and only an XLSX extract needs it (start-up stays light).
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name[:31])
        ws.append(sheet.header)
        for row in sheet.rows:
            ws.append(row)
    if not sheets:
        wb.create_sheet("empty")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
