"""A collector's other proposals (issue 14, 谁采集、谁录入、谁负责): a move within the city, a birth, a document added
to a person, a member added to a household, a membership ended and a new household, each a change set for the
station's review instead of the direct write. Each is checked now as the direct use case checks it (the same plan
functions: `residence.move_plan`, `residence.birth_plan`, `persons.document_attributes`,
`persons.check_new_member`, `persons.check_new_household`) and written on approval through the kernel
(`registry.changeset_apply.apply_many`): record time the approval, the collector the source.

What the direct write does to an object's lock counter without a new version (a document raises its person's, a
member their household's) is a `bump` item: a set made against a version that moved since is stale.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.buildings import service as buildings
from liangshi.campaign.service import open_residence, propose_on_residence, propose_or_resubmit
from liangshi.errors import Conflict
from liangshi.persons import service as persons
from liangshi.persons.models import Membership
from liangshi.persons.rules import HEAD
from liangshi.persons.schemas import DocumentAdd, HouseholdCreate, MemberAdd, MemberEnd
from liangshi.registry import Context, history
from liangshi.registry.changesets import ChangeSet, Proposed
from liangshi.residence import service as residence
from liangshi.residence.schemas import BirthIn, MoveIn
from liangshi.review.rules import DistrictPolicy

NOT_DEMOLISHED = {"status": ["demolished"]}


def _residence_item(
    area_id: int,
    person_ref: Any,
    dwelling_id: int,
    *,
    category: str,
    arrival: Any,
    registration: Any,
    until: Any,
    stay_reason: str | None = None,
) -> Proposed:
    """A new residence at a dwelling from the arrival (the second half of a move, the newborn's home)."""
    return Proposed(
        "create",
        "residence",
        key="residence",
        area_id=area_id,
        attributes={
            "category": category,
            "arrival_date": arrival,
            "registration_date": registration,
            "intended_stay_until": until,
            "stay_reason": stay_reason,
            "departure_date": None,
            "deregistration_date": None,
            "deregistration_reason": None,
            "destination": None,
        },
        refs={"person_id": person_ref, "dwelling_id": dwelling_id},
        valid_from=arrival,
        permission="residence.write",
        requires=[["dwelling", dwelling_id, NOT_DEMOLISHED]]
        + ([["person", person_ref, {}]] if isinstance(person_ref, int) else []),
    )


def _bump(kind: str, entity_id: int, base_version: int, permission: str) -> Proposed:
    return Proposed("bump", kind, entity_id=entity_id, base_version=base_version, permission=permission)


def propose_move(
    session: Session,
    ctx: Context,
    residence_id: int,
    data: MoveIn,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """市内迁移 found at a visit, proposed for review: the residence closed at the move date and one opened at the
    new dwelling from it, both on approval or neither (stale when the person died, the new dwelling was
    demolished or the residence moved on)."""
    res, _, name = open_residence(session, ctx, residence_id, "move")
    plan = residence.move_plan(session, ctx, residence_id, data)
    items = [
        Proposed(
            "retire",
            "residence",
            entity_id=res.id,
            base_version=data.expected_version,
            attributes=plan.closing(data),
            effective=data.move_date,
            reason=data.note or "moved_within_city",
            permission="residence.write",
        ),
        _residence_item(
            plan.target.area_id,
            res.person_id,
            plan.target.id,
            category=plan.category,
            arrival=data.move_date,
            registration=plan.registration,
            until=plan.until,
            stay_reason=plan.row.stay_reason,  # a move keeps the reason for stay, as the direct move does
        ),
    ]
    return propose_on_residence(
        session,
        ctx,
        res,
        name,
        data,
        action="move",
        items=items,
        tags=[plan.category, "moved_within_city"],
        change_set_id=change_set_id,
        policy=policy,
    )


def propose_birth(
    session: Session,
    ctx: Context,
    data: BirthIn,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """出生登记 found at a visit, proposed for review: the newborn (with the resident ID if issued), their membership
    of the household (raising its version) and their residence at its dwelling from the birth date."""
    household, dwelling_id, newborn = residence.birth_plan(session, ctx, data)
    registry.get_entity(session, persons.HOUSEHOLD, household.id, ctx.actor, write=True)
    dwelling = registry.get_entity(session, buildings.DWELLING, dwelling_id, ctx.actor, write=True)
    attrs = newborn.model_dump(include=set(persons.PERSON.attributes))
    items = [
        Proposed(
            "create",
            "person",
            key="person",
            area_id=household.area_id,
            attributes=attrs,
            valid_from=data.birth_date,
            permission="person.write",
        )
    ]
    for doc in newborn.documents:
        items.append(
            Proposed(
                "create",
                "document",
                key="document",
                area_id=household.area_id,
                attributes=persons.document_attributes(session, ctx, doc, attrs),
                refs={"person_id": {"key": "person"}},
                valid_from=data.birth_date,
                permission="person.write",
            )
        )
    items += [
        Proposed(
            "create",
            "membership",
            key="membership",
            area_id=household.area_id,
            attributes={"relationship": data.relationship},
            refs={"household_id": household.id, "person_id": {"key": "person"}},
            valid_from=data.birth_date,
            permission="household.write",
            requires=[["household", household.id, {}]],
        ),
        _bump("household", household.id, data.household_expected_version, "household.write"),
        _residence_item(
            dwelling.area_id,
            {"key": "person"},
            dwelling.id,
            category=data.category,
            arrival=data.birth_date,
            registration=data.registration_date or ctx.today,
            until=None,
        ),
    ]
    return propose_or_resubmit(
        session,
        ctx,
        change_set_id,
        policy=policy,
        area_id=household.area_id,
        action="birth",
        summary=data.name,
        items=items,
        prov=data.provenance.to_domain(ctx.actor.username),
        tags=[data.category],
        payload={"household_id": household.id, "dwelling_id": dwelling.id, **data.model_dump(mode="json")},
    )


def propose_document(
    session: Session,
    ctx: Context,
    person_id: int,
    data: DocumentAdd,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """A document the collector saw (e.g. a new permanent residence card), proposed for review: the document and
    the person's raised version, a two-item set; checked now as `persons.add_document` is (agreeing with the
    person's birth date and sex, held by nobody)."""
    ctx.actor.ensure("person.write")
    person = registry.get_entity(session, persons.PERSON, person_id, ctx.actor, write=True)
    row = history.open_row(session, persons.PERSON, person.id)
    if row is None:
        raise history.retired(persons.PERSON, person.id)
    attrs = history.attributes_of(persons.PERSON, row)
    document = persons.document_attributes(session, ctx, data, attrs)
    items = [
        Proposed(
            "create",
            "document",
            key="document",
            area_id=person.area_id,
            attributes=document,
            refs={"person_id": person.id},
            valid_from=data.valid_from,
            permission="person.write",
        ),
        _bump("person", person.id, data.expected_version, "person.write"),
    ]
    return propose_or_resubmit(
        session,
        ctx,
        change_set_id,
        policy=policy,
        area_id=person.area_id,
        action="document",
        summary=str(attrs.get("name") or ""),
        items=items,
        prov=data.provenance.to_domain(ctx.actor.username),
        tags=[data.doc_type],
        subject_person_id=person.id,
        payload={"person_id": person.id, **data.model_dump(mode="json")},
    )


def _open_household(session: Session, ctx: Context, household_id: int) -> Any:
    """The household a proposal changes, as the direct use case would check it: household.write, in the
    jurisdiction, not retired (409 `household.retired`)."""
    ctx.actor.ensure("household.write")
    household = registry.get_entity(session, persons.HOUSEHOLD, household_id, ctx.actor, write=True)
    if history.open_row(session, persons.HOUSEHOLD, household.id) is None:
        raise Conflict(
            "household.retired",
            "该户已注销，不能再修改",
            "The household is retired and cannot be changed",
            {"field": "household_id"},
        )
    return household


def propose_member(
    session: Session,
    ctx: Context,
    household_id: int,
    data: MemberAdd,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """A member of a household the collector found, proposed for review: the membership from `effective` and the
    household's raised version; checked now as `persons.add_member` is (already a member, a second head, a
    second registered household)."""
    household = _open_household(session, ctx, household_id)
    persons.check_new_member(session, ctx, household, data.person_id, data.relationship)
    name = persons.names_on(session, [data.person_id], ctx.today).get(data.person_id, "")
    items = [
        Proposed(
            "create",
            "membership",
            key="membership",
            area_id=household.area_id,
            attributes={"relationship": data.relationship},
            refs={"household_id": household.id, "person_id": data.person_id},
            valid_from=data.effective,
            permission="household.write",
            requires=[["household", household.id, {}], ["person", data.person_id, {}]],
        ),
        _bump("household", household.id, data.expected_version, "household.write"),
    ]
    return propose_or_resubmit(
        session,
        ctx,
        change_set_id,
        policy=policy,
        area_id=household.area_id,
        action="member",
        summary=name,
        items=items,
        prov=data.provenance.to_domain(ctx.actor.username),
        tags=[data.relationship],
        subject_person_id=data.person_id,
        payload={"household_id": household.id, **data.model_dump(mode="json")},
    )


def propose_member_end(
    session: Session,
    ctx: Context,
    household_id: int,
    membership_id: int,
    data: MemberEnd,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """A member who left the household (moved out, died, split off), proposed for review: the membership
    retired from `effective` (default today) and the household's raised version; checked now as
    `persons.end_member` is (the household's, still open, not before its current version). Stale once the
    membership was ended, the household retired or changed since."""
    household = _open_household(session, ctx, household_id)
    membership = session.get(Membership, membership_id)
    if membership is None or membership.household_id != household.id:
        raise history.not_found(persons.MEMBERSHIP, membership_id)
    row = history.open_row(session, persons.MEMBERSHIP, membership.id)
    if row is None:
        raise history.retired(persons.MEMBERSHIP, membership.id)
    effective = data.effective or ctx.today
    if effective < row.valid_from:
        raise history.retire_before_current(row.valid_from)
    person_id = membership.person_id
    name = persons.names_on(session, [person_id], ctx.today).get(person_id, "")
    items = [
        Proposed(
            "retire",
            "membership",
            entity_id=membership.id,
            base_version=membership.version,
            effective=effective,
            reason=data.reason,
            permission="household.write",
            requires=[["household", household.id, {}]],
        ),
        _bump("household", household.id, data.expected_version, "household.write"),
    ]
    return propose_or_resubmit(
        session,
        ctx,
        change_set_id,
        policy=policy,
        area_id=household.area_id,
        action="member_end",
        summary=name,
        items=items,
        prov=data.provenance.to_domain(ctx.actor.username),
        tags=[str(row.relationship)],
        subject_person_id=person_id,
        payload={
            "household_id": household.id,
            "membership_id": membership.id,
            "person_id": person_id,
            **data.model_dump(mode="json"),
        },
    )


def propose_membership_end(
    session: Session,
    ctx: Context,
    membership_id: int,
    data: MemberEnd,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """`propose_member_end` by the membership alone (`liangshi collect propose member-end`)."""
    membership = session.get(Membership, membership_id)
    if membership is None:
        raise history.not_found(persons.MEMBERSHIP, membership_id)
    return propose_member_end(
        session,
        ctx,
        membership.household_id,
        membership_id,
        data,
        change_set_id=change_set_id,
        policy=policy,
    )


def propose_household(
    session: Session,
    ctx: Context,
    data: HouseholdCreate,
    *,
    change_set_id: int | None = None,
    policy: DistrictPolicy | None = None,
) -> ChangeSet:
    """A household the collector found (with its members), proposed for review: the household and each
    membership from `valid_from` (default today), all on approval or none; checked now as
    `persons.create_household` is (the area and dwelling in the jurisdiction, each member once, one head, no
    second registered household) and the dwelling not demolished. Stale once the dwelling was demolished or a
    member's record retired (a death)."""
    ctx.actor.ensure("household.write")
    area = registry.ensure_area_in_scope(session, ctx, data.area_id)
    requires: list[Any] = []
    if data.dwelling_id is not None:
        dwelling = registry.get_entity(session, buildings.DWELLING, data.dwelling_id, ctx.actor)
        drow = history.open_row(session, buildings.DWELLING, dwelling.id)
        if drow is None or drow.status == "demolished":
            raise Conflict(
                "household.dwelling_unavailable",
                "该房屋已拆除或注销，不能登记家庭户",
                "The dwelling is demolished or retired: no household can be registered there",
                {"field": "dwelling_id"},
            )
        requires.append(["dwelling", dwelling.id, NOT_DEMOLISHED])
    persons.check_new_household(session, ctx, data)
    since = data.valid_from or ctx.today
    items = [
        Proposed(
            "create",
            "household",
            key="household",
            area_id=area.id,
            attributes={"dwelling_id": data.dwelling_id, "household_number": data.household_number},
            refs={"household_kind": data.household_kind},
            valid_from=since,
            permission="household.write",
            requires=requires,
        )
    ]
    for n, member in enumerate(data.members):
        items.append(
            Proposed(
                "create",
                "membership",
                key=f"membership{n}",
                area_id=area.id,
                attributes={"relationship": member.relationship},
                refs={"household_id": {"key": "household"}, "person_id": member.person_id},
                valid_from=since,
                permission="household.write",
                requires=[["person", member.person_id, {}]],
            )
        )
    ids = [m.person_id for m in data.members]
    head = next((m.person_id for m in data.members if m.relationship == HEAD), ids[0] if ids else None)
    names = persons.names_on(session, ids, ctx.today)
    return propose_or_resubmit(
        session,
        ctx,
        change_set_id,
        policy=policy,
        area_id=area.id,
        action="household",
        summary=names.get(head, "") if head is not None else (data.household_number or ""),
        items=items,
        prov=data.provenance.to_domain(ctx.actor.username),
        tags=[data.household_kind],
        subject_person_id=head,
        payload=data.model_dump(mode="json"),
    )
