"""The master person index as use cases: resolve, reviews, merges, splits, undo."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from liangshi.audit.models import AuditEntry
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.mpi import rules, service
from liangshi.mpi.models import MatchReview, PersonLinkEvent, PersonSourceRecord
from liangshi.persons import service as persons
from liangshi.persons.models import Document, Person
from liangshi.persons.rules import name_keys
from liangshi.registry import history
from liangshi.registry.changesets import ChangeSet
from liangshi.review import service as review
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, World
from tests.mpi.helpers import bare_person, count, rec, totals, world_state


def _person(
    world: World,
    name: str = "张伟",
    *,
    birth: dt.date = dt.date(1990, 1, 1),
    male: bool = True,
    where: str = INSIDE,
) -> tuple[int, str]:
    with world.session() as s:
        ctx = world.ctx(s)
        number = factories.make_id(
            "420704", birth, (factories._seq.__next__() * 2 % 998) + (1 if male else 2)
        )
        pid = factories.person(
            s, ctx, area_id=world.area(where), name=name, male=male, birth=birth, id_number=number
        )
    return pid, number


def _resolve(
    world: World, records: list, *, user: str = "police_liu", batch: str = "b1"
) -> list[service.Resolution]:
    with world.session() as s:
        return service.resolve(s, world.ctx(s, user), records, source="health", batch_ref=batch)


def test_record_with_the_same_id_number_joins_the_existing_person_and_keeps_its_id(world: World) -> None:
    pid, number = _person(world)
    before = count(world, Person)
    [res] = _resolve(world, [rec("h1", id_number=number)])
    assert (res.person_id, res.status) == (pid, rules.LINKED)
    assert res.probability is not None and res.probability >= 0.99
    assert count(world, Person) == before
    with world.session() as s:
        row = s.execute(select(PersonSourceRecord)).scalar_one()
        assert (row.person_id, row.status, row.id_number, row.batch_ref) == (pid, "linked", number, "b1")
        assert {e["field"] for e in json.loads(row.evidence or "[]")} >= {"id_number", "name"}


def test_resending_the_same_records_changes_nothing(world: World) -> None:
    _, number = _person(world)
    batch = [
        rec("h1", id_number=number),
        rec("h2", name="李娜", sex="女", birth="1985-03-04"),
        rec("h3", birth=None, name="王五"),
    ]
    first = _resolve(world, batch)
    before = totals(world)
    again = _resolve(world, batch, batch="b2")
    assert again == first
    assert totals(world) == before, "a re-sent batch wrote something"


def _claim(world: World, record_id: str, user: str = "police_liu") -> int:
    """The community claims the department record `record_id` (认领): returns the person it made."""
    with world.session() as s:
        waiting = s.execute(select(ChangeSet).where(ChangeSet.status == "pending_claim")).scalars()
        [cs] = [c for c in waiting if json.loads(c.payload or "{}").get("record_id") == record_id]
        assert cs.id in {c.id for c in review.claim_desk(s, world.ctx(s, user))}
        review.claim(s, world.ctx(s, user), cs.id, "claimed")
        row = s.execute(
            select(PersonSourceRecord).where(PersonSourceRecord.source_record_id == record_id)
        ).scalar_one()
        assert row.status == rules.NEW and row.person_id is not None
        return int(row.person_id)


# Issue 14 changed this rule: a record that matches nobody no longer creates a register person at once (the test
# asserted `status == NEW` with a person); it waits for its community's claim (认领), and the person the claim
# makes carries the department's provenance, its document and the community's area as before.
def test_unmatched_record_waits_for_its_claim_then_makes_a_person_with_department_provenance(
    world: World,
) -> None:
    number = factories.make_id("420704", dt.date(1985, 3, 4), 124)
    before = count(world, Person)
    [res] = _resolve(
        world, [rec("h9", name="李娜", sex="女", birth="1985年3月4日", id_number=number, phone="13812345678")]
    )
    assert (res.status, res.person_id) == (rules.CLAIM, None)
    assert count(world, Person) == before, "an unclaimed department record is not a registry fact"
    with world.session() as s:
        assert s.execute(select(PersonSourceRecord.status)).scalar_one() == rules.CLAIM
    person_id = _claim(world, "h9")
    assert count(world, Person) == before + 1
    with world.session() as s:
        row = history.latest_row(s, persons.PERSON, person_id)
        assert (row.name, row.sex, row.birth_date) == ("李娜", "2", dt.date(1985, 3, 4))
        assert (row.source_kind, row.source_ref) == ("department", "b1")
        assert [d.number for d in persons.current_documents(s, person_id)] == [number]
        person = s.get(Person, person_id)
        assert person is not None and person.area_id == world.area(INSIDE)


def test_uncertain_record_goes_to_review_and_creates_nobody(world: World) -> None:
    pid, _ = _person(world, "赵六")
    before = count(world, Person)
    [res] = _resolve(world, [rec("h5", name="赵六")])  # same name, sex and birth date, no ID: p ≈ 0.74
    assert res.status == rules.REVIEW and res.person_id is None
    assert count(world, Person) == before
    with world.session() as s:
        review = s.execute(select(MatchReview)).scalar_one()
        assert (review.candidate_person_id, review.status) == (pid, "pending")
        assert rules.band(review.probability, accept=0.99, review=0.5) == rules.REVIEW


def test_record_without_birth_date_and_no_match_is_rejected(world: World) -> None:
    [res] = _resolve(world, [rec("h7", name="孙七", birth=None)])
    assert (res.status, res.person_id) == (rules.REJECTED, None)
    assert count(world, Person) == 0


def test_two_records_of_one_new_person_in_a_batch_make_one_claim_and_one_person(world: World) -> None:
    number = factories.make_id("420704", dt.date(1970, 5, 6), 31)
    out = _resolve(
        world,
        [
            rec("a", name="周八", birth="1970-05-06", id_number=number),
            rec("b", name="周八", birth="19700506", id_number=number),
        ],
    )
    # Issue 14: both records wait for one claim (they asserted NEW and one shared person at once); claimed, the
    # two records name the one person it made.
    assert [r.status for r in out] == [rules.CLAIM, rules.CLAIM]
    with world.session() as s:
        assert len(review.claim_desk(s, world.ctx(s, "police_liu"))) == 1
    assert count(world, Person) == 0
    person_id = _claim(world, "a")
    assert count(world, Person) == 1
    with world.session() as s:
        rows = s.execute(select(PersonSourceRecord.status, PersonSourceRecord.person_id)).all()
    assert sorted(rows) == [(rules.NEW, person_id), (rules.NEW, person_id)]


def test_existing_person_ids_never_change(world: World) -> None:
    made = [_person(world, n) for n in ("甲一", "乙二", "丙三", "丁四")]
    with world.session() as s:
        before = {
            p: (s.get(Person, p).version, history.latest_row(s, persons.PERSON, p).row_id) for p, _ in made
        }  # type: ignore[union-attr]
    _resolve(
        world,
        [rec(f"r{i}", name=("甲一", "乙二", "丙三", "丁四")[i], id_number=n) for i, (_, n) in enumerate(made)]
        + [rec("x", name="新人", birth="2001-01-01")],
    )
    with world.session() as s:
        after = {
            p: (s.get(Person, p).version, history.latest_row(s, persons.PERSON, p).row_id) for p, _ in made
        }  # type: ignore[union-attr]
        linked = {
            r.person_id
            for r in s.execute(
                select(PersonSourceRecord).where(PersonSourceRecord.status == "linked")
            ).scalars()
        }
    assert before == after
    assert linked == {p for p, _ in made}


def test_id_number_held_outside_the_jurisdiction_is_not_registered_twice(world: World) -> None:
    _, number = _person(world, "吴九", where=OUTSIDE)
    before = count(world, Person)
    [res] = _resolve(world, [rec("h8", name="吴九", id_number=number)])
    assert (res.status, res.person_id) == (rules.REJECTED, None)
    assert count(world, Person) == before


def test_review_decided_same_links_the_record(world: World) -> None:
    pid, _ = _person(world, "赵六")
    _resolve(world, [rec("h5", name="赵六")])
    with world.session() as s:
        review_id = s.execute(select(MatchReview.id)).scalar_one()
        out = service.decide(
            s, world.ctx(s, "police_liu"), review_id, decision="same", reason="电话核实为同一人"
        )
    assert out["person_id"] == pid
    with world.session() as s:
        row = s.execute(select(PersonSourceRecord)).scalar_one()
        review = s.get(MatchReview, review_id)
        assert (row.status, row.person_id) == ("linked", pid)
        assert review is not None and (review.status, review.reason) == ("linked", "电话核实为同一人")
        assert review.decided_by == world.users["police_liu"]
        actions = (
            s.execute(select(AuditEntry.action).where(AuditEntry.object_id == review_id)).scalars().all()
        )
        assert "mpi.review_decide" in actions
        with pytest.raises(Conflict) as err:
            service.decide(s, world.ctx(s, "police_liu"), review_id, decision="distinct", reason="改主意")
        assert err.value.code == "mpi.review_decided"


def test_review_decided_distinct_opens_a_claim_for_a_new_person(world: World) -> None:
    pid, _ = _person(world, "赵六")
    _resolve(world, [rec("h5", name="赵六")])
    with world.session() as s:
        review_id = s.execute(select(MatchReview.id)).scalar_one()
        service.decide(
            s, world.ctx(s, "police_liu"), review_id, decision="distinct", reason="同名同生日，非同一人"
        )
    # Issue 14: "distinct" no longer creates the person at once (it asserted status "new" with a person): the
    # record waits for its community's claim, and the claim makes a person other than the candidate.
    with world.session() as s:
        row = s.execute(select(PersonSourceRecord)).scalar_one()
        assert (row.status, row.person_id) == (rules.CLAIM, None)
    assert _claim(world, "h5") != pid


def test_a_decision_needs_a_reason_and_the_right_role(world: World) -> None:
    _person(world, "赵六")
    _resolve(world, [rec("h5", name="赵六")])
    with world.session() as s:
        review_id = s.execute(select(MatchReview.id)).scalar_one()
        with pytest.raises(ValidationFailed):
            service.decide(s, world.ctx(s, "police_liu"), review_id, decision="same", reason="  ")
        with pytest.raises(Forbidden):
            service.decide(s, world.ctx(s, "collector_zhang"), review_id, decision="same", reason="x")
        with pytest.raises(Forbidden):
            service.decide(s, world.ctx(s, "health_liaison_wang"), review_id, decision="same", reason="x")
    with world.session() as s:
        assert s.get(MatchReview, review_id).status == "pending"  # type: ignore[union-attr]


def _family(world: World) -> tuple[int, int]:
    """Two persons, the second without documents but with a household, a residence and a source record."""
    with world.session() as s:
        ctx = world.ctx(s)
        keep = factories.person(s, ctx, area_id=world.area(INSIDE), name="钱一")
        other = bare_person(s, ctx, area_id=world.area(INSIDE), name="钱一")
        place = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        factories.household(
            s, ctx, area_id=world.area(INSIDE), dwelling_id=place.dwelling_id, members=[(other, "02")]
        )
        factories.arrival(s, ctx, person_id=other, dwelling_id=place.dwelling_id, arrived=dt.date(2026, 1, 5))
    return keep, other


def test_merge_moves_every_row_and_undo_restores_exactly(world: World) -> None:
    keep, other = _family(world)
    before = world_state(world, [keep, other])
    with world.session() as s:
        event = service.merge(s, world.ctx(s, "police_liu"), keep, other, reason="同一人重复登记")
        event_id = event.id
        moved = json.loads(event.moved)
    assert moved["memberships"] and moved["residences"]
    merged = world_state(world, [keep, other])
    assert all(p == keep for rows in merged["rows"].values() for _, p in rows)
    assert merged["persons"][other]["valid_to"] is not None
    with world.session() as s:
        retire_row = history.latest_row(s, persons.PERSON, other)
        assert retire_row.change == "retire" and retire_row.reason == f"merged into {keep}"  # type: ignore[union-attr]
        service.undo(s, world.ctx(s, "police_liu"), event_id, reason="合并错误")
    after = world_state(world, [keep, other])
    assert after == before
    with world.session() as s:
        rows = history.history(s, persons.PERSON, other)
        # History kept: the retirement is still there, superseded by a correction that opens the person again.
        assert [r.change for r in rows] == ["create", "retire", "correct"]
        assert rows[1].superseded_at is not None and rows[2].corrects_row_id == rows[1].row_id
        event = s.get(PersonLinkEvent, event_id)
        assert event is not None and event.undone_by is not None
        actions = set(s.execute(select(AuditEntry.action)).scalars())
        assert {"person.merge", "person.merged_away", "person.merge_undo"} <= actions
        with pytest.raises(Conflict):
            service.undo(s, world.ctx(s, "police_liu"), event_id, reason="再撤销一次")


def test_merge_refusals_write_nothing(world: World) -> None:
    keep, other = _family(world)
    twin_a, _ = _person(world, "孙甲")
    twin_b, _ = _person(world, "孙乙")
    outsider, _ = _person(world, "外人", where=OUTSIDE)
    before = totals(world)
    cases = [
        ("police_liu", keep, keep, False, ValidationFailed, "mpi.merge_self"),
        ("police_liu", keep, outsider, False, NotFound, "person.not_found"),
        ("police_liu", twin_a, twin_b, False, Conflict, "mpi.merge_id_conflict"),
        ("police_liu", twin_a, twin_b, True, Forbidden, "access.forbidden"),
        ("collector_zhang", keep, other, False, Forbidden, "access.forbidden"),
        ("health_liaison_wang", keep, other, False, Forbidden, "access.forbidden"),
    ]
    for user, a, b, force, exc, code in cases:
        with world.session() as s, pytest.raises(exc) as err:
            service.merge(s, world.ctx(s, user), a, b, reason="测试", force=force)
        assert err.value.code == code
        assert totals(world) == before, code


def test_station_admin_may_force_a_merge_of_different_id_numbers(world: World) -> None:
    a, _ = _person(world, "孙甲")
    b, _ = _person(world, "孙甲")
    with world.session() as s:
        event = service.merge(
            s, world.ctx(s, "station_admin_li"), a, b, reason="证件登记错误，已核实", force=True
        )
        assert event.forced is True
    with world.session() as s:
        assert {d.person_id for d in s.execute(select(Document)).scalars()} == {a}


def test_split_moves_records_to_a_new_person_and_undo_puts_them_back(world: World) -> None:
    pid, number = _person(world, "郑十")
    out = _resolve(
        world,
        [
            rec("s1", name="郑十", id_number=number),
            rec("s2", name="郑十", phone="13900001111", id_number=number),
        ],
    )
    assert {r.person_id for r in out} == {pid}
    with world.session() as s:
        pk = s.execute(
            select(PersonSourceRecord.id).where(PersonSourceRecord.source_record_id == "s2")
        ).scalar_one()
        event = service.split(
            s, world.ctx(s, "police_liu"), pid, source_record_ids=[pk], reason="双胞胎，误合"
        )
        new_id, event_id = event.other_person_id, event.id
    with world.session() as s:
        assert s.get(PersonSourceRecord, pk).person_id == new_id  # type: ignore[union-attr]
        assert history.latest_row(s, persons.PERSON, new_id).name == "郑十"  # type: ignore[union-attr]
        # The document its record carries went with it.
        assert [d.number for d in persons.current_documents(s, new_id)] == [number]
        service.undo(s, world.ctx(s, "police_liu"), event_id, reason="拆错了")
    with world.session() as s:
        assert s.get(PersonSourceRecord, pk).person_id == pid  # type: ignore[union-attr]
        assert [d.number for d in persons.current_documents(s, pid)] == [number]
        assert history.latest_row(s, persons.PERSON, new_id).valid_to is not None  # type: ignore[union-attr]


def test_split_refuses_records_of_another_person(world: World) -> None:
    pid, _ = _person(world, "郑十")
    _, number2 = _person(world, "冯十一")
    _resolve(world, [rec("s1", name="冯十一", id_number=number2)])
    before = totals(world)
    with world.session() as s:
        pk = s.execute(select(PersonSourceRecord.id)).scalar_one()
        with pytest.raises(ValidationFailed) as err:
            service.split(s, world.ctx(s, "police_liu"), pid, source_record_ids=[pk], reason="x")
    assert err.value.code == "mpi.split_record_not_of_person"
    assert totals(world) == before


def test_link_persons_queues_register_duplicates_for_review(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        a = bare_person(s, ctx, area_id=world.area(INSIDE), name="陈静", male=False, birth="1980-02-02")
        b = bare_person(s, ctx, area_id=world.area(INSIDE), name="陈静", male=False, birth="1980-02-02")
        bare_person(s, ctx, area_id=world.area(INSIDE), name="陈动", birth="1981-02-02")
    with world.session() as s:
        report = service.link_persons(s, world.ctx(s, "police_liu"))
    assert (report.queued, report.pairs) == (1, 1)
    with world.session() as s:
        review = s.execute(select(MatchReview)).scalar_one()
        assert (review.left_person_id, review.candidate_person_id) == (b, a)
        service.decide(s, world.ctx(s, "police_liu"), review.id, decision="same", reason="同一人")
    with world.session() as s:
        assert history.latest_row(s, persons.PERSON, b).valid_to is not None  # type: ignore[union-attr]
        report = service.link_persons(s, world.ctx(s, "police_liu"))
    assert report.queued == 0
    # Undoing the merge takes the decision back: the pair waits in the queue again.
    with world.session() as s:
        event_id = s.execute(select(MatchReview.link_event_id)).scalar_one()
        assert event_id is not None
        service.undo(s, world.ctx(s, "police_liu"), event_id, reason="误合并")
    with world.session() as s:
        review = s.execute(select(MatchReview)).scalar_one()
        assert (review.status, review.decided_by, review.link_event_id) == ("pending", None, None)
        assert history.latest_row(s, persons.PERSON, b).valid_to is None  # type: ignore[union-attr]


def test_undo_is_refused_when_a_moved_row_moved_again_and_writes_nothing(world: World) -> None:
    keep, other = _family(world)
    with world.session() as s:
        event_id = service.merge(s, world.ctx(s, "police_liu"), keep, other, reason="重复登记").id
    third, _ = _person(world, "李三")
    with world.session() as s:
        # The merged person's residence is moved on by a later merge of keep into a third person.
        service.merge(s, world.ctx(s, "station_admin_li"), third, keep, reason="再次合并", force=True)
    before = totals(world)
    with world.session() as s, pytest.raises(Conflict) as err:
        service.undo(s, world.ctx(s, "police_liu"), event_id, reason="撤销")
    assert err.value.code == "mpi.undo_stale"
    assert totals(world) == before


def test_the_audit_chain_holds_after_resolve_merge_and_undo(world: World) -> None:
    from liangshi.audit import service as audit

    keep, other = _family(world)
    _resolve(world, [rec("h1", name="周八", birth="1970-05-06")])
    _claim(world, "h1")  # issue 14: the record nobody matched makes its person once claimed
    with world.session() as s:
        event_id = service.merge(s, world.ctx(s, "police_liu"), keep, other, reason="重复登记").id
    with world.session() as s:
        service.undo(s, world.ctx(s, "police_liu"), event_id, reason="撤销")
    with world.session() as s:
        result = audit.verify(s)
        assert result.ok, result.problems
        actions = set(s.execute(select(AuditEntry.action)).scalars())
    assert {
        "mpi.record_claim",
        "changeset.propose",
        "changeset.decide",
        "person.create",
        "person.merge",
        "person.merge_undo",
    } <= actions


def test_a_record_certain_of_two_register_persons_goes_to_review(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from liangshi.linkage import api as linkage
    from liangshi.persons.models import PersonVersion

    # With the stand-in, name + sex + birth date + phone scores p ≈ 0.978: make that "certain".
    monkeypatch.setattr(linkage, "ACCEPT", 0.95)
    with world.session() as s:
        ctx = world.ctx(s)
        a = bare_person(s, ctx, area_id=world.area(INSIDE), name="韩梅", male=False, birth="1975-07-07")
        b = bare_person(s, ctx, area_id=world.area(INSIDE), name="韩梅", male=False, birth="1975-07-07")
        c = bare_person(s, ctx, area_id=world.area(INSIDE), name="韩雪", male=False, birth="1976-08-08")
        s.execute(
            PersonVersion.__table__.update()
            .where(PersonVersion.entity_id.in_([a, b, c]))
            .values(phone="+8613900002222")
        )
    one, two = _resolve(
        world,
        [
            rec("d1", name="韩梅", sex="女", birth="1975-07-07", phone="13900002222"),
            rec("d2", name="韩雪", sex="女", birth="1976-08-08", phone="13900002222"),
        ],
    )
    assert (one.status, one.person_id) == (rules.REVIEW, None)
    assert (two.status, two.person_id) == (rules.LINKED, c)
    with world.session() as s:
        assert {r.candidate_person_id for r in s.execute(select(MatchReview)).scalars()} == {a, b}


def test_a_same_decision_on_different_valid_ids_needs_force_by_the_station(world: World) -> None:
    a, _ = _person(world, "孙乙")
    b, _ = _person(world, "孙乙")
    with world.session() as s:
        review = MatchReview(
            left_person_id=b,
            candidate_person_id=a,
            probability=0.8,
            weight=None,
            evidence="[]",
            status="pending",
            area_id=world.area(INSIDE),
            county_code="420704",
            created_at=world.clock.now(),
        )
        s.add(review)
        s.flush()
        review_id = review.id
    before = totals(world)
    with world.session() as s, pytest.raises(Conflict):
        service.decide(s, world.ctx(s, "police_liu"), review_id, decision="same", reason="同一人")
    with world.session() as s, pytest.raises(Forbidden):
        service.decide(s, world.ctx(s, "police_liu"), review_id, decision="same", reason="同一人", force=True)
    assert totals(world) == before
    with world.session() as s:
        outcome = service.decide(
            s, world.ctx(s, "station_admin_li"), review_id, decision="same", reason="证件登记错误", force=True
        )
        assert (outcome["person_id"], outcome["merged"]) == (a, b)
    with world.session() as s:
        assert s.get(MatchReview, review_id).status == "linked"  # type: ignore[union-attr]


def test_a_person_the_mpi_creates_has_the_name_search_keys_every_person_has(world: World) -> None:
    # A claimed record's person is written through the kernel's bulk path, so it gets what registry.create gives
    # (pinyin, initials). Issue 14: it is made when claimed (the test asserted NEW at once).
    [res] = _resolve(world, [rec("h10", name="李娜", sex="女", birth="1985-03-04")])
    assert res.status == rules.CLAIM
    person_id = _claim(world, "h10")
    with world.session() as s:
        row = history.latest_row(s, persons.PERSON, person_id)
        assert (row.name_pinyin, row.name_initials) == name_keys("李娜")
