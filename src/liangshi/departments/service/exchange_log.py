"""The hash-chained exchange log: every batch, pull and extract, appended in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.departments import rules
from liangshi.departments.models import ExchangeLogEntry
from liangshi.registry import Context

# ---- exchange log ----------------------------------------------------------------------------------------------


def _entry_fields(e: ExchangeLogEntry | Mapping[str, Any]) -> dict[str, Any]:
    def get(key: str) -> Any:
        return e[key] if isinstance(e, Mapping) else getattr(e, key)

    return {
        "seq": get("seq"),
        "at": get("at").astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "direction": get("direction"),
        "department": get("department"),
        "agreement_id": get("agreement_id"),
        "operation": get("operation"),
        "object_kinds": get("object_kinds"),
        "row_count": get("row_count"),
        "content_sha256": get("content_sha256"),
        "actor_id": get("actor_id"),
        "actor_name": get("actor_name"),
        "detail": get("detail"),
    }


def log_exchange(
    session: Session,
    ctx: Context,
    *,
    direction: str,
    operation: str,
    department: str,
    agreement_id: int | None,
    kinds: Iterable[str],
    row_count: int,
    sha256: str,
    detail: dict[str, Any],
) -> ExchangeLogEntry:
    """Append one exchange to the hash-chained exchange log (in the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7400002)"))
    last = session.execute(
        select(ExchangeLogEntry.seq, ExchangeLogEntry.hash).order_by(ExchangeLogEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, rules.GENESIS)
    values: dict[str, Any] = {
        "seq": seq + 1,
        "at": ctx.now.astimezone(dt.UTC),
        "direction": direction,
        "department": department,
        "agreement_id": agreement_id,
        "operation": operation,
        "object_kinds": ",".join(kinds)[:200],
        "row_count": row_count,
        "content_sha256": sha256,
        "actor_id": ctx.actor.user_id,
        "actor_name": ctx.actor.username,
        "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
    }
    entry = ExchangeLogEntry(**values, prev_hash=prev, hash=rules.entry_hash(_entry_fields(values), prev))
    session.add(entry)
    session.flush()
    return entry


def verify_log(session: Session, ctx: Context) -> dict[str, Any]:
    """Recompute the exchange log's chain: an altered entry breaks its hash, a deleted one a link or the sequence."""
    ctx.actor.ensure("exchange_log.verify")
    problems: list[dict[str, Any]] = []
    expected, prev, count = 1, rules.GENESIS, 0
    for entry in session.execute(select(ExchangeLogEntry).order_by(ExchangeLogEntry.seq)).scalars():
        count += 1
        if entry.seq != expected:
            problems.append({"seq": entry.seq, "problem": "missing", "missing_from": expected})
        if entry.prev_hash != prev:
            problems.append({"seq": entry.seq, "problem": "broken_link"})
        if rules.entry_hash(_entry_fields(entry), entry.prev_hash) != entry.hash:
            problems.append({"seq": entry.seq, "problem": "altered"})
        prev, expected = entry.hash, entry.seq + 1
    registry.log(
        ctx,
        session,
        [audit.Event("exchange_log.verify", None, None, None, {"entries": count, "problems": len(problems)})],
    )
    return {"ok": not problems, "entries": count, "problems": problems}
