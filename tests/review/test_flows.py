"""The other flows on the same change sets: department records claimed by their community (认领) — claimed, handed
to the community they belong to, marked duplicate, undone — and a cross-unit edit refused by its holder and ruled
on by the station above both (业务协同)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from liangshi import registry
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.persons.models import PERSON, PersonVersion
from liangshi.registry.changesets import ChangeSet
from liangshi.review import service as review
from tests import factories
from tests.conftest import INSIDE, World

NANPU = "420704001002"  # collector_zhou's community, beside 滨湖 (INSIDE) under station_admin_li


def _record(world: World, name: str, seq: int, area: str = INSIDE) -> int:
    with world.session() as session:
        ctx = world.ctx(session, "health_liaison_wang")
        number = factories.make_id("420704", dt.date(1970, 7, 7), seq=seq)
        cs = review.propose_claim(
            session,
            ctx,
            area_id=world.area(area),
            person={"name": name, "sex": "1", "birth_date": dt.date(1970, 7, 7)},
            documents=[{"doc_type": "resident_id", "number": number, "country": "CHN"}],
            source="health",
            record_id=f"H-{seq}",
        )
        assert cs.status == "pending_claim"
        return cs.id


def _named(world: World, name: str) -> int:
    with world.session() as session:
        return int(
            session.execute(
                select(func.count()).select_from(PersonVersion).where(PersonVersion.name == name)
            ).scalar_one()
        )


def test_department_records_are_claimed_moved_and_marked_duplicate(world: World) -> None:
    claimed = _record(world, "郑一", 61)
    elsewhere = _record(world, "郑二", 63)
    dup = _record(world, "郑三", 65)
    with world.session() as session:
        existing = factories.person(session, world.ctx(session), area_id=world.area(INSIDE), name="郑三")
    assert _named(world, "郑一") == 0

    with world.session() as session:
        ctx = world.ctx(session, "police_liu")
        assert {c.id for c in review.claim_desk(session, ctx)} == {claimed, elsewhere, dup}
        read = review.claim(session, ctx, claimed, "claimed")
        assert read.status == "approved" and read.result is not None
    with world.session() as session:
        row = session.execute(select(PersonVersion).where(PersonVersion.name == "郑一")).scalar_one()
        assert (row.source_kind, row.source_ref) == ("department", "health:H-61")
        assert row.actor_id == world.actor(session, "police_liu").user_id

    with world.session() as session:
        ctx = world.ctx(session, "police_liu")
        with pytest.raises(ValidationFailed):
            review.claim(session, ctx, elsewhere, "elsewhere")
        moved = review.claim(session, ctx, elsewhere, "elsewhere", area_id=world.area(NANPU))
        assert moved.area_id == world.area(NANPU) and moved.status == "pending_claim"
    with world.session() as session:
        # Gone from 滨湖's desk, on 南浦's (the station covers both).
        assert elsewhere not in {c.id for c in review.claim_desk(session, world.ctx(session, "police_liu"))}
        assert elsewhere in {c.id for c in review.claim_desk(session, world.ctx(session, "station_admin_li"))}
        with pytest.raises(NotFound):
            review.claim(session, world.ctx(session, "police_liu"), elsewhere, "claimed")

    with world.session() as session:
        read = review.claim(
            session, world.ctx(session, "police_liu"), dup, "duplicate", duplicate_of=existing
        )
        assert read.status == "duplicate"
    assert _named(world, "郑三") == 1  # only the one already registered

    # Undo: the duplicate is awaiting its claim again; the moved record comes back.
    with world.session() as session:
        ctx = world.ctx(session, "police_liu")
        assert review.undo_claim(session, ctx, dup).status == "pending_claim"
        back = review.undo_claim(session, ctx, elsewhere)
        assert back.area_id == world.area(INSIDE)
        with pytest.raises(Conflict) as exc:
            review.undo_claim(session, ctx, claimed)
        assert exc.value.code == "changeset.nothing_to_undo"


def test_claiming_outside_ones_scope_or_twice_is_refused(world: World) -> None:
    rec = _record(world, "郑四", 67, area=NANPU)
    with world.session() as session:
        with pytest.raises(NotFound):
            review.claim(session, world.ctx(session, "police_liu"), rec, "claimed")
        with pytest.raises(Forbidden):
            review.claim(session, world.ctx(session, "collector_zhou"), rec, "claimed")
    with world.session() as session:
        review.claim(session, world.ctx(session, "station_admin_li"), rec, "claimed")
    with world.session() as session:
        with pytest.raises(Conflict) as exc:
            review.claim(session, world.ctx(session, "station_admin_li"), rec, "claimed")
        assert exc.value.code == "changeset.already_approved"
    assert _named(world, "郑四") == 1


@pytest.fixture
def held_elsewhere(world: World) -> int:
    """王六, held by 滨湖 (INSIDE) but living in 南浦: visible to 南浦's collector, who did not register him."""
    with world.session() as session:
        ctx = world.ctx(session)
        there = factories.place(session, ctx, area_id=world.area(NANPU), district_id=world.area("420704"))
        pid = factories.person(session, ctx, area_id=world.area(INSIDE), name="王六")
        factories.arrival(
            session, ctx, person_id=pid, dwelling_id=there.dwelling_id, arrived=dt.date(2026, 2, 1)
        )
        return pid


