"""Persons, documents and households: ID agreement, masking, search within the jurisdiction, household rules."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from liangshi import registry
from liangshi.audit.models import AuditEntry
from liangshi.errors import Conflict, Forbidden, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Document, DocumentVersion, Membership, Person, PersonVersion
from liangshi.persons.schemas import DocumentIn, HouseholdCreate, MemberAdd, MemberEnd, MemberIn, PersonCreate
from liangshi.registry import Context
from tests import factories
from tests.conftest import INSIDE, World
from tests.factories import make_id

BORN = dt.date(1985, 3, 4)
HEAD, SPOUSE, CHILD = "02", "10", "20"
ZHOU_COMMUNITY = "420704001002"


def _create(
    s: Session,
    ctx: Context,
    world: World,
    number: str,
    *,
    name: str = "王芳",
    sex: str = "2",
    birth: dt.date | None = None,
    area: str = INSIDE,
    phone: str | None = None,
) -> int:
    snap = persons.create_person(
        s,
        ctx,
        PersonCreate(
            area_id=world.area(area),
            name=name,
            sex=sex,
            birth_date=birth,
            phone=phone,
            documents=[DocumentIn(doc_type="resident_id", number=number)],
        ),
    )
    return int(snap.entity.id)


def _counts(s: Session) -> tuple[int, ...]:
    return tuple(
        s.execute(select(func.count()).select_from(t)).scalar_one()
        for t in (Person, PersonVersion, Document, DocumentVersion, AuditEntry)
    )


def _id_ending_in_x(birth: dt.date) -> tuple[str, str]:
    """An ID number whose check character is X, with the sex code it carries."""
    for seq in range(1, 999):
        number = make_id("420704", birth, seq)
        if number.endswith("X"):
            return number, "1" if seq % 2 else "2"
    raise AssertionError("no check character X found")


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


# ---- creating persons --------------------------------------------------------------------------------------


def test_birth_date_is_filled_from_the_id_number_when_missing(world: World) -> None:
    with world.session() as s:
        pid = _create(s, world.ctx(s, "collector_zhang"), world, make_id("420704", BORN, 124))
    with world.session() as s:
        assert registry.read(s, world.ctx(s, "collector_zhang"), persons.PERSON, pid).row.birth_date == BORN


def test_birth_date_contradicting_the_id_is_refused_and_nothing_is_written(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc, world.session() as s:
        _create(
            s, world.ctx(s, "collector_zhang"), world, make_id("420704", BORN, 124), birth=dt.date(1985, 4, 3)
        )
    assert exc.value.code == "person.birth_date_mismatch"
    with world.session() as s:
        assert _counts(s) == (0, 0, 0, 0, 0)


def test_sex_contradicting_the_id_is_refused_and_nothing_is_written(world: World) -> None:
    with pytest.raises(ValidationFailed) as exc, world.session() as s:
        # An even sequence digit means a woman.
        _create(s, world.ctx(s, "collector_zhang"), world, make_id("420704", BORN, 124), name="王强", sex="1")
    assert exc.value.code == "person.sex_mismatch"
    with world.session() as s:
        assert _counts(s) == (0, 0, 0, 0, 0)


def test_the_same_document_cannot_belong_to_two_persons(world: World) -> None:
    number = make_id("420704", BORN, 124)
    with world.session() as s:
        first = _create(s, world.ctx(s, "collector_zhang"), world, number)
    with world.session() as s:
        before = _counts(s)
    with pytest.raises(Conflict) as exc, world.session() as s:
        _create(s, world.ctx(s, "collector_zhang"), world, number, name="王小芳")
    assert exc.value.code == "person.document_taken"
    # The other holder may be outside the caller's jurisdiction: the error must not point at them.
    shown = " ".join([str(exc.value), exc.value.message_zh, exc.value.message_en, json.dumps(exc.value.data)])
    assert str(first) not in shown
    assert exc.value.data == {"field": "documents"}
    with world.session() as s:
        assert _counts(s) == before


def test_the_same_document_held_in_another_jurisdiction_is_refused_too(world: World) -> None:
    number = make_id("420704", BORN, 124)
    with world.session() as s:
        _create(s, world.ctx(s, "collector_zhou"), world, number, area=ZHOU_COMMUNITY)
    with pytest.raises(Conflict) as exc, world.session() as s:
        _create(s, world.ctx(s, "collector_zhang"), world, number)
    assert exc.value.code == "person.document_taken"


def test_old_15_digit_id_number_is_stored_upgraded_to_18(world: World) -> None:
    old = "420704850304123"
    with world.session() as s:
        pid = _create(s, world.ctx(s, "collector_zhang"), world, old, name="王强", sex="1")
    with world.session() as s:
        [doc] = persons.current_documents(s, pid)
        assert doc.number == make_id("420704", BORN, 123)
        assert len(doc.number) == 18
        assert registry.read(s, world.ctx(s, "collector_zhang"), persons.PERSON, pid).row.birth_date == BORN


# ---- documents: masking and unmasking ----------------------------------------------------------------------


def test_documents_are_shown_masked(world: World) -> None:
    number = make_id("420704", BORN, 124)
    with world.session() as s:
        pid = _create(s, world.ctx(s, "collector_zhang"), world, number)
    with world.session() as s:
        [doc] = persons.documents_view(s, world.ctx(s, "collector_zhang"), pid, unmask_reason=None)
    assert doc["masked"] is True
    assert doc["number"] == number[:6] + "*" * 8 + number[-4:]
    assert (doc["doc_type"], doc["country"]) == ("resident_id", "CHN")


def test_police_unmask_with_a_reason_and_the_reason_is_audited(world: World) -> None:
    number = make_id("420704", BORN, 124)
    with world.session() as s:
        pid = _create(s, world.ctx(s, "collector_zhang"), world, number)
    with world.session() as s:
        [doc] = persons.documents_view(s, world.ctx(s, "police_liu"), pid, unmask_reason="核查案件线索")
    assert (doc["number"], doc["masked"]) == (number, False)
    with world.session() as s:
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "person.unmask")).scalars()
        assert (entry.actor_name, entry.subject_person_id, entry.object_id) == ("police_liu", pid, pid)
        assert json.loads(entry.detail) == {"reason": "核查案件线索"}


def test_collector_cannot_unmask_documents(world: World) -> None:
    with world.session() as s:
        pid = _create(s, world.ctx(s, "collector_zhang"), world, make_id("420704", BORN, 124))
    with pytest.raises(Forbidden), world.session() as s:
        persons.documents_view(s, world.ctx(s, "collector_zhang"), pid, unmask_reason="想看")
    with world.session() as s:
        assert s.execute(select(AuditEntry).where(AuditEntry.action == "person.unmask")).first() is None


# ---- search ------------------------------------------------------------------------------------------------


def _search(s: Session, ctx: Context, **kw: str) -> list[int]:
    params: dict[str, str | None] = {"name": None, "id_number": None, "phone": None, **kw}
    page = persons.search_persons(s, ctx, area_id=None, offset=0, limit=50, **params)
    return [int(x.entity.id) for x in page.items]


def test_search_by_name_prefix(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        zhang_wei = factories.person(s, ctx, area_id=world.area(INSIDE), name="张伟")
        zhang_li = factories.person(s, ctx, area_id=world.area(INSIDE), name="张丽", male=False)
        factories.person(s, ctx, area_id=world.area(INSIDE), name="李张")
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        assert sorted(_search(s, ctx, name="张")) == sorted([zhang_wei, zhang_li])
        assert _search(s, ctx, name="张伟") == [zhang_wei]
        assert _search(s, ctx, name="%") == []  # wildcards are literal


def test_search_by_id_number_as_typed(world: World) -> None:
    number, sex = _id_ending_in_x(BORN)
    with world.session() as s:
        pid = _create(s, world.ctx(s, "collector_zhang"), world, number, sex=sex)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        assert _search(s, ctx, id_number=number) == [pid]
        assert _search(s, ctx, id_number=number.lower()) == [pid]
        assert _search(s, ctx, id_number=_full_width(number)) == [pid]
        assert _search(s, ctx, id_number=f" {number[:6]} {number[6:14]} {number[14:]} ") == [pid]


def test_search_by_the_old_15_digit_id_number(world: World) -> None:
    with world.session() as s:
        pid = _create(
            s, world.ctx(s, "collector_zhang"), world, make_id("420704", BORN, 123), name="王强", sex="1"
        )
    with world.session() as s:
        assert _search(s, world.ctx(s, "collector_zhang"), id_number="420704850304123") == [pid]


def test_search_by_phone(world: World) -> None:
    with world.session() as s:
        pid = _create(
            s, world.ctx(s, "collector_zhang"), world, make_id("420704", BORN, 124), phone="13812345678"
        )
        _create(s, world.ctx(s, "collector_zhang"), world, make_id("420704", BORN, 126), phone="13987654321")
    with world.session() as s:
        assert _search(s, world.ctx(s, "collector_zhang"), phone="+8613812345678") == [pid]


def test_search_by_phone_as_typed(world: World) -> None:
    with world.session() as s:
        pid = _create(
            s, world.ctx(s, "collector_zhang"), world, make_id("420704", BORN, 124), phone="13812345678"
        )
    with world.session() as s:
        assert _search(s, world.ctx(s, "collector_zhang"), phone="138 1234 5678") == [pid]


def test_search_results_are_limited_to_the_jurisdiction(world: World) -> None:
    with world.session() as s:
        ours = factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE), name="王建国")
        theirs = factories.person(
            s, world.ctx(s, "collector_zhou"), area_id=world.area(ZHOU_COMMUNITY), name="王建军"
        )
    with world.session() as s:
        assert _search(s, world.ctx(s, "collector_zhang"), name="王建") == [ours]
        assert _search(s, world.ctx(s, "collector_zhou"), name="王建") == [theirs]
        assert sorted(_search(s, world.ctx(s, "station_admin_li"), name="王建")) == sorted([ours, theirs])


def test_search_results_are_audited_as_reads_of_each_person(world: World) -> None:
    with world.session() as s:
        pid = factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE), name="王建国")
    with world.session() as s:
        _search(s, world.ctx(s, "police_liu"), name="王")
    with world.session() as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == "person.search")).scalars().all()
        assert [(e.actor_name, e.subject_person_id) for e in entries] == [("police_liu", pid)]


# ---- households ---------------------------------------------------------------------------------------------


def _people(world: World, n: int) -> list[int]:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        return [
            factories.person(s, ctx, area_id=world.area(INSIDE), name=f"刘{'一二三四五'[i]}", male=i % 2 == 0)
            for i in range(n)
        ]


def _household(
    s: Session,
    ctx: Context,
    world: World,
    members: list[tuple[int, str]],
    *,
    kind: str = "actual",
    valid_from: dt.date | None = None,
) -> int:
    snap = persons.create_household(
        s,
        ctx,
        HouseholdCreate(
            household_kind=kind,
            area_id=world.area(INSIDE),
            valid_from=valid_from,
            members=[MemberIn(person_id=p, relationship=r) for p, r in members],
        ),
    )
    return int(snap.entity.id)


def test_a_household_has_one_head_only(world: World) -> None:
    a, b = _people(world, 2)
    with pytest.raises(Conflict) as exc, world.session() as s:
        _household(s, world.ctx(s, "collector_zhang"), world, [(a, HEAD), (b, HEAD)])
    assert exc.value.code == "household.head_exists"


def test_adding_a_second_head_later_is_refused(world: World) -> None:
    a, b = _people(world, 2)
    with world.session() as s:
        hid = _household(s, world.ctx(s, "collector_zhang"), world, [(a, HEAD)])
    with pytest.raises(Conflict) as exc, world.session() as s:
        persons.add_member(
            s,
            world.ctx(s, "collector_zhang"),
            hid,
            MemberAdd(person_id=b, relationship=HEAD, expected_version=1),
        )
    assert exc.value.code == "household.head_exists"


def test_a_person_belongs_to_one_registered_household_only(world: World) -> None:
    a, b = _people(world, 2)
    with world.session() as s:
        _household(s, world.ctx(s, "police_liu"), world, [(a, HEAD)], kind="registered")
    with pytest.raises(Conflict) as exc, world.session() as s:
        _household(s, world.ctx(s, "police_liu"), world, [(b, HEAD), (a, SPOUSE)], kind="registered")
    assert exc.value.code == "household.registered_elsewhere"
    with world.session() as s:
        # An actual living household elsewhere is fine.
        _household(s, world.ctx(s, "police_liu"), world, [(b, HEAD), (a, SPOUSE)], kind="actual")


def test_a_person_cannot_be_listed_twice_in_one_household(world: World) -> None:
    (a,) = _people(world, 1)
    with pytest.raises(Conflict) as exc, world.session() as s:
        _household(s, world.ctx(s, "collector_zhang"), world, [(a, HEAD), (a, SPOUSE)])
    assert exc.value.code == "household.already_member"


def test_adding_a_member_with_a_stale_version_is_refused(world: World) -> None:
    a, b, c = _people(world, 3)
    with world.session() as s:
        hid = _household(s, world.ctx(s, "collector_zhang"), world, [(a, HEAD)])
    with world.session() as s:
        snap = persons.add_member(
            s,
            world.ctx(s, "collector_zhang"),
            hid,
            MemberAdd(person_id=b, relationship=SPOUSE, expected_version=1),
        )
        assert snap.entity.version == 2
    with pytest.raises(Conflict) as exc, world.session() as s:
        # police_liu read the household before collector_zhang added the spouse.
        persons.add_member(
            s, world.ctx(s, "police_liu"), hid, MemberAdd(person_id=c, relationship=CHILD, expected_version=1)
        )
    assert exc.value.code == "version.stale"
    assert exc.value.data["current_version"] == 2
    with world.session() as s:
        members = s.execute(select(Membership.person_id).where(Membership.household_id == hid)).scalars()
        assert sorted(members) == sorted([a, b])


def test_members_view_as_of_a_date_follows_joins_and_ends(world: World) -> None:
    a, b, c = _people(world, 3)
    with world.session() as s:
        hid = _household(
            s,
            world.ctx(s, "collector_zhang"),
            world,
            [(a, HEAD), (b, SPOUSE)],
            valid_from=dt.date(2024, 1, 1),
        )
    with world.session() as s:
        persons.add_member(
            s,
            world.ctx(s, "collector_zhang"),
            hid,
            MemberAdd(person_id=c, relationship=CHILD, expected_version=1, effective=dt.date(2026, 6, 1)),
        )
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        spouse = next(
            m for m in persons.members_view(s, ctx, hid, dt.date(2026, 1, 1)) if m["person_id"] == b
        )
        persons.end_member(
            s,
            ctx,
            hid,
            spouse["membership_id"],
            MemberEnd(expected_version=2, effective=dt.date(2026, 9, 1), reason="离婚迁出"),
        )
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")

        def on(day: dt.date) -> list[tuple[int, str]]:
            return [(m["person_id"], m["relationship"]) for m in persons.members_view(s, ctx, hid, day)]

        assert on(dt.date(2023, 12, 31)) == []
        assert on(dt.date(2026, 5, 31)) == [(a, HEAD), (b, SPOUSE)]
        assert on(dt.date(2026, 6, 1)) == [(a, HEAD), (b, SPOUSE), (c, CHILD)]
        assert on(dt.date(2026, 9, 1)) == [(a, HEAD), (c, CHILD)]
        assert registry.read(s, ctx, persons.HOUSEHOLD, hid).entity.version == 3


def test_members_view_names_a_member_recorded_after_joining(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        # The person's record starts today, the household since 2024.
        pid = _create(s, ctx, world, make_id("420704", BORN, 124))
        hid = _household(s, ctx, world, [(pid, HEAD)], valid_from=dt.date(2024, 1, 1))
    with world.session() as s:
        view = persons.members_view(s, world.ctx(s, "collector_zhang"), hid, dt.date(2025, 1, 1))
    assert [(m["person_id"], m["name"], m["since"]) for m in view] == [(pid, "王芳", "2024-01-01")]


def test_ended_member_may_join_another_registered_household(world: World) -> None:
    a, b = _people(world, 2)
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        hid = _household(
            s, ctx, world, [(a, HEAD), (b, SPOUSE)], kind="registered", valid_from=dt.date(2024, 1, 1)
        )
        [spouse] = [m for m in persons.members_view(s, ctx, hid, ctx.today) if m["person_id"] == b]
        persons.end_member(
            s,
            ctx,
            hid,
            spouse["membership_id"],
            MemberEnd(expected_version=1, effective=dt.date(2026, 9, 1), reason="分户"),
        )
    with world.session() as s:
        _household(s, world.ctx(s, "police_liu"), world, [(b, HEAD)], kind="registered")


def test_members_view_is_audited_per_member(world: World) -> None:
    a, b = _people(world, 2)
    with world.session() as s:
        hid = _household(s, world.ctx(s, "collector_zhang"), world, [(a, HEAD), (b, SPOUSE)])
    with world.session() as s:
        persons.members_view(s, world.ctx(s, "police_liu"), hid, world.clock.today())
    with world.session() as s:
        subjects = s.execute(
            select(AuditEntry.subject_person_id).where(AuditEntry.action == "household.member_read")
        ).scalars()
        assert sorted(subjects) == sorted([a, b])


def test_search_by_pinyin_and_initials_finds_chinese_names(world: World) -> None:
    with world.session() as session:
        ctx = world.ctx(session)
        zhang = factories.person(session, ctx, area_id=world.area(INSIDE), name="张三")
        factories.person(session, ctx, area_id=world.area(INSIDE), name="李四")
    with world.session() as session:
        ctx = world.ctx(session, "police_liu")
        for query in ("zs", "zhangsan", "zhangs", "Zhang San", "张"):
            page = persons.search_persons(
                session, ctx, name=query, id_number=None, phone=None, area_id=None, offset=0, limit=10
            )
            assert [s.entity.id for s in page.items] == [zhang], query
