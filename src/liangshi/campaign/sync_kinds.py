"""The offline app's proposal kinds (issue 14): a move, a birth, a document and a household member typed on the
phone become, on sync, the change sets the online proposal routes store, through the same use cases
(`campaign.proposals`): the same checks, the same items, the collector the source, pending the station's review.

An item names the dwelling it was typed at (its assignment is checked as for a visit, see `sync.sync_outbox`);
what it is about must live there: the residence moved is at that dwelling, the person seen lives there, the
household lives there. Otherwise it is refused (`sync.subject_elsewhere`, naming the field): an outbox item
cannot reach a person outside the collector's assignment by naming an assigned dwelling.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from liangshi.campaign import proposals
from liangshi.campaign.schemas import SyncBirth, SyncDocument, SyncMember, SyncMove, SyncProposal
from liangshi.errors import Forbidden
from liangshi.persons.models import HouseholdVersion
from liangshi.registry import Context
from liangshi.residence.models import Residence, ResidenceVersion
from liangshi.review.rules import DistrictPolicy


@dataclass(frozen=True)
class Proposed:
    """What a proposal item produced: its change set, and the person and residence it is about (if known)."""

    change_set_id: int
    person_id: int | None
    residence_id: int | None


def elsewhere(field: str, dwelling_id: int) -> Forbidden:
    return Forbidden(
        "sync.subject_elsewhere",
        "该条记录所涉人员、户或居住登记不在此房屋，未保存",
        "The person, household or residence of this item does not live at its dwelling; it was not stored",
        {"field": field, "dwelling_id": dwelling_id},
    )


def _residence_at(session: Session, residence_id: int, dwelling_id: int) -> bool:
    found = session.execute(
        select(Residence.id).where(Residence.id == residence_id, Residence.dwelling_id == dwelling_id)
    ).scalar_one_or_none()
    return found is not None


def _person_lives_at(session: Session, person_id: int, dwelling_id: int) -> bool:
    """Whether the person has an open residence at the dwelling."""
    found = session.execute(
        select(Residence.id)
        .join(ResidenceVersion, ResidenceVersion.entity_id == Residence.id)
        .where(
            Residence.person_id == person_id,
            Residence.dwelling_id == dwelling_id,
            ResidenceVersion.superseded_at.is_(None),
            ResidenceVersion.valid_to.is_(None),
        )
        .limit(1)
    ).scalar_one_or_none()
    return found is not None


def _household_at(session: Session, household_id: int, dwelling_id: int) -> bool:
    """Whether the household's current version names the dwelling."""
    found = session.execute(
        select(HouseholdVersion.dwelling_id).where(
            HouseholdVersion.entity_id == household_id,
            HouseholdVersion.superseded_at.is_(None),
            HouseholdVersion.valid_to.is_(None),
        )
    ).scalar_one_or_none()
    return found == dwelling_id


def propose(session: Session, ctx: Context, item: SyncProposal, *, policy: DistrictPolicy | None) -> Proposed:
    """The item's change set, stored pending review by its online use case (which checks permission,
    jurisdiction and the data as the online route does); `sync.subject_elsewhere` first when what it is about
    does not live at the item's dwelling."""
    did = item.dwelling_id
    if isinstance(item, SyncMove):
        if not _residence_at(session, item.residence_id, did):
            raise elsewhere("residence_id", did)
        cs = proposals.propose_move(session, ctx, item.residence_id, item.move, policy=policy)
        return Proposed(int(cs.id), cs.subject_person_id, item.residence_id)
    if isinstance(item, SyncBirth):
        if not _household_at(session, item.birth.household_id, did):
            raise elsewhere("birth.household_id", did)
        if item.birth.dwelling_id is not None and item.birth.dwelling_id != did:
            raise elsewhere("birth.dwelling_id", did)
        cs = proposals.propose_birth(session, ctx, item.birth, policy=policy)
        return Proposed(int(cs.id), None, None)
    if isinstance(item, SyncDocument):
        if not _person_lives_at(session, item.person_id, did):
            raise elsewhere("person_id", did)
        cs = proposals.propose_document(session, ctx, item.person_id, item.document, policy=policy)
        return Proposed(int(cs.id), item.person_id, None)
    if isinstance(item, SyncMember):
        if not _household_at(session, item.household_id, did):
            raise elsewhere("household_id", did)
        cs = proposals.propose_member(session, ctx, item.household_id, item.member, policy=policy)
        return Proposed(int(cs.id), item.member.person_id, None)
    raise AssertionError(f"not a proposal kind: {item.kind}")  # pragma: no cover - the union is closed
