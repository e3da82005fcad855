"""The review desk: what a collector collects is a change set, a fact only once the station (and, where district
policy names it, the district) approves it; returned with a reason; stale sets are refused whole."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from liangshi import registry
from liangshi.areas.models import Area
from liangshi.audit.models import AuditEntry
from liangshi.buildings import service as buildings
from liangshi.campaign import service as campaign
from liangshi.campaign.schemas import PersonAtDwelling, VisitCreate
from liangshi.common.types import validation_context
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.persons.models import PersonVersion
from liangshi.registry import history
from liangshi.registry.changesets import ChangeSet
from liangshi.residence.models import RESIDENCE, Residence, ResidenceVersion
from liangshi.residence.schemas import DepartureIn
from liangshi.review import rules
from liangshi.review import service as review
from tests import factories
from tests.conftest import INSIDE, World


@pytest.fixture
def home(world: World) -> factories.Place:
    """A dwelling in collector_zhang's community."""
    with world.session() as session:
        return factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704")
        )


def _found(world: World, session: object, **kw: object) -> PersonAtDwelling:
    body = {
        "name": "王小雨",
        "id_number": factories.make_id("420704", dt.date(1991, 5, 6), seq=12),
        "arrival_date": "2026-11-01",
        **kw,
    }
    return PersonAtDwelling.model_validate(body, context=validation_context(dt.date(2026, 11, 27)))


def _persons_named(session: object, name: str) -> int:
    return int(
        session.execute(  # type: ignore[attr-defined]
            select(func.count()).select_from(PersonVersion).where(PersonVersion.name == name)
        ).scalar_one()
    )


def test_a_person_a_collector_adds_is_not_live_until_the_station_approves(
    world: World, home: factories.Place
) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "collector_zhang")
        cs = campaign.add_person_at_dwelling(session, ctx, home.dwelling_id, _found(world, session))
        cs_id = cs.id
        assert cs.status == "pending_station" and not cs.needs_district
    with world.session() as session:
        assert _persons_named(session, "王小雨") == 0
        desk = review.desk(session, world.ctx(session, "station_admin_li"))
        assert [i.id for i in desk.items] == [cs_id]
        shown = review.show(session, world.ctx(session, "station_admin_li"), cs_id)
        fields = {f.name: f for item in shown.items for f in item.fields}
        assert fields["name"].proposed == "王小雨" and fields["name"].current is None
        assert "*" in fields["number"].proposed  # ID numbers masked on the desk
    with world.session() as session:
        read = review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
        assert read.status == "approved" and read.station_reviewer == "station_admin_li"
    with world.session() as session:
        row = session.execute(select(PersonVersion).where(PersonVersion.name == "王小雨")).scalar_one()
        # The collector stays the source, the approver is the version's actor, record time is the approval.
        assert row.source_kind == "collector" and row.source_ref == "collector_zhang"
        assert row.actor_id == world.actor(session, "station_admin_li").user_id
        res = session.execute(select(Residence).where(Residence.person_id == row.entity_id)).scalar_one()
        assert res.dwelling_id == home.dwelling_id
        assert review.change_sets_pending(session, session.get(Area, world.area("420704"))) == 0


def test_a_returned_change_set_goes_to_the_collectors_outbox_and_comes_back_fixed(
    world: World, home: factories.Place
) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "collector_zhang")
        cs_id = campaign.add_person_at_dwelling(session, ctx, home.dwelling_id, _found(world, session)).id
    with world.session() as session:
        with pytest.raises(ValidationFailed) as exc:
            review.return_(session, world.ctx(session, "station_admin_li"), cs_id, "  ")
        assert exc.value.code == "changeset.reason_required"
    with world.session() as session:
        review.return_(session, world.ctx(session, "station_admin_li"), cs_id, "姓名写错了")
    with world.session() as session:
        box = review.outbox(session, world.ctx(session, "collector_zhang"))
        assert [(b.id, b.status, b.return_reason) for b in box] == [(cs_id, "returned", "姓名写错了")]
        # Someone else cannot resubmit it.
        with pytest.raises(NotFound):
            campaign.add_person_at_dwelling(
                session,
                world.ctx(session, "police_liu"),
                home.dwelling_id,
                _found(world, session, name="王小语"),
                change_set_id=cs_id,
            )
    with world.session() as session:
        ctx = world.ctx(session, "collector_zhang")
        again = campaign.add_person_at_dwelling(
            session, ctx, home.dwelling_id, _found(world, session, name="王小语"), change_set_id=cs_id
        )
        assert again.id == cs_id and again.status == "pending_station" and again.round == 2
    with world.session() as session:
        review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
    with world.session() as session:
        assert _persons_named(session, "王小语") == 1 and _persons_named(session, "王小雨") == 0


