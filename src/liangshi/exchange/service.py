"""Import use cases: a file of one kind, in chunks, each chunk one transaction; templates; error reports."""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liangshi import bulk, registry
from liangshi.access.rules import Actor
from liangshi.audit import service as audit
from liangshi.clock import Clock, today_is
from liangshi.db import session_scope
from liangshi.errors import Forbidden
from liangshi.exchange import formats
from liangshi.exchange.loaders import LOADERS, Job, Resolver, RowError
from liangshi.exchange.models import ImportBatch
from liangshi.exchange.reader import LIMITS, Limits, Table, open_table
from liangshi.exchange.rows import Chunk
from liangshi.registry import Context, Provenance

__all__ = [
    "CHUNK",
    "KIND_LABELS",
    "KIND_PERMISSIONS",
    "ImportResult",
    "ensure_may_import",
    "import_file",
    "today_of",
    "write_error_report",
    "write_template",
]

CHUNK = 2000
# A batch still "running" this long after it started is taken as ended by a kill (issue 18: never left running).
STALE_AFTER = dt.timedelta(hours=2)

# What each import kind writes, as the permissions the actor's role must hold: checked for the whole file before
# anything is written (no batch, no audit entry, no row); a row outside the actor's jurisdiction is then refused by
# itself. The kinds are formats.KINDS (a test checks both tables name the same kinds).
KIND_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "areas": ("area.write",),
    "streets": ("street.write",),
    "plates": ("address.write",),
    "buildings": ("building.write",),
    "dwellings": ("dwelling.write",),
    "persons": ("person.write",),  # with their identity documents (part of the person)
    "households": ("household.write",),  # with their memberships; members must already be registered persons
    "residences": ("residence.write",),
    "rentals": ("rental.write",),  # with their tenancies; tenants must already live in the dwelling
    "venues": ("venue.write",),
    # A stay is the venue's own guest log (there is no stay permission): whoever may register the venue and issue
    # its API key may enter its log on its behalf. Guests are matched to registered persons, never created.
    "stays": ("venue.write",),
}
# The kinds as the refusal names them (Chinese, English).
KIND_LABELS: dict[str, tuple[str, str]] = {
    "areas": ("区划", "areas"),
    "streets": ("街路巷", "streets"),
    "plates": ("门牌", "door plates"),
    "buildings": ("楼栋", "buildings"),
    "dwellings": ("房屋", "dwellings"),
    "persons": ("人员", "persons"),
    "households": ("户", "households"),
    "residences": ("居住登记", "residences"),
    "rentals": ("出租房屋", "rentals"),
    "venues": ("旅店网吧", "hotels and internet cafés"),
    "stays": ("住宿上网登记", "venue stays"),
}


def ensure_may_import(actor: Actor, kind: str) -> None:
    """Refuse (403 `import.forbidden`) unless the actor's role holds every permission the kind's rows need."""
    if kind not in KIND_PERMISSIONS:
        formats.header_map(
            kind, []
        )  # refuses the unknown kind (import.kind_unknown), as the file's header would
    missing = [p for p in KIND_PERMISSIONS[kind] if not actor.may(p)]
    if missing:
        zh, en = KIND_LABELS[kind]
        raise Forbidden(
            "import.forbidden",
            f"您的角色无权导入{zh}（需要 {', '.join(missing)} 权限）",
            f"Your role may not import {en} (it needs {', '.join(missing)})",
            {"action": f"import.{kind}", "kind": kind, "role": actor.role, "missing": missing},
        )


@dataclass
class ImportResult:
    """The batch and what became of its rows."""

    batch_id: int
    kind: str
    rows: int = 0
    loaded: int = 0
    existing: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0


def _chunks(rows: Iterator[tuple[int, list[str]]], mapping: dict[int, str], size: int) -> Iterator[Chunk]:
    """The non-blank rows in chunks of `size`."""
    rows = (
        (line, cells) for line, cells in rows if any(cells) and (cells[0].strip() or "".join(cells).strip())
    )
    while True:
        chunk = list(islice(rows, size))
        if not chunk:
            return
        yield Chunk(mapping, chunk)


def _start_batch(
    sessions: sessionmaker[Session],
    kind: str,
    path: Path,
    table: Table,
    source: str | None,
    actor: Actor,
    started: dt.datetime,
    today: dt.date,
) -> int:
    """The batch record and its `import.start` entry, in a transaction of their own; returns the batch id.
    Batches left running by a killed process are marked failed first."""
    with session_scope(sessions) as session:
        _fail_stale(session, actor, started, today)
        batch = ImportBatch(
            kind=kind,
            source=source or "import",
            file_name=path.name,
            file_sha256=table.sha256,
            actor_id=actor.user_id,
            actor_name=actor.username,
            started_at=started,
            status="running",
        )
        session.add(batch)
        session.flush()
        registry.log(
            Context(actor=actor, now=started, today=today),
            session,
            [
                audit.Event(
                    "import.start",
                    "import_batch",
                    batch.id,
                    None,
                    {"kind": kind, "file": path.name, "sha256": table.sha256, "source": source},
                )
            ],
        )
        return batch.id


def _fail(
    session: Session, batch: ImportBatch, reason: str, actor: Actor, now: dt.datetime, today: dt.date
) -> None:
    batch.status = "failed"
    batch.finished_at = now
    registry.log(
        Context(actor=actor, now=now, today=today),
        session,
        [audit.Event("import.fail", "import_batch", batch.id, None, {"reason": reason})],
    )


def _fail_stale(session: Session, actor: Actor, now: dt.datetime, today: dt.date) -> None:
    """Mark failed every batch running since before STALE_AFTER: its process was killed."""
    stale = session.execute(
        select(ImportBatch).where(ImportBatch.status == "running", ImportBatch.started_at < now - STALE_AFTER)
    ).scalars()
    for batch in stale:
        _fail(session, batch, "stale", actor, now, today)
    session.flush()


