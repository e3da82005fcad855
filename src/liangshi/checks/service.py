"""Check use cases: run checks over an area, list and dismiss findings, hold a department's file for checking.

A run computes every finding of the checks asked for in one SQL statement per check (`checks.sql`), then merges
them with the stored findings of that area in the caller's transaction: a finding found again stays open (its
evidence refreshed), one no longer found is closed as fixed, a dismissed one stays dismissed, a new one opens and
is assigned to the collector of its area (else the check's owner). An interrupted run rolls back with its
transaction, so the previous findings stay as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from liangshi.access.models import User
from liangshi.access.service import SYSTEM
from liangshi.addresses.models import Address
from liangshi.addresses.rules import parse_plate_number, render_plate_number
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.checks import rules, sql
from liangshi.checks.models import CheckRun, Finding, SourceRecord
from liangshi.common.idnumber import mask_id_number, normalize_id_text
from liangshi.db import session_scope
from liangshi.errors import LiangshiError, NotFound, ValidationFailed
from liangshi.exchange import formats
from liangshi.exchange.reader import open_table
from liangshi.registry import Context
from liangshi.registry.usecases import log

# The department files a check can compare the register with, by import kind.
SOURCE_KINDS = ("dwellings", "persons", "rentals")


@dataclass(frozen=True)
class Found:
    """One finding as a check computed it, before it is merged with the stored ones."""

    check: str
    object_kind: str
    object_id: int | None
    area_id: int
    county_code: str
    keys: dict[str, str]
    evidence: dict[str, Any]

    def line(self) -> dict[str, Any]:
        """The finding as one line of `liangshi checks run --json`."""
        return {"check": self.check, "keys": self.keys, "evidence": self.evidence}


@dataclass
class RunResult:
    """What a run found and what became of the stored findings."""

    run: CheckRun
    found: list[Found] = field(default_factory=list)
    opened: int = 0
    kept: int = 0
    closed: int = 0
    dismissed_kept: int = 0
    per_check: dict[str, int] = field(default_factory=dict)


# -- scope ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The area subtree a run or a list covers (the whole register for the system actor)."""

    id: int | None
    path: str
    code: str


def scope_area(session: Session, ctx: Context, area_code: str | None) -> Scope:
    """The area a run or a list covers: the actor's own when none is named; a foreign or unknown one refused."""
    if area_code is None:
        if ctx.actor.area_path == "/":
            return Scope(None, "/", "")
        area = session.get(Area, ctx.actor.area_id)
    else:
        area = session.execute(select(Area).where(Area.code == area_code.strip())).scalar_one_or_none()
    if area is None or not ctx.actor.covers_path(area.path):
        raise NotFound(
            "check.area_not_found",
            f"区划“{area_code}”不存在或不在您的辖区内",
            f"Area {area_code!r} does not exist or lies outside your jurisdiction",
            {"field": "area", "input": area_code},
        )
    return Scope(area.id, area.path, area.code)


def _area_is_empty(session: Session, area: Scope) -> bool:
    scoped = select(Area.id).where(Area.path.like(area.path + "%"))
    for table in (Address, SourceRecord):
        if session.execute(select(table.id).where(table.area_id.in_(scoped)).limit(1)).first() is not None:
            return False
    return True


# -- the checks ------------------------------------------------------------------------------------------------


def _number(row: Any) -> str:
    return render_plate_number(int(row.base_number), row.sub_number, row.style or "dash")


def _plate_keys(row: Any, number: str | None = None) -> dict[str, str]:
    return {
        "community_code": str(row.community_code),
        "street": str(row.street or ""),
        "number": number if number is not None else _number(row),
    }


def _dwelling_keys(row: Any, number: str | None = None) -> dict[str, str]:
    return {
        **_plate_keys(row, number),
        "building": str(row.building or ""),
        "unit": "" if row.unit is None else str(row.unit),
        "room": str(row.room or ""),
    }