def test_overseas_persons_need_district_approval_by_someone_else(world: World, home: factories.Place) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "collector_zhang")
        cs = campaign.add_person_at_dwelling(
            session, ctx, home.dwelling_id, _found(world, session, category="overseas")
        )
        cs_id = cs.id
        assert cs.needs_district
    with world.session() as session:
        read = review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
        assert read.status == "pending_district"
    with world.session() as session:
        assert _persons_named(session, "王小雨") == 0
        assert review.change_sets_pending(session, session.get(Area, world.area(INSIDE))) == 1
        # The station cannot take the district's stage.
        with pytest.raises(Forbidden):
            review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
    with world.session() as session:
        read = review.approve(session, world.ctx(session, "district_admin_chen"), cs_id)
        assert read.status == "approved"
        assert read.station_reviewer == "station_admin_li" and read.district_reviewer == "district_admin_chen"
    with world.session() as session:
        assert _persons_named(session, "王小雨") == 1
        actions = session.execute(
            select(AuditEntry.action).where(
                AuditEntry.object_kind == "change_set", AuditEntry.object_id == cs_id
            )
        ).scalars()
        assert {"changeset.approve_station", "changeset.approve_district"} <= set(actions)


def test_approving_twice_is_refused_and_writes_nothing(world: World, home: factories.Place) -> None:
    with world.session() as session:
        cs_id = campaign.add_person_at_dwelling(
            session, world.ctx(session, "collector_zhang"), home.dwelling_id, _found(world, session)
        ).id
    with world.session() as session:
        review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
    with world.session() as session:
        with pytest.raises(Conflict) as exc:
            review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
        assert exc.value.code == "changeset.already_approved"
    with world.session() as session:
        assert _persons_named(session, "王小雨") == 1


def test_a_reviewer_never_approves_their_own_collection(world: World, home: factories.Place) -> None:
    with world.session() as session:
        cs_id = campaign.add_person_at_dwelling(
            session, world.ctx(session, "station_admin_li"), home.dwelling_id, _found(world, session)
        ).id
    with world.session() as session:
        with pytest.raises(Forbidden) as exc:
            review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
        assert exc.value.code == "changeset.own_collection"
        with pytest.raises(Forbidden):
            review.approve(session, world.ctx(session, "collector_zhang"), cs_id)


def test_reviewers_see_only_their_jurisdiction(world: World, home: factories.Place) -> None:
    with world.session() as session:
        other = factories.place(
            session, world.ctx(session), area_id=world.area("420703100001"), district_id=world.area("420703")
        )
        cs_id = review.propose(
            session,
            world.ctx(session),
            area_id=world.area("420703100001"),
            action="occupancy",
            summary="x",
            items=[
                registry.changesets.Proposed(
                    "change",
                    "dwelling",
                    entity_id=other.dwelling_id,
                    base_version=1,
                    attributes={"status": "vacant"},
                )
            ],
            prov=registry.Provenance("collector", "someone"),
        ).id
    with world.session() as session:
        ctx = world.ctx(session, "station_admin_li")
        assert review.desk(session, ctx).total == 0
        with pytest.raises(NotFound):
            review.approve(session, ctx, cs_id)


def test_a_stale_change_set_is_shown_and_refused_whole(world: World, home: factories.Place) -> None:
    """The dwelling was demolished after the visit: the arrival no longer applies, nothing of it is written."""
    with world.session() as session:
        cs_id = campaign.add_person_at_dwelling(
            session, world.ctx(session, "collector_zhang"), home.dwelling_id, _found(world, session)
        ).id
    with world.session() as session:
        ctx = world.ctx(session, "police_liu")
        d = registry.get_entity(session, buildings.DWELLING, home.dwelling_id, ctx.actor)
        registry.change(
            session,
            ctx,
            buildings.DWELLING,
            d.id,
            {"status": "demolished"},
            expected_version=d.version,
            effective=ctx.today,
            prov=registry.Provenance("collector", "police_liu"),
            reason="拆迁",
        )
    with world.session() as session:
        desk = review.desk(session, world.ctx(session, "station_admin_li"))
        assert desk.items[0].stale and desk.items[0].stale[0]["reason"] == "status"
        with pytest.raises(Conflict) as exc:
            review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
        assert exc.value.code == "changeset.stale"
    with world.session() as session:
        assert _persons_named(session, "王小雨") == 0
        assert session.get(ChangeSet, cs_id).status == "pending_station"


