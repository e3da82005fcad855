"""Resolve a source's records against the master index: join a person, queue a review, or hold a record that is
nobody known for its community to claim (认领: a change set; claimed, it makes the person through the kernel).

Person ids are the master index: a record either joins an existing person (keeping that person's id) or, once
claimed, makes a new one; nothing here ever renumbers a person.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from liangshi import bulk, registry
from liangshi.areas.models import Area
from liangshi.audit import service as audit
from liangshi.errors import ValidationFailed
from liangshi.linkage import api as linkage
from liangshi.linkage.api import Candidate, LinkRecord
from liangshi.mpi import rules
from liangshi.mpi.models import MatchReview, PersonSourceRecord
from liangshi.mpi.service.records import (
    MasterRow,
    Norm,
    birth_dates,
    candidate_person_ids,
    chunks,
    document_holders,
    evidence_json,
    in_scope,
    link_record,
    master_records,
    master_rows,
    normalise,
    person_input,
    sound_of,
)
from liangshi.persons.schemas import PersonCreate
from liangshi.registry import Context
from liangshi.review import service as review


@dataclass(frozen=True)
class Resolution:
    """What became of one incoming record."""

    record_id: str
    person_id: int | None
    status: str
    probability: float | None


# ---- resolve ---------------------------------------------------------------------------------------------------


def _target_area(session: Session, ctx: Context, area_id: int | None) -> Area:
    chosen = area_id if area_id is not None else ctx.actor.area_id
    area = session.get(Area, chosen) if chosen else None
    if area is None or not ctx.actor.covers_path(area.path):
        raise ValidationFailed(
            "mpi.area_required",
            "请指定辖区内的区划，用于登记新人员",
            "Give an area in your jurisdiction to hold new persons",
            {"field": "area_id"},
        )
    return area


def _check_source(source: str, records: Sequence[LinkRecord]) -> None:
    if not source or len(source) > 40:
        raise ValidationFailed(
            "mpi.source_invalid", "来源代码无效", "Invalid source code", {"field": "source"}
        )
    for r in records:
        rid = str(r.record_id or "").strip()
        if not rid or len(rid) > 100:
            raise ValidationFailed(
                "mpi.record_id_invalid",
                "记录编号为空或过长（最多100字符）",
                "A record id is empty or too long (at most 100 characters)",
                {"field": "record_id", "record_id": rid[:120]},
            )


def resolve(
    session: Session,
    ctx: Context,
    records: Sequence[LinkRecord],
    *,
    source: str,
    batch_ref: str | None,
    area_id: int | None = None,
) -> list[Resolution]:
    """Resolve a source's records against the master index in the actor's jurisdiction.

    Each record (one per (source, record_id); a record sent again changes nothing and answers as before):
    probability ≥ ACCEPT joins the best candidate person (keeping its id); REVIEW ≤ p < ACCEPT queues a review
    per candidate in that band; below, the records that are one new person (the engine's own dedupe within the
    batch) open one claim (认领, status `claim`: a change set awaiting `area_id`'s claim, default the actor's
    area, provenance the department's batch) when they carry a name, a sex and a birth date, else stay rejected;
    nobody becomes a register person until the community claims the record (issue 14). Candidates
    are the register persons in the actor's jurisdiction. The actor must hold `person.link` (records are linked,
    reviews queued) and `person.write` (persons registered), checked before anything is written; a department
    feed passes the writer its agreement authorises. Every write is audited under `ctx.actor`. Flushes, never
    commits. Returns one Resolution per distinct record id, in input order.
    """
    ctx.actor.ensure("person.link")
    ctx.actor.ensure("person.write")
    _check_source(source, records)
    today = ctx.today
    norms: dict[str, Norm] = {}
    for r in records:
        n = normalise(r, today)
        norms.setdefault(n.record_id, n)
    existing: dict[str, PersonSourceRecord] = {}
    keys = list(norms)
    for chunk in chunks(keys):
        for row in session.execute(
            select(PersonSourceRecord).where(
                PersonSourceRecord.source == source, PersonSourceRecord.source_record_id.in_(chunk)
            )
        ).scalars():
            existing[row.source_record_id] = row
    fresh = [n for rid, n in norms.items() if rid not in existing]
    results: dict[str, Resolution] = {
        rid: Resolution(rid, row.person_id, row.status, row.probability) for rid, row in existing.items()
    }
    if fresh:
        area = _target_area(session, ctx, area_id)
        results.update(_resolve_fresh(session, ctx, fresh, source, batch_ref, area))
    return [results[rid] for rid in keys]


# What became of a record: its status, the person it joined or made, the best probability and the evidence.
Decision = tuple[str, int | None, float | None, list[dict[str, Any]]]


def _resolve_fresh(
    session: Session,
    ctx: Context,
    fresh: list[Norm],
    source: str,
    batch_ref: str | None,
    area: Area,
) -> dict[str, Resolution]:
    master = master_rows(session, candidate_person_ids(session, ctx, fresh))
    new_records = [link_record(n, source) for n in fresh]
    matches: dict[str, list[Candidate]] = (
        linkage.match_against_master(new_records, master_records(master.values()), top=3, today=ctx.today)
        if master
        else {}
    )
    decided: dict[str, Decision] = {}
    queued: dict[str, list[Candidate]] = {}
    unmatched = _judge(fresh, matches, master, decided, queued)
    creatable, holders = _held_numbers(session, ctx, unmatched, master, source, decided, queued)
    claims = _claims(ctx, creatable, set(holders), source, area, decided)
    results, pks = _store(session, ctx, fresh, decided, queued, master, source, batch_ref, area)
    review.open_claims(
        session,
        ctx,
        [
            review.ClaimRecord(
                area.id, data, source, group[0].record_id, tuple(pks[n.record_id] for n in group)
            )
            for group, data in claims
        ],
        source_ref=batch_ref or source,
    )
    return results


def _judge(
    fresh: list[Norm],
    matches: dict[str, list[Candidate]],
    master: dict[int, MasterRow],
    decided: dict[str, Decision],
    queued: dict[str, list[Candidate]],
) -> list[Norm]:
    """Link each record to its certain candidate or queue its uncertain ones; returns the records matched by none."""
    accept, review = float(linkage.ACCEPT), float(linkage.REVIEW)
    unmatched: list[Norm] = []
    for n in fresh:
        cands = sorted(matches.get(n.record_id, []), key=lambda c: -float(c.probability))
        cands = [c for c in cands if c.person_id is not None and int(c.person_id) in master]
        best = cands[0] if cands else None
        verdict = rules.band(float(best.probability), accept=accept, review=review) if best else rules.NEW
        if verdict == rules.LINKED and len(cands) > 1 and float(cands[1].probability) >= accept:
            # Two register persons both certain: the register itself may hold a duplicate; a person decides.
            verdict = rules.REVIEW
        if best is not None and verdict == rules.LINKED:
            decided[n.record_id] = (
                rules.LINKED,
                int(best.person_id),
                float(best.probability),
                evidence_json(best.evidence),
            )
        elif best is not None and verdict == rules.REVIEW:
            queued[n.record_id] = [c for c in cands if float(c.probability) >= review]
            decided[n.record_id] = (
                rules.REVIEW,
                None,
                float(best.probability),
                evidence_json(best.evidence),
            )
        else:
            unmatched.append(n)
    return unmatched


def _held_numbers(
    session: Session,
    ctx: Context,
    unmatched: list[Norm],
    master: dict[int, MasterRow],
    source: str,
    decided: dict[str, Decision],
    queued: dict[str, list[Candidate]],
) -> tuple[list[Norm], dict[str, int]]:
    """A new record whose ID number a register person already holds is not a new person: it goes to review with
    that person (in the jurisdiction) or is rejected. Returns the records that may make a person, and the holders."""
    holders = document_holders(session, [n.id_number for n in unmatched if n.id_number])
    creatable: list[Norm] = []
    for n in unmatched:
        holder = holders.get(n.id_number or "")
        if holder is None:
            creatable.append(n)
        elif holder in master or in_scope(session, ctx, [holder]):
            row = master.get(holder) or master_rows(session, [holder])[holder]
            master[holder] = row
            p, w, ev = linkage.explain_pair(link_record(n, source), master_records([row])[0], today=ctx.today)
            queued[n.record_id] = [linkage.Candidate(f"person:{holder}", holder, p, w, ev)]
            decided[n.record_id] = (rules.REVIEW, None, float(p), evidence_json(ev))
        else:
            decided[n.record_id] = (
                rules.REJECTED,
                None,
                None,
                [{"field": "id_number", "level": "held_elsewhere"}],
            )
    return creatable, holders


def _claims(
    ctx: Context,
    creatable: list[Norm],
    used: set[str],
    source: str,
    area: Area,
    decided: dict[str, Decision],
) -> list[tuple[list[Norm], PersonCreate]]:
    """A record that is nobody known is not a registry fact yet: each group of records that are one new person
    (its first record that can make one) waits for its community to claim it (认领, issue 14); a group that
    cannot make a person is rejected. Returns the groups and the person each proposes."""
    chosen: list[tuple[list[Norm], PersonCreate]] = []
    for group in _groups(creatable, source, ctx.today):
        data = None
        for n in group:
            with_doc = bool(n.id_number) and n.id_number not in used
            data = person_input(n, area.id, ctx.today, with_document=with_doc)
            if data is not None:
                used.update(d.number for d in data.documents)
                break
        for n in group:
            if data is None:
                decided[n.record_id] = (rules.REJECTED, None, None, [{"field": "*", "level": "insufficient"}])
            else:
                decided[n.record_id] = (rules.CLAIM, None, None, [])
        if data is not None:
            chosen.append((group, data))
    return chosen


def _groups(records: list[Norm], source: str, today: dt.date) -> list[list[Norm]]:
    """Records of one batch that are one new person, in input order. Only records sharing a blocking key with
    another record of the batch (ID number or its tail, phone, a birth date with the surname's sound) can be;
    the engine's dedupe runs on those alone."""
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[Any, int] = {}
    for i, n in enumerate(records):
        keys: list[Any] = [("phone", n.phone)] if n.phone else []
        if n.id_number:
            keys += [("id", n.id_number), ("tail", n.id_number[-9:])]
        if n.name:
            keys += [("dob", d, sound_of(n.name[:1])) for d in birth_dates(n)]
        for key in keys:
            j = first.setdefault(key, i)
            if j != i:
                parent[find(i)] = find(j)
    sizes: dict[int, int] = {}
    for i in range(len(records)):
        sizes[find(i)] = sizes.get(find(i), 0) + 1
    shared = [n for i, n in enumerate(records) if sizes[find(i)] > 1]
    clusters = linkage.dedupe([link_record(n, source) for n in shared], today=today) if shared else {}
    groups: dict[Any, list[Norm]] = {}
    for n in records:
        groups.setdefault(clusters.get(n.record_id, ("alone", n.record_id)), []).append(n)
    return list(groups.values())


def _store(
    session: Session,
    ctx: Context,
    fresh: list[Norm],
    decided: dict[str, Decision],
    queued: dict[str, list[Candidate]],
    master: dict[int, MasterRow],
    source: str,
    batch_ref: str | None,
    area: Area,
) -> tuple[dict[str, Resolution], dict[str, int]]:
    values = _record_values(fresh, decided, master, source, batch_ref, area, ctx.now)
    # Ids allocated up front, then COPY (PostgreSQL) or one executemany (SQLite): a 10,000-record batch through
    # the ORM costs seconds on PostgreSQL.
    new_ids = bulk.allocate_ids(session, PersonSourceRecord, len(values))
    for pk, v in zip(new_ids, values, strict=True):
        v["id"] = pk
    bulk.bulk_insert(session, PersonSourceRecord, values)
    pks = {str(v["source_record_id"]): int(v["id"]) for v in values}
    review_ids = _insert_reviews(session, queued, pks, master, ctx.now)
    registry.log(
        ctx,
        session,
        [
            audit.Event(
                f"mpi.record_{v['status']}",
                "person_source_record",
                pks[v["source_record_id"]],
                v["person_id"],
                {
                    "source": source,
                    "record_id": v["source_record_id"],
                    "batch_ref": batch_ref,
                    "probability": v["probability"],
                },
            )
            for v in values
        ]
        + [
            audit.Event(
                "mpi.review_queued",
                "match_review",
                int(i),
                int(c.person_id),
                {"probability": float(c.probability)},
            )
            for pk, c in [(pks[rid], c) for rid, cands in queued.items() for c in cands]
            for i in [review_ids[(pk, int(c.person_id))]]
        ],
    )
    return {
        v["source_record_id"]: Resolution(
            v["source_record_id"], v["person_id"], v["status"], v["probability"]
        )
        for v in values
    }, pks


def _record_values(
    fresh: list[Norm],
    decided: dict[str, Decision],
    master: dict[int, MasterRow],
    source: str,
    batch_ref: str | None,
    area: Area,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The source record rows, held where the person they joined is (else in the area for new persons)."""
    values: list[dict[str, Any]] = []
    for n in fresh:
        status, pid, prob, evidence = decided[n.record_id]
        holder = master.get(pid) if pid is not None else None
        values.append(
            {
                "source": source,
                "source_record_id": n.record_id,
                "batch_ref": batch_ref,
                "name": n.name,
                "sex": n.sex,
                "birth_date": n.birth_date,
                "id_number": n.id_number,
                "phone": n.phone,
                "address": n.address,
                "person_id": pid,
                "status": status,
                "probability": prob,
                "evidence": json.dumps(evidence, ensure_ascii=False),
                "area_id": holder.area_id if holder else area.id,
                "county_code": holder.county_code if holder else area.county_code,
                "created_at": now,
                "updated_at": now,
            }
        )
    return values


def _insert_reviews(
    session: Session,
    queued: dict[str, list[Candidate]],
    pks: dict[str, int],
    master: dict[int, MasterRow],
    now: dt.datetime,
) -> dict[tuple[int, int], int]:
    """Queue a review per (record, candidate), held where the candidate is; returns their ids."""
    review_values = [
        {
            "source_record_pk": pks[rid],
            "left_person_id": None,
            "candidate_person_id": int(c.person_id),
            "probability": float(c.probability),
            "weight": float(c.weight),
            "evidence": json.dumps(evidence_json(c.evidence), ensure_ascii=False),
            "status": rules.PENDING,
            "area_id": master[int(c.person_id)].area_id,
            "county_code": master[int(c.person_id)].county_code,
            "created_at": now,
        }
        for rid, cands in queued.items()
        for c in cands
    ]
    return (
        {
            (int(pk or 0), int(cand)): int(i)
            for i, pk, cand in session.execute(
                insert(MatchReview)
                .execution_options(render_nulls=True)
                .returning(MatchReview.id, MatchReview.source_record_pk, MatchReview.candidate_person_id),
                review_values,
            )
        }
        if review_values
        else {}
    )