def _rows(session: Session, statement: str, prefix: str, **params: Any) -> Sequence[Any]:
    return session.execute(text(statement), {"prefix": prefix, **params}).all()


def _not_installed(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sql.PLATE_NOT_INSTALLED, prefix):
        yield Found(
            "plate.not_installed",
            "address",
            r.object_id,
            r.area_id,
            r.county_code,
            _plate_keys(r),
            {"status": r.status},
        )


def _missing(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sql.PLATE_MISSING, prefix):
        # The register lacks the plate: its number is known only as the department wrote it.
        yield Found(
            "plate.missing",
            "address",
            None,
            r.area_id,
            r.county_code,
            _plate_keys(r, str(r.number_text)),
            {"source": r.source, "line": r.line, "dwellings_named": r.dwellings, "as_written": r.number_text},
        )


Axis = tuple[int, float | None, float | None, float | None, float | None]


def _street_axes(session: Session, prefix: str) -> list[Axis]:
    """Each street's start (lon, lat) and unit direction (east, north) from its start description and bearing;
    None where the street's start is written in words or its bearing is unknown."""
    rows = session.execute(
        text(f"SELECT DISTINCT p.street_id, p.start_description, p.bearing_deg FROM ({sql.STREET_PLATES}) p"),
        {"prefix": prefix},
    ).all()
    axes: list[Axis] = []
    for street_id, start, bearing in rows:
        try:
            lon, lat = (float(v) for v in str(start).split()[-1].split(","))
            b = math.radians(float(bearing))
        except (ValueError, TypeError):
            axes.append((int(street_id), None, None, None, None))
            continue
        axes.append((int(street_id), lon, lat, math.sin(b), math.cos(b)))
    return axes


def _sided(session: Session, prefix: str, select_sql: str) -> Iterable[Any]:
    """Run `select_sql` over the street plates with their side (`p`, street by street in chunks) and each side's
    parity counts (`m`).

    The side is the sign of the cross product of the street's direction with the plate's offset from the street's
    start (in local metres east and north); NULL where the plate or the street has no position. Which parity
    belongs to which side is the street's convention, as most of its plates follow it (odd on the left, 左单右双,
    or the reverse: `m.odd_left` against `m.even_left`), so a side with few plates is judged by the whole street;
    a plate of the other parity is on the wrong side (`p.wrong`).
    """
    axes = _street_axes(session, prefix)
    for i in range(0, len(axes), 400):
        chunk = axes[i : i + 400]
        params: dict[str, Any] = {"prefix": prefix}
        values = []
        for j, (sid, lon, lat, east, north) in enumerate(chunk):
            values.append(
                f"(CAST(:s{j} AS BIGINT), CAST(:x{j} AS FLOAT), CAST(:y{j} AS FLOAT), CAST(:e{j} AS FLOAT),"
                f" CAST(:n{j} AS FLOAT), CAST(:c{j} AS FLOAT))"
            )
            params |= {
                f"s{j}": sid,
                f"x{j}": lon,
                f"y{j}": lat,
                f"e{j}": east,
                f"n{j}": north,
                f"c{j}": None if lat is None else math.cos(math.radians(lat)),
            }
        statement = f"""
WITH st(street_id, x0, y0, ux, uy, coslat) AS (VALUES {", ".join(values)}),
s AS (
  SELECT q.*, CASE
      WHEN st.x0 IS NULL OR q.lon IS NULL OR q.lat IS NULL THEN NULL
      WHEN st.ux * (q.lat - st.y0) - st.uy * (q.lon - st.x0) * st.coslat > 0 THEN 'left'
      ELSE 'right' END AS side
  FROM ({sql.STREET_PLATES}) q JOIN st ON st.street_id = q.street_id
),
m AS (
  SELECT street_id,
    SUM(CASE WHEN (side = 'left') = (base_number % 2 = 1) THEN 1 ELSE 0 END) AS odd_left,
    SUM(CASE WHEN (side = 'left') = (base_number % 2 = 0) THEN 1 ELSE 0 END) AS even_left
  FROM s WHERE side IS NOT NULL GROUP BY street_id
),
p AS (
  SELECT s.*, m.odd_left, m.even_left,
    CASE WHEN s.side IS NOT NULL AND (
           (m.odd_left > m.even_left AND (s.side = 'left') = (s.base_number % 2 = 0))
        OR (m.even_left > m.odd_left AND (s.side = 'left') = (s.base_number % 2 = 1)))
         THEN 1 ELSE 0 END AS wrong
  FROM s LEFT JOIN m ON m.street_id = s.street_id
)
{select_sql}
"""
        yield from session.execute(text(statement), params).all()


