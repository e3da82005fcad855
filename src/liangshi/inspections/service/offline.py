"""Inspection visits offline (离线抽查): the sampled households an inspector's phone downloads, and the sync of
its outbox — the collector app's machinery (client UUIDs, one answer per item, idempotent replays; see
`liangshi.campaign.sync`) carrying inspection results.

Each item is stored through `record_result` in its own savepoint, so a refused item (not in the sample, the
inspector's own collection, already inspected, malformed) changes nothing and the rest of the batch is stored.
The same UUID with the same content answers with the first result; with other content it is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.campaign import sync
from liangshi.campaign.schemas import SyncItemResult, SyncResult
from liangshi.errors import LiangshiError
from liangshi.inspections.models import InspectionResult
from liangshi.inspections.schemas import ResultCreate
from liangshi.inspections.service.core import collectors_of, plans_of, record_result, sample_of
from liangshi.persons import service as persons
from liangshi.persons.models import PersonVersion
from liangshi.registry import Context
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.tables import rules as table_rules

# Plans offered for download: the newest few of the jurisdiction (older plans are closed in practice).
MAX_PLANS = 5
KIND = "inspection"


class InspectionItem(BaseModel):
    """One outbox item of the inspection app: a result for a sampled household, with the phone's UUID."""

    model_config = ConfigDict(extra="forbid")

    uuid: str = Field(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )
    kind: str = Field(KIND, pattern=f"^{KIND}$")
    plan_id: int
    household_id: int
    result: ResultCreate


def _hash(item: InspectionItem) -> str:
    content = item.model_dump(mode="json", exclude={"uuid"})
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _members(session: Session, ctx: Context, household_id: int) -> list[dict[str, Any]]:
    """The household's members (the read is audited by `members_view`) with the age band and whether floating."""
    members = persons.members_view(session, ctx, household_id, ctx.today)
    ids = [m["person_id"] for m in members]
    births = dict(
        session.execute(
            select(PersonVersion.entity_id, PersonVersion.birth_date).where(
                PersonVersion.entity_id.in_(ids),
                PersonVersion.superseded_at.is_(None),
                PersonVersion.valid_to.is_(None),
            )
        ).all()
    )
    floating = set(
        session.execute(
            select(Residence.person_id)
            .join(ResidenceVersion, ResidenceVersion.entity_id == Residence.id)
            .where(
                Residence.person_id.in_(ids),
                ResidenceVersion.superseded_at.is_(None),
                ResidenceVersion.valid_to.is_(None),
                ResidenceVersion.category == "floating",
            )
        ).scalars()
    )
    return [
        {
            "person_id": m["person_id"],
            "name": m["name"],
            "relationship": m["relationship"],
            "age_band": table_rules.age_band(births.get(m["person_id"]), ctx.today),
            "floating": m["person_id"] in floating,
        }
        for m in members
    ]


def work_for(session: Session, ctx: Context) -> dict[str, Any]:
    """What the inspector's phone downloads: per plan of the jurisdiction, its households not inspected yet, each
    with its members (name, age band, floating or not) and whether the inspector collected it themselves (such a
    household is shown but may not be inspected by them)."""
    ctx.actor.ensure("inspection.record")
    plans = []
    for plan in plans_of(session, ctx)[:MAX_PLANS]:
        households = []
        for s in sample_of(session, ctx, plan.id):
            if s.inspected:
                continue
            households.append(
                {
                    "household_id": s.household_id,
                    "community_code": s.community_code,
                    "household_number": s.household_number,
                    "members": _members(session, ctx, s.household_id),
                    "own": ctx.actor.user_id in collectors_of(session, s.household_id),
                }
            )
        plans.append({"plan_id": plan.id, "name": plan.name, "households": households})
    return {"downloaded_at": ctx.now.isoformat(), "today": ctx.today.isoformat(), "plans": plans}


def _stored(index: int, raw: Any, status: str, result: InspectionResult) -> SyncItemResult:
    answer = sync._result(index, raw, status, None, None, None, {"result_id": result.id})
    return answer


def _refused(index: int, raw: Any, error: LiangshiError) -> SyncItemResult:
    return sync._result(
        index, raw, "refused", error.code, error.message("zh"), error.message("en"), error.data
    )


def _one(session: Session, ctx: Context, index: int, raw: Any) -> SyncItemResult:
    try:
        item = InspectionItem.model_validate(raw)
    except ValidationError as exc:
        return sync._invalid(index, raw, exc)
    digest = _hash(item)
    earlier = session.execute(
        select(InspectionResult).where(InspectionResult.client_uuid == item.uuid)
    ).scalar_one_or_none()
    if earlier is not None:
        if earlier.content_hash != digest or earlier.inspector_id != ctx.actor.user_id:
            return sync._refused(index, raw, "sync.uuid_reused", {"uuid": item.uuid})
        return _stored(index, raw, "replayed", earlier)
    try:
        with session.begin_nested():
            read = record_result(
                session,
                ctx,
                item.plan_id,
                item.household_id,
                item.result,
                client_uuid=item.uuid,
                content_hash=digest,
            )
    except LiangshiError as exc:
        return _refused(index, raw, exc)
    stored = session.get(InspectionResult, read.id)
    assert stored is not None
    return _stored(index, raw, "stored", stored)


def sync_results(session: Session, ctx: Context, items: list[Any], *, offset: int = 0) -> SyncResult:
    """Store a batch of the phone's results, one answer per item (stored, replayed or refused with its reason)."""
    ctx.actor.ensure("inspection.record")
    results = [_one(session, ctx, offset + i, raw) for i, raw in enumerate(items)]
    session.flush()
    return sync.merged([SyncResult(items=results, counts={})])
