"""The whole synthetic city in one call: every department's file of `liangshi synth` through the importer.

Here rather than in `synth/`: it sends the health and justice files as department batches (departments) and holds
the housing, health and justice files for checking (checks), and those packages sit above the synthetic city's
generator (the linkage benchmarks use it), so `synth/` importing them would close a cycle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from liangshi.access.rules import Actor
from liangshi.checks import service as checks
from liangshi.clock import Clock
from liangshi.db import session_scope
from liangshi.departments import rules as department_rules
from liangshi.departments import service as departments
from liangshi.departments.models import Department
from liangshi.errors import LiangshiError
from liangshi.exchange.service import ImportResult
from liangshi.registry import Context
from liangshi.synth.load import load_city

# The civil affairs department's names of areas and streets, sent as its batches (`feed_places`) after the police
# files: a row the register holds as it is comes back `same`, a rename or new facts are changes, a bad row refused.
CIVIL_AFFAIRS = "civil_affairs"
CIVIL_AFFAIRS_ORDER = (("civil_affairs_areas", "areas"), ("civil_affairs_streets", "streets"))
# Department feeds, each file (when the city has it) sent as a batch under the department's agreement, in this
# order: (file stem, department, kind). Health's persons (children 0-3) and justice's (the persons it handles) name
# the community they concern (管辖社区); health's births (`synth --more-kinds`: each newborn proposed in the mother's
# household for the station's review); justice's community-correction cases (each kept beside its person).
FEEDS = (
    ("health_persons", "health", "persons"),
    ("justice_persons", "justice", "persons"),
    ("health_births", "health", "births"),
    ("justice_corrections", "justice", "corrections"),
)
FEED_FIELDS = [
    "name",
    "sex",
    "birth_date",
    "ethnicity",
    "nationality",
    "hukou_region",
    "hukou_address",
    "education",
    "marital_status",
    "occupation",
    "workplace",
    "phone",
]
# The department files the checks compare the register with (`checks.load_source`), by import kind.
CHECK_SOURCES = (
    ("housing_dwellings", "dwellings"),
    ("housing_rentals", "rentals"),
    ("health_persons", "persons"),
    ("justice_persons", "persons"),
)
AGREEMENT_FROM = dt.date(2010, 1, 1)
# What a department provides beyond FEED_FIELDS: health also sends births (feed_births, synth's health_births.csv),
# justice its community-correction cases (feed_corrections, synth's justice_corrections.csv).
EXTRA_PROVIDES: dict[str, tuple[str, ...]] = {"health": ("birth",), "justice": ("correction",)}
# What civil affairs provides: the names (and codes) of areas and streets, no person fields.
PLACES_PROVIDE: dict[str, list[str]] = {"area": ["name"], "street": ["name"]}


@dataclass(frozen=True)
class RefusedBatch:
    """A department batch refused as a whole (its file, every row bad, or one bad row under an all-or-nothing
    agreement), kept as a refused batch with its report (`record_refused`): nothing of it was written. `reasons`:
    the refusal's message and its first row problems (line, field, code), for the build's summary."""

    batch_id: int | None
    code: str
    rows: int
    rejected: int
    department: str = ""
    kind: str = ""
    reasons: tuple[str, ...] = ()


# How many row problems of a refused batch the build's summary repeats (the batch's report keeps up to
# `departments.MAX_ROW_ERRORS`).
REASONS_SHOWN = 5


def _reasons(exc: LiangshiError) -> tuple[str, ...]:
    data = exc.data or {}
    rows = [
        f"line {e.get('line')} {e.get('field') or ''}: {e.get('code')}".replace("  ", " ")
        for e in list(data.get("errors", []))[:REASONS_SHOWN]
        if isinstance(e, dict)
    ]
    return (f"{exc.message_zh} / {exc.message_en}", *rows)


@dataclass
class CityLoad:
    """What loading a whole synthetic city did: each bulk-imported file, each department batch (accepted, or
    refused as a whole), each file held for checking."""

    imports: dict[str, ImportResult] = field(default_factory=dict)
    batches: dict[str, departments.BatchResult] = field(default_factory=dict)
    held: dict[str, checks.SourceLoad] = field(default_factory=dict)
    refused: dict[str, RefusedBatch] = field(default_factory=dict)


def _ensure_agreement(session: Session, ctx: Context, code: str) -> None:
    """The department and an agreement in force letting it provide the feed's person fields, or for civil
    affairs the areas' and streets' names (made once)."""
    dept = session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if dept is None:
        dept = departments.add_department(session, ctx, code=code, name_zh=None, name_en=None)
    try:
        departments.agreement_in_force(session, dept, ctx.today)
        return
    except LiangshiError:
        pass
    spec = department_rules.parse_agreement(
        {
            "department": code,
            "purpose": "合成城市：部门数据与人口登记核对 / synthetic city: records checked against the register",
            "valid_from": AGREEMENT_FROM.isoformat(),
            "provides": (
                PLACES_PROVIDE
                if code == CIVIL_AFFAIRS
                else {"person": [*FEED_FIELDS, *EXTRA_PROVIDES.get(code, ())]}
            ),
            "reads": {},
        },
        departments.known_fields(),
    )
    departments.add_agreement(session, ctx, spec)


def send_batch(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    department: str,
    kind: str,
    actor: Actor,
    clock: Clock,
) -> departments.BatchResult | RefusedBatch | None:
    """One department file sent as its batch under the department's agreement (made once, `_ensure_agreement`): a
    bad row is refused, the good rows kept (all of them refused under an all-or-nothing agreement). A batch
    refused as a whole (a wholly bad file, no good row, a bad row under all-or-nothing, a limit) is kept as a
    refused batch with its report and returned as such, so the build goes on; a refusal of the sender (403) is
    raised. A file with no rows is not sent (None)."""
    purpose = f"synth {path.stem}"
    with session_scope(sessions) as session:
        _ensure_agreement(
            session, Context(actor=actor, now=clock.now(), today=clock.today(), purpose=purpose), department
        )
    table: departments.FeedTable | None = None
    try:
        table = departments.table_from_file(path)
        if not table.rows:
            return None
        with session_scope(sessions) as session:
            ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose=purpose)
            return departments.submit_batch(
                session,
                ctx,
                department=department,
                kind=kind,
                table=table,
                precedence=department_rules.load_precedence(),
            )
    except LiangshiError as exc:
        if exc.http_status not in departments.KEPT_REFUSALS:
            raise
        if table is None:
            name, sha256 = path.name, hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            name, sha256 = table.name, table.sha256
        with session_scope(sessions) as session:
            ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose=purpose)
            batch_id = departments.record_refused(
                session, ctx, department=department, kind=kind, file_name=name, sha256=sha256, refusal=exc
            )
        data = exc.data or {}
        return RefusedBatch(
            batch_id,
            exc.code,
            int(data.get("rows", 0) or 0),
            int(data.get("rejected", 0) or 0),
            department,
            kind,
            _reasons(exc),
        )


def _send_into(
    out: CityLoad,
    sessions: sessionmaker[Session],
    directory: Path,
    stem: str,
    *,
    department: str,
    kind: str,
    actor: Actor,
    clock: Clock,
    progress: Callable[[str, int], None] | None,
) -> None:
    """`send_batch` of `<stem>.csv` when the city has it, its outcome kept in `out` (accepted or refused)."""
    path = directory / f"{stem}.csv"
    if not path.exists():
        return
    sent = send_batch(sessions, path, department=department, kind=kind, actor=actor, clock=clock)
    if sent is None:
        return
    if isinstance(sent, RefusedBatch):
        out.refused[stem] = sent
        rows = sent.rows
    else:
        out.batches[stem] = sent
        rows = sent.rows + len({p.line for p in sent.rejected})
    if progress is not None:
        progress(stem, rows)


def send_civil_affairs(
    sessions: sessionmaker[Session],
    directory: Path,
    *,
    actor: Actor,
    clock: Clock,
    progress: Callable[[str, int], None] | None,
) -> tuple[dict[str, departments.BatchResult], dict[str, RefusedBatch]]:
    """The civil affairs department's areas and streets files, each sent as its batch (`send_batch`;
    `feed_places`: matched by code, or by district and name; the police files loaded the same places, so a row
    comes back `same` unless civil affairs renames it or gives it new facts). Returns the accepted batches and the
    refused ones, by file stem."""
    out = CityLoad()
    for stem, kind in CIVIL_AFFAIRS_ORDER:
        _send_into(
            out,
            sessions,
            directory,
            stem,
            department=CIVIL_AFFAIRS,
            kind=kind,
            actor=actor,
            clock=clock,
            progress=progress,
        )
    return out.batches, out.refused


def load_whole_city(
    sessions: sessionmaker[Session],
    directory: Path,
    *,
    actor: Actor,
    clock: Clock,
    progress: Callable[[str, int], None] | None = None,
) -> CityLoad:
    """Every department's file of a synthetic city: the police extracts, the housing department's rentals, the
    venues and their stays (`load_city`, the bulk importer); the civil affairs department's areas and streets, the
    health and justice departments' person files and health's births as department batches under their
    agreements (bad rows reported, good rows kept); then the housing, health and justice files held for
    checking, so that `liangshi checks run` can be scored against truth/ at once."""
    out = CityLoad(imports=load_city(sessions, directory, actor=actor, clock=clock, progress=progress))
    places, out.refused = send_civil_affairs(sessions, directory, actor=actor, clock=clock, progress=progress)
    out.batches.update(places)
    for stem, department, kind in FEEDS:
        _send_into(
            out,
            sessions,
            directory,
            stem,
            department=department,
            kind=kind,
            actor=actor,
            clock=clock,
            progress=progress,
        )
    with session_scope(sessions) as session:
        ctx = Context(actor=actor, now=clock.now(), today=clock.today(), purpose="synth checks sources")
        for stem, kind in CHECK_SOURCES:
            out.held[stem] = checks.load_source(
                session, ctx, source=stem, kind=kind, path=directory / f"{stem}.csv"
            )
    return out