def _wrong_side(session: Session, prefix: str) -> Iterable[Found]:
    for r in _sided(session, prefix, "SELECT * FROM p WHERE wrong = 1"):
        yield Found(
            "plate.wrong_side",
            "address",
            r.object_id,
            r.area_id,
            r.county_code,
            _plate_keys(r),
            {
                "side": r.side,
                "chainage_m": r.chainage_m,
                "street_convention": "odd_left" if r.odd_left > r.even_left else "even_left",
                "plates_following_it": int(max(r.odd_left, r.even_left)),
                "plates_against_it": int(min(r.odd_left, r.even_left)),
            },
        )


def _out_of_order(session: Session, prefix: str) -> Iterable[Found]:
    # Order is judged among the plates that belong to a side: one on the wrong side is reported as such, and its
    # number (taken from the other side's sequence) neither is nor makes another plate out of order. SQL finds
    # the sequences with an inversion; the rule on each sequence says which plates are out of place.
    rows = list(_sided(session, prefix, sql.OUT_OF_ORDER_OVER_P))
    sequences: dict[tuple[int, int], list[Any]] = {}
    for r in rows:
        sequences.setdefault((int(r.street_id), int(r.base_number) % 2), []).append(r)
    for plates in sequences.values():
        numbers = [(int(r.base_number), int(r.sub_number or 0)) for r in plates]
        for i in sorted(rules.out_of_order(numbers)):
            r = plates[i]
            yield Found(
                "plate.out_of_order",
                "address",
                r.object_id,
                r.area_id,
                r.county_code,
                _plate_keys(r),
                {
                    "chainage_m": r.chainage_m,
                    "before": _number(plates[i - 1]) if i > 0 else None,
                    "after": _number(plates[i + 1]) if i + 1 < len(plates) else None,
                },
            )


def _person_keys(doc_type: str | None, number: str | None) -> dict[str, str]:
    return {"doc_type": doc_type or "", "id_number": number or ""}


def _duplicate(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sql.PERSON_DUPLICATE, prefix):
        yield Found(
            "person.duplicate",
            "person",
            r.by_number or r.by_name_birth,
            r.area_id,
            r.county_code,
            {**_person_keys(r.doc_type or "resident_id", r.id_number), "source": r.source},
            {
                "source": r.source,
                "line": r.line,
                "name": r.name,
                "birth_date": str(r.birth_date) if r.birth_date else None,
                "same_number_as_person": r.by_number,
                "same_name_and_birth_as_person": r.by_name_birth,
            },
        )


def _departed(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sql.DEPARTED_NOT_DEREGISTERED, prefix):
        yield Found(
            "residence.departed_not_deregistered",
            "residence",
            r.object_id,
            r.area_id,
            r.county_code,
            _person_keys(r.doc_type, r.id_number),
            {
                "dwelling": _dwelling_keys(r),
                "dwelling_status": r.dwelling_status,
                "housing_status": r.source_status,
                "person_id": r.person_id,
            },
        )


