"""The loaders of hotels and internet cafés (through the venue service) and of their guests' stays (in bulk)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from liangshi import registry
from liangshi.audit import service as audit
from liangshi.clock import CHINA_TZ
from liangshi.errors import LiangshiError, ValidationFailed
from liangshi.exchange import formats
from liangshi.exchange.loaders.job import Job, Outcome, index_chunk, per_row
from liangshi.exchange.loaders.resolver import (
    Rejected,
    RowError,
    VenueRef,
    reject_from,
)
from liangshi.exchange.rows import Row
from liangshi.registry.records import create_records
from liangshi.venues import rules as venue_rules
from liangshi.venues import service as venues
from liangshi.venues.models import Stay
from liangshi.venues.schemas import StayItem, VenueCreate


def _vocabulary(value: str | None, names: dict[str, tuple[str, str]]) -> str | None:
    """A vocabulary value given as its code or its Chinese or English name (anything else is left to the schema)."""
    if value is None:
        return None
    for code, (zh, en) in names.items():
        if value in (code, zh) or value.lower() == en.lower():
            return code
    return value


def load_venues(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Hotels and internet cafés on door plates through the venue service; a venue is its community + name.

    A name already used in the community by a venue of the same kind on the same plate is that venue (existing);
    by another venue it is refused, so that stay files can name venues unambiguously.
    """
    prov = job.prov
    provenance = {
        "source_kind": prov.source_kind,
        "source_ref": prov.source_ref,
        "evidence": prov.evidence,
        "document_ref": (prov.document_ref or "")[:200] or None,
    }

    def build(row: Row) -> bool:
        _, _, address_id = job.resolver.plate(row)
        data = VenueCreate.model_validate(
            {
                "venue_kind": _vocabulary(row.get("venue_kind"), venue_rules.VENUE_KINDS),
                "address_id": address_id,
                "name": row.get("name") or "",
                "licence_number": row.get("licence_number"),
                "status": _vocabulary(row.get("status"), venue_rules.STATUSES) or "open",
                "provenance": provenance,
            }
        )
        area = job.resolver.area(row.get("community_code"))
        same_name = job.resolver.venues().get((area.id, data.name), [])
        if any(v.address_id == address_id and v.kind == data.venue_kind for v in same_name):
            return True
        if same_name:
            raise Rejected(
                "name",
                "venue.name_taken",
                "本社区已有另一同名场所",
                "Another venue of the community has this name",
            )
        snap = venues.register_venue(job.session, job.ctx(), data)
        venue = snap.entity
        ref = VenueRef(venue.id, venue.area_id, venue.county_code, venue.venue_kind, address_id, data.status)
        job.resolver.venues().setdefault((ref.area_id, data.name), []).append(ref)
        return False

    return per_row(job, rows, build, "name")


# A stay row's columns for the fields the stay schema and the guest check name.
_STAY_FIELDS = {
    "guest.number": "id_number",
    "guest.name": "name",
    "guest.country": "country",
    "guest.doc_type": "doc_type",
    "at": "check_in",
}


@dataclass
class _StayRow:
    """A valid stay row: its venue, reference, guest and times (UTC)."""

    line: int
    venue: VenueRef
    ref: str
    guest: venues.Guest
    check_in_at: dt.datetime
    check_out_at: dt.datetime | None
    received_at: dt.datetime


