"""A small deterministic stand-in for the linkage engine, honouring its contract, so that the master person
index is tested against known probabilities (the real engine's quality is tested in tests/linkage)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence

from liangshi.common.idnumber import check_id_number
from liangshi.linkage.api import ACCEPT, REVIEW, Candidate, FieldEvidence, LinkRecord

TODAY = dt.date(2026, 11, 27)
PRIOR = -6.0


def _valid(number: str | None, today: dt.date) -> bool:
    return bool(number) and check_id_number(number or "", today=today).valid


def _field(name: str, a: str | None, b: str | None, agree: float, disagree: float) -> FieldEvidence:
    if not a or not b:
        return FieldEvidence(name, "null", 0.0)
    return FieldEvidence(name, "exact", agree) if a == b else FieldEvidence(name, "different", disagree)


def explain_pair(
    a: LinkRecord, b: LinkRecord, *, today: dt.date
) -> tuple[float, float, tuple[FieldEvidence, ...]]:
    """Weights: same ID +10, two valid IDs differing -12; name +4/-3; birth +3/-4; sex +0.5/-5; phone +4."""
    if (
        a.id_number
        and b.id_number
        and a.id_number != b.id_number
        and _valid(a.id_number, today)
        and _valid(b.id_number, today)
    ):
        id_ev = FieldEvidence("id_number", "id_both_valid_differ", -12.0)
    else:
        id_ev = _field("id_number", a.id_number, b.id_number, 10.0, -2.0)
    evidence = (
        FieldEvidence("prior", "prior", PRIOR),
        id_ev,
        _field("name", a.name, b.name, 4.0, -3.0),
        _field("birth_date", a.birth_date, b.birth_date, 3.0, -4.0),
        _field("sex", a.sex, b.sex, 0.5, -5.0),
        _field("phone", a.phone, b.phone, 4.0, 0.0),
        _field("address", a.address, b.address, 0.0, 0.0),
    )
    weight = sum(e.weight for e in evidence)
    return 1.0 / (1.0 + math.pow(2.0, -weight)), weight, evidence


def match_against_master(
    new: Sequence[LinkRecord], master: Iterable[LinkRecord], *, top: int = 3, today: dt.date
) -> dict[str, list[Candidate]]:
    """Every pair scored; candidates at or above REVIEW, best first."""
    masters = list(master)
    out: dict[str, list[Candidate]] = {}
    for rec in new:
        cands = []
        for m in masters:
            p, w, ev = explain_pair(rec, m, today=today)
            if p >= REVIEW and m.person_id is not None:
                cands.append(Candidate(m.record_id, m.person_id, p, w, ev))
        out[rec.record_id] = sorted(cands, key=lambda c: -c.probability)[:top]
    return out


def dedupe(records: Sequence[LinkRecord], *, engine: str = "duckdb", today: dt.date) -> dict[str, str]:
    """Connected components of pairs at or above ACCEPT; the cluster id is the smallest record id."""
    parent = {r.record_id: r.record_id for r in records}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for i, a in enumerate(records):
        for b in records[i + 1 :]:
            if explain_pair(a, b, today=today)[0] >= ACCEPT:
                ra, rb = find(a.record_id), find(b.record_id)
                parent[max(ra, rb)] = min(ra, rb)
    return {r.record_id: find(r.record_id) for r in records}