def _tenant_unregistered(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sql.TENANT_UNREGISTERED, prefix):
        yield Found(
            "rental.tenant_unregistered",
            "person",
            None,
            r.area_id,
            r.county_code,
            _person_keys(r.doc_type or "resident_id", r.id_number),
            {
                "source": r.source,
                "line": r.line,
                "dwelling": {
                    "community_code": r.community_code,
                    "street": r.street or "",
                    "number": r.number,
                    "building": r.building,
                    "unit": r.unit or "",
                    "room": r.room,
                },
                "landlord_id_number": r.landlord_id_number,
            },
        )


def _no_agreement(session: Session, prefix: str) -> Iterable[Found]:
    seen: set[str] = set()
    for r in _rows(session, sql.RENTAL_NO_AGREEMENT, prefix):
        keys = _dwelling_keys(r)
        seen.add(rules.fingerprint(keys))
        yield Found(
            "rental.no_agreement",
            "dwelling",
            r.object_id,
            r.area_id,
            r.county_code,
            keys,
            {"rental_id": r.rental_id, "landlord_id_number": r.landlord_id_number, "source": "register"},
        )
    for r in _rows(session, sql.SOURCE_RENTAL_NO_AGREEMENT, prefix):
        keys = {
            "community_code": r.community_code,
            "street": r.street or "",
            "number": r.number_text,
            "building": r.building or "",
            "unit": r.unit or "",
            "room": r.room or "",
        }
        if rules.fingerprint(keys) in seen:
            continue
        yield Found(
            "rental.no_agreement",
            "dwelling",
            None,
            r.area_id,
            r.county_code,
            keys,
            {"landlord_id_number": r.landlord_id_number, "source": r.source, "line": r.line},
        )


def _vacant_occupied(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sql.VACANT_RECORDED_OCCUPIED, prefix):
        yield Found(
            "dwelling.vacant_recorded_occupied",
            "dwelling",
            r.object_id,
            r.area_id,
            r.county_code,
            _dwelling_keys(r),
            {
                "status": r.status,
                "open_residences": int(r.open_residences),
                "housing_status": r.source_status,
            },
        )


RUNNERS: dict[str, Callable[[Session, str], Iterable[Found]]] = {
    "plate.not_installed": _not_installed,
    "plate.missing": _missing,
    "plate.wrong_side": _wrong_side,
    "plate.out_of_order": _out_of_order,
    "person.duplicate": _duplicate,
    "residence.departed_not_deregistered": _departed,
    "rental.tenant_unregistered": _tenant_unregistered,
    "rental.no_agreement": _no_agreement,
    "dwelling.vacant_recorded_occupied": _vacant_occupied,
}


# -- a run -----------------------------------------------------------------------------------------------------


def _collectors(session: Session, prefix: str) -> list[tuple[str, int]]:
    """The collectors working inside the scope, deepest area first: (area path, user id)."""
    rows = session.execute(
        select(Area.path, User.id)
        .join(User, User.area_id == Area.id)
        .where(User.role == "collector", User.active.is_(True), Area.path.like(prefix))
        .order_by(func.length(Area.path).desc(), User.id)
    ).all()
    return [(str(p), int(u)) for p, u in rows]


def _assignee(paths: dict[int, str], collectors: list[tuple[str, int]], area_id: int) -> int | None:
    path = paths.get(area_id)
    if path is None:
        return None
    for collector_path, user_id in collectors:
        if path.startswith(collector_path):
            return user_id
    return None