def _moment(value: str | None, field: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        return formats.parse_datetime(value, field).astimezone(dt.UTC)
    except ValidationFailed as exc:
        raise reject_from(exc, field) from None


def _stay_ref(guest: venues.Guest, check_in_at: dt.datetime) -> str:
    """A stay's reference when the file gives none: the local check-in time and a digest of guest and time, so
    the same row always gets the same reference (a re-import finds it)."""
    digest = hashlib.sha256(f"{guest[0]}|{guest[1]}|{check_in_at.isoformat()}".encode()).hexdigest()[:16]
    return f"{check_in_at.astimezone(CHINA_TZ):%Y%m%d%H%M%S}-{digest}"


def _checked_stay(job: Job, line: int, row: Row) -> _StayRow:
    """A stay row checked as a check-in posted by the venue would be, or Rejected."""
    venue = job.resolver.venue(row)
    try:
        # Whoever may register the venue and issue its key may enter its log on its behalf.
        job.actor.ensure("venue.write")
        venue_rules.ensure_open(venue.status)
    except LiangshiError as exc:
        raise reject_from(exc, "venue") from None
    check_in_at = _moment(row.get("check_in"), "check_in")
    if check_in_at is None:
        raise Rejected(
            "check_in", "stay.check_in_required", "缺少入住（上机）时间", "The check-in time is missing"
        )
    check_out_at = _moment(row.get("check_out"), "check_out")
    reported_at = _moment(row.get("reported_at"), "reported_at")
    try:
        item = StayItem.model_validate(
            {
                "stay_ref": row.get("stay_ref") or "-",
                "event": "check_in",
                "at": check_in_at,
                "guest": {
                    "doc_type": row.get("doc_type") or "resident_id",
                    "number": row.get("id_number") or "",
                    "country": row.get("country"),
                    "name": row.get("name") or "",
                },
            }
        )
        guest = venues.guest_of(item, job.today)
        at = item.at.astimezone(dt.UTC)
        venue_rules.check_not_future(at, now=job.now, field="check_in")
        if check_out_at is not None:
            venue_rules.check_not_future(check_out_at, now=job.now, field="check_out")
            venue_rules.check_check_out(check_in_at=at, check_out_at=check_out_at, field="check_out")
        if reported_at is not None:
            venue_rules.check_reported(
                reported_at=reported_at, check_in_at=at, now=job.now, field="reported_at"
            )
    except (LiangshiError, ValidationError) as exc:
        refused = reject_from(exc, "id_number")
        refused.field = _STAY_FIELDS.get(refused.field, refused.field)
        raise refused from None
    ref = row.get("stay_ref") or _stay_ref(guest, at)
    return _StayRow(line, venue, ref, guest, at, check_out_at, reported_at or job.now)


def load_stays(job: Job, rows: Sequence[tuple[int, Row]]) -> Outcome:
    """Hotel and internet-café stays as the venues recorded them, matched to persons by document.

    Each row is checked as a check-in posted by the venue would be (the stay schema, the guest's document and
    name, not in the future, the venue open), the check-out as a check-out would be. `reported_at` is when the
    venue reported the check-in (what the real-time rate counts); without it, the import time. A stay is the venue
    + `stay_ref` (derived from the guest and check-in time when empty): a known stay is existing, or gets its
    check-out if it had none. New stays are inserted in bulk and audited with one entry per chunk.
    """
    outcome = Outcome()
    valid: list[_StayRow] = []
    for line, row in rows:
        try:
            valid.append(_checked_stay(job, line, row))
        except Rejected as refused:
            outcome.errors.append(RowError(line, refused.field, refused.code, refused.zh, refused.en))
    if valid:
        _write_stays(job, valid, outcome)
    return outcome


def _write_stays(job: Job, valid: list[_StayRow], outcome: Outcome) -> None:
    """The chunk's new stays (one bulk insert, one audit entry) and the check-outs of known ones."""
    known: dict[tuple[int, str], tuple[int, dt.datetime | None]] = {
        (int(vid), str(ref)): (int(sid), out)
        for sid, vid, ref, out in job.session.execute(
            select(Stay.id, Stay.venue_id, Stay.stay_ref, Stay.check_out_at).where(
                Stay.venue_id.in_({r.venue.id for r in valid}), Stay.stay_ref.in_({r.ref for r in valid})
            )
        )
    }
    matches = venues.match_documents(job.session, {r.guest[1] for r in valid})
    new: list[dict[str, Any]] = []
    pending: dict[tuple[int, str], dict[str, Any]] = {}
    check_outs: list[tuple[int, dt.datetime]] = []
    for r in valid:
        key = (r.venue.id, r.ref)
        stored = known.get(key)
        if stored is not None:
            stay_id, out = stored
            if out is None and r.check_out_at is not None:
                check_outs.append((stay_id, r.check_out_at))
                known[key] = (stay_id, r.check_out_at)
                outcome.loaded += 1
            else:
                outcome.existing += 1
            continue
        if key in pending:  # the same stay twice in the chunk
            outcome.existing += 1
            continue
        pid = venues.person_for(matches, r.guest[0], r.guest[1], r.guest[2])
        stay, _ = venues.stay_row(r.venue, r.ref, r.check_in_at, r.guest, pid, r.received_at)
        stay["check_out_at"] = r.check_out_at
        pending[key] = stay
        new.append(stay)
        outcome.loaded += 1
    created = create_records(
        job.session,
        job.ctx(),
        "stay",
        Stay,
        new,
        permission="venue.write",
        audit_detail={"batch": job.batch_id},
    )
    index_chunk(job, "stay", created)
    venues.record_check_outs(job.session, check_outs)
    if check_outs:
        registry.log(
            job.ctx(),
            job.session,
            [
                audit.Event(
                    "stay.check_out",
                    "stay",
                    None,
                    None,
                    {"batch": job.batch_id, "count": len(check_outs), "ids": [sid for sid, _ in check_outs]},
                )
            ],
        )
