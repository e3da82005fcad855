"""Dedupe over the register: the register's own persons matched against each other, pairs queued for review."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.linkage import api as linkage
from liangshi.linkage.api import Candidate
from liangshi.linkage.master import prepare_master
from liangshi.mpi import rules
from liangshi.mpi.models import MatchReview
from liangshi.mpi.service.records import (
    MasterRow,
    all_person_ids,
    chunks,
    evidence_json,
    master_records,
    master_rows,
)
from liangshi.registry import Context

# ---- dedupe over the register ----------------------------------------------------------------------------------


@dataclass
class LinkReport:
    """What `liangshi link persons` found."""

    persons: int
    pairs: int
    queued: int
    already_queued: int


def link_persons(
    session: Session, ctx: Context, *, county: str | None = None, progress: Any = None, batch: int = 10000
) -> LinkReport:
    """Match the register's own persons against each other and queue every pair at or above the review
    threshold (likely and uncertain duplicates) for a decision; nothing is merged without one. Pairs already
    pending or judged distinct are not queued again."""
    ctx.actor.ensure("person.link")
    ids = all_person_ids(session, ctx, county)
    rows: dict[int, MasterRow] = {}
    for chunk in chunks(ids, 20000):
        rows.update(master_rows(session, chunk))
    records = master_records(rows.values())
    found: dict[tuple[int, int], Candidate] = {}
    done = 0
    master: Any = records
    if len(records) > batch:
        # Normalise the register once, not once per chunk (the engine's documented fast path).
        master = prepare_master(records, today=ctx.today)
    for chunk in chunks(records, batch):
        matches = (
            linkage.match_against_master(list(chunk), master, top=4, today=ctx.today)
            if len(records) > 1
            else {}
        )
        for rec in chunk:
            me = int(rec.person_id or 0)
            for cand in matches.get(rec.record_id, []):
                other = int(cand.person_id)
                if other != me:
                    found.setdefault((min(me, other), max(me, other)), cand)
        done += len(chunk)
        if progress is not None:
            progress(done, len(records))
    existing = {
        (min(int(a or 0), b), max(int(a or 0), b))
        for a, b in session.execute(
            select(MatchReview.left_person_id, MatchReview.candidate_person_id).where(
                MatchReview.left_person_id.is_not(None),
                or_(MatchReview.status == rules.PENDING, MatchReview.status == rules.DISTINCT),
            )
        )
    }
    reviews = []
    for (keep, other), cand in sorted(found.items()):
        if (keep, other) in existing:
            continue
        reviews.append(
            MatchReview(
                left_person_id=other,
                candidate_person_id=keep,
                probability=float(cand.probability),
                weight=float(cand.weight),
                evidence=json.dumps(evidence_json(cand.evidence), ensure_ascii=False),
                status=rules.PENDING,
                area_id=rows[keep].area_id,
                county_code=rows[keep].county_code,
                created_at=ctx.now,
            )
        )
    session.add_all(reviews)
    session.flush()
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                "mpi.review_queued",
                "match_review",
                r.id,
                r.candidate_person_id,
                {"probability": r.probability},
            )
            for r in reviews
        ],
    )
    return LinkReport(len(ids), len(found), len(reviews), len(found) - len(reviews))