def fail_batch(
    sessions: sessionmaker[Session], batch_id: int, reason: str, actor: Actor, clock: Clock
) -> None:
    """Mark a batch ended by an error failed, in a transaction of its own."""
    with session_scope(sessions) as session:
        batch = session.get(ImportBatch, batch_id)
        if batch is not None and batch.status == "running":
            _fail(session, batch, reason, actor, clock.now(), clock.today())


def import_file(
    sessions: sessionmaker[Session],
    *,
    kind: str,
    path: Path,
    source: str | None,
    actor: Actor,
    clock: Clock,
    progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK,
    limits: Limits = LIMITS,
) -> ImportResult:
    """Import a file of one kind. The role's right to write the kind and file-level problems raise before anything
    is written; bad rows (also those outside the actor's jurisdiction) are reported."""
    ensure_may_import(actor, kind)
    table = open_table(path, limits)
    mapping = formats.header_map(kind, table.header)
    started = clock.now()
    batch_id = _start_batch(sessions, kind, path, table, source, actor, started, clock.today())
    try:
        return _run_batch(
            sessions,
            kind,
            path,
            table,
            mapping,
            source,
            actor,
            clock,
            progress,
            chunk_size,
            batch_id,
            started,
        )
    except BaseException as exc:
        # Any error, Ctrl-C included, ends the batch: it is never left running (issue 18).
        fail_batch(sessions, batch_id, getattr(exc, "code", type(exc).__name__), actor, clock)
        raise


def _run_batch(
    sessions: sessionmaker[Session],
    kind: str,
    path: Path,
    table: Table,
    mapping: dict[int, str],
    source: str | None,
    actor: Actor,
    clock: Clock,
    progress: Callable[[int], None] | None,
    chunk_size: int,
    batch_id: int,
    started: dt.datetime,
) -> ImportResult:
    """The chunks of a started batch, then its `import.finish`."""
    result = ImportResult(batch_id=batch_id, kind=kind)
    prov = Provenance(
        "department" if source else "import",
        source or f"batch:{batch_id}",
        "document",
        f"{path.name} sha256:{table.sha256[:16]}",
    )
    loader = LOADERS[kind]
    resolver: Resolver | None = None
    loaded: Counter[str] = Counter()  # rows per table, for the statistics at the end
    for chunk in _chunks(table.rows, mapping, chunk_size):
        # One transaction per chunk: an interrupted import keeps whole chunks, and a rerun skips what exists.
        try:
            with session_scope(sessions) as session:
                bulk.tune_for_load(session)
                if resolver is None:
                    resolver = Resolver(session, actor)
                resolver.session = session
                job = Job(session, actor, clock.now(), clock.today(), prov, batch_id, resolver)
                with today_is(job.today):
                    outcome = loader(job, chunk)
                batch_row = session.get(ImportBatch, batch_id)
                assert batch_row is not None
                batch_row.rows_total += len(chunk)
                batch_row.rows_loaded += outcome.loaded
                batch_row.rows_existing += outcome.existing
                batch_row.rows_rejected += len(outcome.errors)
                loaded.update(bulk.take_loaded(session))
        except BaseException:
            if resolver is not None:
                resolver.reset()
            raise
        result.rows += len(chunk)
        result.loaded += outcome.loaded
        result.existing += outcome.existing
        result.errors.extend(outcome.errors)
        if progress is not None:
            progress(len(chunk))
    with session_scope(sessions) as session:
        bulk.tune_for_load(session, loading=False)
        # The planner sees what was loaded at once, not once autovacuum gets to it (issue 19).
        bulk.analyse(session, loaded)
        batch_row = session.get(ImportBatch, batch_id)
        assert batch_row is not None
        batch_row.status = "done"
        batch_row.finished_at = clock.now()
        registry.log(
            Context(actor=actor, now=clock.now(), today=clock.today()),
            session,
            [
                audit.Event(
                    "import.finish",
                    "import_batch",
                    batch_id,
                    None,
                    {"loaded": result.loaded, "existing": result.existing, "rejected": len(result.errors)},
                )
            ],
        )
    result.seconds = (clock.now() - started).total_seconds()
    return result


def write_error_report(errors: list[RowError], path: Path) -> None:
    """The rejected rows as CSV (UTF-8 with BOM so Excel opens it) or XLSX: line, field, code, messages."""
    header = ["line", "field", "code", "message", "message_en"]
    rows = [[e.line, e.field, e.code, e.message_zh, e.message_en] for e in errors]
    if path.suffix.lower() == ".xlsx":
        # Imported when an Excel file is asked for: openpyxl is heavy, and most reports are CSV.
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("errors")
        ws.append(header)
        for r in rows:
            ws.append(r)
        wb.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def write_template(kind: str, path: Path, *, chinese: bool = False) -> None:
    """An empty template: the header row and one example row."""
    formats.header_map(
        kind, [c.key for c in formats.KINDS[kind]]
    ) if kind in formats.KINDS else formats.header_map(kind, [])
    columns = formats.KINDS[kind]
    header = [c.zh if chinese else c.key for c in columns]
    example = [formats.EXAMPLES[kind].get(c.key, "") for c in columns]
    if path.suffix.lower() == ".xlsx":
        # Imported when an Excel file is asked for: openpyxl is heavy, and most reports are CSV.
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(kind)
        ws.append(header)
        ws.append(example)
        wb.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerow(example)


def today_of(clock: Clock) -> dt.date:
    """Today for the importer (kept for symmetry with the services)."""
    return clock.today()
