"""A run: every finding computed, then merged with the stored ones in the caller's transaction; the schedule."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from liangshi.access.models import User
from liangshi.access.service import SYSTEM
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.checks import rules
from liangshi.checks.models import KEYS_FIELD, CheckRun, Finding
from liangshi.checks.service.register import DATED_RUNNERS, RUNNERS
from liangshi.checks.service.scope import RunResult, Scope, area_is_empty, scope_area
from liangshi.common.fieldcrypt import Keyring
from liangshi.db import session_scope
from liangshi.errors import ValidationFailed
from liangshi.registry import Context
from liangshi.registry.usecases import log
from liangshi.sealed import session_keyring

# -- a finding's identity ----------------------------------------------------------------------------------------


def fingerprint(ring: Keyring, keys: Mapping[str, Any]) -> str:
    """How a re-run recognises a finding: the keyed hash (HMAC-SHA256 with the index key, as the sealed columns'
    indexes) of its canonical natural keys. Equal keys give equal fingerprints; without the index key it reveals
    nothing of the numbers in the keys."""
    return ring.index(KEYS_FIELD, rules.canonical_keys(keys))


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
    if area_is_empty(session, area):
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
        dated = DATED_RUNNERS.get(c.code)
        found = list(dated(session, prefix, ctx.today) if dated else RUNNERS[c.code](session, prefix))
        # One finding per object and check: the same keys from two rules of one check are one work item.
        unique = {rules.canonical_keys(f.keys): f for f in found}
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
    ring = session_keyring(session)
    seen: set[tuple[str, str]] = set()
    new: list[dict[str, Any]] = []
    for f in result.found:
        key = (f.check, fingerprint(ring, f.keys))
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
                    # A restricted check's finding goes to its owner, not to a collector who may not read it.
                    "assignee_id": None
                    if rules.CHECKS[f.check].permission is not None
                    else _assignee(paths, collectors, f.area_id),
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