def run_checks(
    session: Session,
    ctx: Context,
    *,
    area_code: str | None = None,
    codes: Sequence[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> RunResult:
    """Run the named checks (all by default) over an area and merge their findings; flushes, never commits."""
    ctx.actor.ensure("check.run")
    chosen = rules.select_checks(codes)
    area = scope_area(session, ctx, area_code)
    if _area_is_empty(session, area):
        raise ValidationFailed(
            "check.area_empty",
            "该区划内没有任何门牌、房屋或部门记录，无可检查",
            "The area holds no plates, dwellings or department records to check",
            {"field": "area", "input": area.code},
        )
    prefix = area.path + "%"
    run = CheckRun(
        area_id=area.id,
        checks=",".join(c.code for c in chosen),
        actor_id=ctx.actor.user_id,
        actor_name=ctx.actor.username,
        started_at=ctx.now,
    )
    session.add(run)
    session.flush()
    result = RunResult(run=run)
    for c in chosen:
        found = list(RUNNERS[c.code](session, prefix))
        # One finding per object and check: the same keys from two rules of one check are one work item.
        unique = {rules.fingerprint(f.keys): f for f in found}
        result.found.extend(unique.values())
        result.per_check[c.code] = len(unique)
        if progress is not None:
            progress(c.code, len(unique))
    _merge(session, ctx, area, chosen, result)
    run.found = len(result.found)
    run.opened = result.opened
    run.closed = result.closed
    run.finished_at = ctx.now
    log(
        ctx,
        session,
        [
            audit.Event(
                "check.run",
                "area" if area.id is not None else None,
                area.id,
                detail={
                    "run_id": run.id,
                    "checks": [c.code for c in chosen],
                    "found": run.found,
                    "opened": run.opened,
                    "closed": run.closed,
                },
            )
        ],
    )
    session.flush()
    return result


def _merge(session: Session, ctx: Context, area: Scope, chosen: list[rules.Check], result: RunResult) -> None:
    prefix = area.path + "%"
    scoped = select(Area.id).where(Area.path.like(prefix))
    codes = [c.code for c in chosen]
    stored = {
        (f.check_code, f.fingerprint): f
        for f in session.execute(
            select(Finding).where(Finding.check_code.in_(codes), Finding.area_id.in_(scoped))
        ).scalars()
    }
    paths = {
        int(i): str(p) for i, p in session.execute(select(Area.id, Area.path).where(Area.path.like(prefix)))
    }
    collectors = _collectors(session, prefix)
    seen: set[tuple[str, str]] = set()
    new: list[dict[str, Any]] = []
    for f in result.found:
        key = (f.check, rules.fingerprint(f.keys))
        seen.add(key)
        old = stored.get(key)
        evidence = json.dumps(f.evidence, ensure_ascii=False, default=str)
        if old is None:
            new.append(
                {
                    "check_code": f.check,
                    "fingerprint": key[1],
                    "object_kind": f.object_kind,
                    "object_id": f.object_id,
                    "keys": json.dumps(f.keys, ensure_ascii=False),
                    "evidence": evidence,
                    "status": "open",
                    "area_id": f.area_id,
                    "county_code": f.county_code,
                    "assignee_id": _assignee(paths, collectors, f.area_id),
                    "owner": rules.CHECKS[f.check].owner,
                    "first_run_id": result.run.id,
                    "last_run_id": result.run.id,
                    "opened_at": ctx.now,
                }
            )
            continue
        old.last_run_id = result.run.id
        old.evidence = evidence
        if old.status == "dismissed":
            result.dismissed_kept += 1
        elif old.status == "fixed":  # found again: it was not fixed after all
            old.status = "open"
            old.closed_at = None
            result.opened += 1
        else:
            result.kept += 1
    if new:
        session.execute(insert(Finding), new)
        result.opened += len(new)
    for key, old in stored.items():
        if key not in seen and old.status == "open":
            old.status = "fixed"
            old.closed_at = ctx.now
            result.closed += 1


# -- findings as work items -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FindingView:
    """A stored finding as the list shows it (ID numbers masked unless the actor may unmask)."""

    id: int
    check: str
    title: str
    severity: str
    status: str
    keys: dict[str, Any]
    evidence: dict[str, Any]
    area_id: int
    assignee: str | None
    owner: str
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    dismiss_reason: str | None


def _mask(value: Any, unmask: bool) -> Any:
    if unmask:
        return value
    if isinstance(value, dict):
        return {
            k: (
                mask_id_number(v)
                if isinstance(v, str) and (k.endswith("id_number") or k == "id_number") and v
                else _mask(v, unmask)
            )
            for k, v in value.items()
        }
    return value


def _view(f: Finding, users: dict[int, str], lang: str) -> FindingView:
    # Lists always show masked numbers: the object's own page unmasks, with a reason, where the role allows.
    known = rules.CHECKS.get(f.check_code)
    return FindingView(
        id=f.id,
        check=f.check_code,
        title=known.title(lang) if known else f.check_code,
        severity=known.severity if known else "",
        status=f.status,
        keys=_mask(json.loads(f.keys), False),
        evidence=_mask(json.loads(f.evidence), False),
        area_id=f.area_id,
        assignee=users.get(f.assignee_id) if f.assignee_id else None,
        owner=f.owner,
        opened_at=f.opened_at,
        closed_at=f.closed_at,
        dismiss_reason=f.dismiss_reason,
    )


def finding_view(session: Session, finding: Finding, lang: str = "zh") -> FindingView:
    """One stored finding as the list shows it."""
    users: dict[int, str] = {}
    if finding.assignee_id is not None:
        user = session.get(User, finding.assignee_id)
        if user is not None:
            users[user.id] = user.username
    return _view(finding, users, lang)


def list_findings(
    session: Session,
    ctx: Context,
    *,
    check: str | None = None,
    status: str | None = "open",
    mine: bool = False,
    area_code: str | None = None,
    offset: int = 0,
    limit: int = 50,
    lang: str = "zh",
) -> tuple[list[FindingView], int]:
    """A page of the findings in the actor's area (or the named one), filtered by check, status, assignee."""
    ctx.actor.ensure("check.read")
    if check:
        rules.check(check)
    if status and status not in rules.FINDING_STATUSES:
        raise ValidationFailed(
            "check.status_unknown",
            f"未知的问题状态：{status}",
            f"Unknown finding status: {status}",
            {"field": "status", "allowed": list(rules.FINDING_STATUSES)},
        )
    area = scope_area(session, ctx, area_code)
    query = select(Finding).where(Finding.area_id.in_(select(Area.id).where(Area.path.like(area.path + "%"))))
    if check:
        query = query.where(Finding.check_code == check)
    if status:
        query = query.where(Finding.status == status)
    if mine:
        query = query.where(Finding.assignee_id == ctx.actor.user_id)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    items = list(session.execute(query.order_by(Finding.id).offset(offset).limit(min(limit, 500))).scalars())
    users = {
        u.id: u.username
        for u in session.execute(
            select(User).where(User.id.in_({f.assignee_id for f in items if f.assignee_id}))
        ).scalars()
    }
    views = [_view(f, users, lang) for f in items]
    if items and any(f.object_kind in ("person", "residence") for f in items):
        log(
            ctx,
            session,
            [audit.Event("check.findings_read", detail={"finding_ids": [f.id for f in items][:500]})],
        )
    return views, int(total)


def dismiss_finding(session: Session, ctx: Context, finding_id: int, *, reason: str | None) -> Finding:
    """Dismiss an open finding with a reason: later runs keep it dismissed."""
    ctx.actor.ensure("check.dismiss")
    why = rules.dismissal_reason(reason)
    finding = session.get(Finding, finding_id)
    area = session.get(Area, finding.area_id) if finding is not None else None
    if finding is None or area is None or not ctx.actor.covers_path(area.path):
        raise NotFound("check.finding_not_found", "问题不存在", "No such finding", {"id": finding_id})
    if finding.status != "open":
        raise ValidationFailed(
            "check.finding_not_open",
            "只能排除待处理的问题",
            "Only an open finding can be dismissed",
            {"id": finding_id, "status": finding.status},
        )
    finding.status = "dismissed"
    finding.dismissed_by = ctx.actor.user_id
    finding.dismiss_reason = why
    finding.closed_at = ctx.now
    log(
        ctx,
        session,
        [
            audit.Event(
                "check.dismiss",
                "check_finding",
                finding.id,
                detail={"check": finding.check_code, "reason": why},
            )
        ],
    )
    session.flush()
    return finding


# -- department files held for checking -----------------------------------------------------------------------


@dataclass
class SourceLoad:
    """What loading a department's file for checking did: rows kept, and the bad ones (line, field, code)."""

    source: str
    kind: str
    rows: int = 0
    kept: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)


def load_source(session: Session, ctx: Context, *, source: str, kind: str, path: Path) -> SourceLoad:
    """Hold a department's file (dwellings, persons or rentals) as sent, replacing that source's earlier rows.

    A row's problems are all reported (line, field, code) and the row is left out; the good rows are kept.
    """
    ctx.actor.ensure("check.source")
    if kind not in SOURCE_KINDS:
        raise ValidationFailed(
            "check.source_kind_unknown",
            f"不能用于核查的文件类型：{kind}",
            f"Not a kind of file checks compare with: {kind}",
            {"field": "kind", "allowed": list(SOURCE_KINDS)},
        )
    name = source.strip()
    if not name or len(name) > 40:
        raise ValidationFailed(
            "check.source_name_invalid",
            "来源名称须为1至40个字符",
            "A source name has 1 to 40 characters",
            {"field": "source"},
        )
    table = open_table(path)
    mapping = formats.header_map(kind, table.header)
    areas_by_code = {
        code: (aid, county, apath)
        for code, aid, county, apath in session.execute(
            select(Area.code, Area.id, Area.county_code, Area.path)
        )
    }
    session.execute(delete(SourceRecord).where(SourceRecord.source == name))
    out = SourceLoad(name, kind)
    batch: list[dict[str, Any]] = []
    for line, cells in table.rows:
        out.rows += 1
        values = formats.row_values(mapping, cells)
        rows, problems = _source_rows(values, kind, line, ctx.today)
        community = values.get("community_code") or ""
        place = areas_by_code.get(community)
        if place is None or not ctx.actor.covers_path(place[2]):
            problems.append({"line": line, "field": "community_code", "code": "check.source_area_unknown"})
        if problems:
            out.problems.extend(problems)
            continue
        assert place is not None
        for row in rows:
            batch.append(
                {
                    **row,
                    "source": name,
                    "kind": kind,
                    "line": line,
                    "area_id": place[0],
                    "county_code": place[1],
                    "loaded_at": ctx.now,
                    "community_code": community,
                }
            )
        out.kept += 1
        if len(batch) >= 5000:
            session.execute(insert(SourceRecord), batch)
            batch = []
    if batch:
        session.execute(insert(SourceRecord), batch)
    # After a bulk load, analyse what was loaded: the checks' plans depend on it.
    session.execute(text("ANALYZE check_source_records"))
    log(
        ctx,
        session,
        [
            audit.Event(
                "check.source_load",
                detail={
                    "source": name,
                    "kind": kind,
                    "file": path.name,
                    "rows": out.rows,
                    "kept": out.kept,
                    "problems": len(out.problems),
                },
            )
        ],
    )
    session.flush()
    return out


def _source_rows(
    values: dict[str, str | None], kind: str, line: int, today: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A file row as source records (a rental: one per tenant) and all its problems at once."""
    problems: list[dict[str, Any]] = []
    base: dict[str, Any] = {}

    def note_problem(field_name: str, exc: LiangshiError | ValueError) -> None:
        code = exc.code if isinstance(exc, LiangshiError) else "value.invalid"
        problems.append({"line": line, "field": field_name, "code": code})

    if kind in ("dwellings", "rentals"):
        number = values.get("number") or ""
        base |= {
            "street": values.get("street") or "",
            "number": number,
            "building": values.get("building"),
            "unit": values.get("unit"),
            "room": values.get("room"),
        }
        try:
            base["base_number"], base["sub_number"] = parse_plate_number(number)
        except LiangshiError as exc:
            note_problem("number", exc)
    if kind == "dwellings":
        base |= {"status": values.get("status"), "use": values.get("use")}
        return [base], problems
    if kind == "persons":
        raw = values.get("id_number")
        born: dt.date | None = None
        if values.get("birth_date"):
            try:
                born = formats.parse_date(values["birth_date"] or "", "birth_date")
            except LiangshiError as exc:
                note_problem("birth_date", exc)
        base |= {
            "doc_type": values.get("doc_type") or "resident_id",
            "id_number": raw,
            "id_norm": normalize_id_text(raw) if raw else None,
            "name": values.get("name"),
            "sex": (values.get("sex") or "")[:1] or None,
            "birth_date": born,
        }
        return [base], problems
    signed = (values.get("agreement_signed") or "").strip().lower()
    base |= {
        "landlord_id_number": values.get("landlord_id_number"),
        "agreement_signed": "yes"
        if signed in ("yes", "y", "1", "是", "已签", "true")
        else "no"
        if signed
        else None,
    }
    tenants = [t for t in (values.get("tenant_id_numbers") or "").replace("；", ";").split(";") if t.strip()]
    if not tenants:
        return [base], problems
    return [
        base | {"doc_type": "resident_id", "id_number": t.strip(), "id_norm": normalize_id_text(t)}
        for t in tenants
    ], problems


# -- what the checks found, for the KPIs ----------------------------------------------------------------------


def found_departures_by_area(
    session: Session, area_ids: Any, start: dt.datetime, end: dt.datetime, category: str = "floating"
) -> dict[int, int]:
    """Per area: departures the checks found (seen at a visit, by the housing department or a landlord) and the
    register has not deregistered, first found in [start, end), of residences of one category.

    They belong in the deregistration KPI's denominator: a departure the register never heard of has no
    departure date, so it cannot enter "departures in the period" any other way.
    """
    rows = session.execute(
        text(
            """
SELECT f.area_id, COUNT(*) FROM check_findings f
JOIN residence_versions rv ON rv.entity_id = f.object_id AND rv.superseded_at IS NULL AND rv.valid_to IS NULL
WHERE f.check_code = 'residence.departed_not_deregistered' AND f.status = 'open'
  AND rv.category = :category AND rv.deregistration_date IS NULL
  AND f.opened_at >= :start AND f.opened_at < :end
GROUP BY f.area_id
"""
        ),
        {"category": category, "start": start, "end": end},
    ).all()
    scoped = {int(a) for a in session.execute(area_ids).scalars()}
    return {int(area): int(n) for area, n in rows if int(area) in scoped}


def run_scheduled(sessions: Any, clock: Any) -> RunResult:
    """One scheduled run: every check over the whole register as the system operator, committed."""
    with session_scope(sessions) as session:
        ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="scheduled checks")
        return run_checks(session, ctx)


def start_schedule(sessions: Any, clock: Any, *, every: float) -> threading.Thread:
    """Run every check over the whole register every `every` seconds (first after one interval), as the system
    operator, each run in its own transaction; a failed run leaves the previous findings and is tried again."""
    log = logging.getLogger("liangshi.checks")

    def loop() -> None:
        while True:
            time.sleep(every)
            began = time.monotonic()
            try:
                with session_scope(sessions) as session:
                    ctx = Context(
                        actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="scheduled checks"
                    )
                    result = run_checks(session, ctx)
                log.info(
                    "checks run in %.1f s: %d opened, %d fixed",
                    time.monotonic() - began,
                    result.opened,
                    result.closed,
                )
            except Exception:  # a failed run must not stop the server; the next round tries again
                log.exception("scheduled checks failed")

    thread = threading.Thread(target=loop, name="checks-schedule", daemon=True)
    thread.start()
    return thread
