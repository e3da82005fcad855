"""The review desk's batched paths give what the row-by-row ones give (issue 14, stop 25): a bulk approval writes
the same version rows, change-set marks and audit entries per set as approving each set alone; the desk's page
(its ids from an index, then the rows) is the same order as sorting the rows; `write_columns` leaves a change set
as the ORM's flush would."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from liangshi.campaign import service as campaign
from liangshi.campaign.schemas import PersonAtDwelling
from liangshi.common.types import validation_context
from liangshi.persons.models import PersonVersion
from liangshi.registry import changesets
from liangshi.registry.changesets import ChangeSet
from liangshi.residence.models import ResidenceVersion
from liangshi.review import service as review
from tests import factories
from tests.conftest import INSIDE, World


@pytest.fixture
def places(world: World) -> list[factories.Place]:
    """Two dwellings in collector_zhang's community."""
    with world.session() as session:
        ctx = world.ctx(session)
        return [
            factories.place(
                session, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"), tag=tag
            )
            for tag in ("a", "b")
        ]


def _propose(world: World, places: list[factories.Place], n: int) -> list[int]:
    """n new persons proposed by collector_zhang (distinct ID numbers), alternating between the dwellings."""
    with world.session() as session:
        ctx = world.ctx(session, "collector_zhang")
        ids = []
        for i in range(n):
            body = {
                "name": f"批量{'甲乙丙丁戊己庚辛'[i]}",
                "id_number": factories.make_id("420704", dt.date(1985, 3, 1 + i), seq=100 + i),
                "arrival_date": "2026-11-01",
                "category": "lodging",
            }
            data = PersonAtDwelling.model_validate(body, context=validation_context(dt.date(2026, 11, 27)))
            ids.append(campaign.add_person_at_dwelling(session, ctx, places[i % 2].dwelling_id, data).id)
        return ids


def _entries_by_set(session: Any, after: int) -> dict[int, list[tuple[Any, ...]]]:
    """The audit entries written after seq `after`, per change set they name (the set itself, or the set an
    object came from), as (action, object kind, whether it names a person, detail without ids) sorted."""
    found: dict[int, list[tuple[Any, ...]]] = {}
    for e in session.execute(select(AuditEntry).where(AuditEntry.seq > after)).scalars():
        detail = json.loads(e.detail)
        if e.object_kind == "change_set":
            cs_id = int(e.object_id)
        elif "change_sets" in detail:
            assert len(detail["change_sets"]) == 1, detail  # each object's entry names its own set only
            cs_id = int(detail["change_sets"][0])
        elif "change_set" in detail:
            cs_id = int(detail["change_set"])
        else:
            continue
        shape = {k: v for k, v in detail.items() if k not in ("change_sets", "change_set", "ids", "persons")}
        found.setdefault(cs_id, []).append(
            (e.action, e.object_kind, e.subject_person_id is not None, json.dumps(shape, sort_keys=True))
        )
    return {k: sorted(v) for k, v in found.items()}


def _written(session: Any, cs_id: int) -> dict[str, Any]:
    """What approving a set left: its marks and the registry rows it wrote (without their ids)."""
    cs = session.get(ChangeSet, cs_id)
    result = json.loads(cs.result)
    person = session.execute(
        select(PersonVersion).where(PersonVersion.entity_id == result["person"][0])
    ).scalar_one()
    stay = session.execute(
        select(ResidenceVersion).where(ResidenceVersion.entity_id == result["residence"][0])
    ).scalar_one()
    return {
        "status": cs.status,
        "reviewer": cs.station_reviewer_id,
        "reviewed": cs.station_reviewed_at,
        "applied": cs.applied_at,
        "subject": cs.subject_person_id == result["person"][0],
        "kinds": sorted((k, len(v)) for k, v in result.items()),
        "person": (person.source_kind, person.source_ref, person.actor_id, person.recorded_at, person.change),
        "residence": (stay.source_ref, stay.valid_from, stay.actor_id, stay.recorded_at, stay.category),
    }


def test_bulk_approval_writes_what_approving_each_set_alone_writes(
    world: World, places: list[factories.Place]
) -> None:
    ids = _propose(world, places, 6)
    bulk, alone = ids[:3], ids[3:]
    with world.session() as session:
        start = int(session.execute(select(func.coalesce(func.max(AuditEntry.seq), 0))).scalar_one())
    with world.session() as session:
        outcomes = review.approve_many(session, world.ctx(session, "station_admin_li"), bulk)
        assert [(o.id, o.ok, o.status) for o in outcomes] == [(i, True, "approved") for i in bulk]
    for cs_id in alone:
        with world.session() as session:
            assert review.approve(session, world.ctx(session, "station_admin_li"), cs_id).status == "approved"
    with world.session() as session:
        entries = _entries_by_set(session, start)
        assert set(entries) == set(ids)
        actions = {a for shapes in entries.values() for a, *_ in shapes}
        assert {"changeset.approve_station", "person.create", "residence.create"} <= actions
        for b, a in zip(bulk, alone, strict=True):
            assert entries[b] == entries[a]
            assert _written(session, b) == _written(session, a)


def test_the_desk_pages_in_proposal_order_with_ties_broken_by_id(
    world: World, places: list[factories.Place]
) -> None:
    ids = _propose(world, places, 7)  # one clock: every set has the same proposed_at
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        expected = [
            int(i)
            for i in session.execute(
                select(ChangeSet.id)
                .where(ChangeSet.status == "pending_station")
                .order_by(ChangeSet.proposed_at, ChangeSet.id)
            ).scalars()
        ]
        assert set(ids) <= set(expected)
        pages = [review.desk(session, ctx, offset=offset, limit=3) for offset in range(0, len(expected), 3)]
        assert [i.id for page in pages for i in page.items] == expected
        assert all(page.total == len(expected) for page in pages)
        # A filter still pages within the filtered sets, in the same order.
        mine = review.desk(session, ctx, proposer="collector_zhang", offset=2, limit=2)
        assert [i.id for i in mine.items] == expected[2:4]


def test_write_columns_leaves_a_change_set_as_the_orm_flush_does(
    world: World, places: list[factories.Place]
) -> None:
    by_orm, by_batch = _propose(world, places, 2)
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        values = {
            "station_reviewer_id": ctx.actor.user_id,
            "station_reviewed_at": ctx.now,
            "status": "approved",
            "applied_at": ctx.now,
            "result": json.dumps({"person": [1]}),
        }
        orm = session.get(ChangeSet, by_orm)
        for name, value in values.items():
            setattr(orm, name, value)
        session.flush()
        batched = session.get(ChangeSet, by_batch)
        changesets.write_columns(session, [(batched, values)])
        assert not session.dirty
        assert all(getattr(batched, name) == value for name, value in values.items())
    with world.session() as session:
        rows = {
            cs.id: {name: getattr(cs, name) for name in values}
            for cs in session.execute(select(ChangeSet).where(ChangeSet.id.in_([by_orm, by_batch]))).scalars()
        }
        assert rows[by_orm] == rows[by_batch]
        assert rows[by_batch]["status"] == "approved"