def _propose(world: World, pid: int) -> int:
    with world.session() as session:
        ctx = world.ctx(session, "collector_zhou")
        version = registry.get_entity(session, PERSON, pid, ctx.actor).version
        return review.propose_cross_unit(
            session, ctx, pid, {"occupation": "厨师"}, expected_version=version, reason="入户时本人说明"
        ).id


def _occupation(world: World, pid: int) -> str | None:
    with world.session() as session:
        row = registry.history.open_row(session, PERSON, pid)
        return None if row is None else row.occupation


def test_a_cross_unit_edit_refused_by_its_holder_is_ruled_on_by_the_station(
    world: World, held_elsewhere: int
) -> None:
    cs_id = _propose(world, held_elsewhere)
    assert _occupation(world, held_elsewhere) is None
    with world.session() as session:
        cs = session.get(ChangeSet, cs_id)
        assert cs.status == "pending_holder" and cs.area_id == world.area(INSIDE)
        with pytest.raises(NotFound):  # the initiator's side does not decide for the holder
            review.holder_decision(session, world.ctx(session, "collector_zhou"), cs_id, agree=True)
    with world.session() as session, pytest.raises(ValidationFailed):
        review.holder_decision(session, world.ctx(session, "police_liu"), cs_id, agree=False, reason="")
    with world.session() as session:
        read = review.holder_decision(
            session, world.ctx(session, "police_liu"), cs_id, agree=False, reason="户籍资料记载为教师"
        )
        assert read.status == "disputed"
    with world.session() as session:
        with pytest.raises(Forbidden):  # community police do not rule
            review.rule_dispute(session, world.ctx(session, "police_liu"), cs_id, "holder", "x")
        with pytest.raises(ValidationFailed):
            review.rule_dispute(session, world.ctx(session, "station_admin_li"), cs_id, "initiator", " ")
    assert _occupation(world, held_elsewhere) is None
    with world.session() as session:
        read = review.rule_dispute(
            session, world.ctx(session, "station_admin_li"), cs_id, "initiator", "单位出具在职证明"
        )
        assert read.status == "approved"
    assert _occupation(world, held_elsewhere) == "厨师"
    with world.session() as session, pytest.raises(Conflict):
        review.rule_dispute(session, world.ctx(session, "station_admin_li"), cs_id, "holder", "again")


def test_a_ruling_for_the_holder_writes_nothing_and_parties_cannot_rule(
    world: World, held_elsewhere: int
) -> None:
    cs_id = _propose(world, held_elsewhere)
    with world.session() as session:
        review.holder_decision(
            session, world.ctx(session, "station_admin_li"), cs_id, agree=False, reason="不同意"
        )
    with world.session() as session:
        with pytest.raises(Forbidden) as exc:
            review.rule_dispute(
                session, world.ctx(session, "station_admin_li"), cs_id, "holder", "本单位正确"
            )
        assert exc.value.code == "dispute.party"
    with world.session() as session:
        read = review.rule_dispute(
            session, world.ctx(session, "district_admin_chen"), cs_id, "neither", "双方均需重新核实"
        )
        assert read.status == "closed"
    assert _occupation(world, held_elsewhere) is None


def test_the_holder_agrees_and_ones_own_person_is_not_cross_unit(world: World, held_elsewhere: int) -> None:
    cs_id = _propose(world, held_elsewhere)
    with world.session() as session:
        review.holder_decision(session, world.ctx(session, "police_liu"), cs_id, agree=True)
    assert _occupation(world, held_elsewhere) == "厨师"
    with world.session() as session:
        ctx = world.ctx(session, "police_liu")
        with pytest.raises(ValidationFailed) as exc:
            review.propose_cross_unit(
                session, ctx, held_elsewhere, {"occupation": "司机"}, expected_version=2, reason="x"
            )
        assert exc.value.code == "changeset.not_cross_unit"