def test_a_departure_is_proposed_and_needs_the_district(world: World, home: factories.Place) -> None:
    with world.session() as session:
        ctx = world.ctx(session)
        pid = factories.person(session, ctx, area_id=world.area(INSIDE), name="李四")
        res = factories.arrival(
            session, ctx, person_id=pid, dwelling_id=home.dwelling_id, arrived=dt.date(2026, 3, 1)
        )
        res_id = int(res.entity.id) if hasattr(res, "entity") else int(res)
    with world.session() as session:
        ctx = world.ctx(session, "collector_zhang")
        version = registry.get_entity(session, RESIDENCE, res_id, ctx.actor).version
        data = DepartureIn.model_validate(
            {"expected_version": version, "departure_date": "2026-11-20", "reason": "left_city"}
        )
        cs = campaign.propose_departure(session, ctx, res_id, data)
        cs_id = cs.id
        assert cs.needs_district  # deregistrations are district policy by default
    with world.session() as session:
        review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
    with world.session() as session:
        assert history.open_row(session, RESIDENCE, res_id) is not None
        review.approve(session, world.ctx(session, "district_admin_chen"), cs_id)
    with world.session() as session:
        assert history.open_row(session, RESIDENCE, res_id) is None
        row = (
            session.execute(
                select(ResidenceVersion)
                .where(ResidenceVersion.entity_id == res_id, ResidenceVersion.superseded_at.is_(None))
                .order_by(ResidenceVersion.row_id.desc())
            )
            .scalars()
            .first()
        )
        assert row.deregistration_reason == "left_city" and row.source_ref == "collector_zhang"


def test_a_visit_proposes_the_dwelling_status_for_review(world: World, home: factories.Place) -> None:
    with world.session() as session:
        visit = campaign.record_visit(
            session,
            world.ctx(session, "collector_zhang"),
            home.dwelling_id,
            VisitCreate.model_validate({"outcome": "nobody_home", "idempotency_key": "key-00000077"}),
        )
        assert visit.change_set_id is not None
        cs_id = visit.change_set_id
    with world.session() as session:
        before = history.open_row(session, buildings.DWELLING, home.dwelling_id).status
        assert before != "nobody_home"
    with world.session() as session:
        review.approve(session, world.ctx(session, "station_admin_li"), cs_id)
    with world.session() as session:
        row = history.open_row(session, buildings.DWELLING, home.dwelling_id)
        assert row.status == "nobody_home" and row.source_ref == "collector_zhang"


def test_bulk_approval_is_item_by_item(world: World, home: factories.Place) -> None:
    with world.session() as session:
        ctx = world.ctx(session, "collector_zhang")
        good = campaign.add_person_at_dwelling(session, ctx, home.dwelling_id, _found(world, session)).id
        twin = campaign.add_person_at_dwelling(
            session, ctx, home.dwelling_id, _found(world, session, name="王小雨二")
        ).id
        other = factories.place(
            session, world.ctx(session), area_id=world.area(INSIDE), district_id=world.area("420704"), tag="b"
        )
        third = campaign.add_person_at_dwelling(
            session,
            ctx,
            other.dwelling_id,
            _found(
                world,
                session,
                name="赵六",
                id_number=factories.make_id("420704", dt.date(1980, 1, 2), seq=44),
            ),
        ).id
    with world.session() as session:
        outcomes = review.approve_many(session, world.ctx(session, "station_admin_li"), [good, twin, third])
        # The twin proposes an ID number the first one registers: all-or-nothing per set, the others kept.
        assert [(o.id, o.ok) for o in outcomes] == [(good, True), (twin, False), (third, True)]
        assert outcomes[1].code == "changeset.stale"
    with world.session() as session:
        assert _persons_named(session, "王小雨") == 1 and _persons_named(session, "赵六") == 1
        assert _persons_named(session, "王小雨二") == 0
        assert session.get(ChangeSet, twin).status == "pending_station"
        result = json.loads(session.get(ChangeSet, good).result)
        assert set(result) == {"person", "document", "residence"}


def test_a_sample_share_is_reproducible() -> None:
    policy = rules.DistrictPolicy(frozenset(), frozenset(), 0.25)
    drawn = [
        i for i in range(1, 401) if rules.needs_district(policy, change_set_id=i, action="x", tags=set())
    ]
    assert drawn == [i for i in range(1, 401) if rules.in_sample(i, 0.25)]
    assert 60 <= len(drawn) <= 140
    assert not rules.needs_district(
        rules.DistrictPolicy(frozenset(), frozenset(), 0.0), change_set_id=5, action="x", tags=set()
    )
