"""Bitemporal history: changes, corrections, retirement, as-of reads."""

from __future__ import annotations

import datetime as dt

import pytest

from liangshi import registry
from liangshi.errors import Conflict, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import PersonVersion
from liangshi.registry import Provenance, history
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, World

PROV = Provenance("collector", "collector_zhang", "observed")


def test_change_keeps_the_old_value_readable_before_its_date(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
        registry.change(
            s,
            ctx,
            persons.PERSON,
            pid,
            {"phone": "+8613800000001"},
            expected_version=1,
            effective=dt.date(2026, 6, 1),
            prov=PROV,
            reason="new phone",
        )
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        before = registry.read(s, ctx, persons.PERSON, pid, on=dt.date(2026, 5, 31))
        after = registry.read(s, ctx, persons.PERSON, pid, on=dt.date(2026, 6, 1))
        assert before.row.phone is None
        assert after.row.phone == "+8613800000001"
        assert after.entity.version == 2


def test_correction_points_at_the_version_it_corrects_and_keeps_it(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE), name="张伟")
        first = history.latest_row(s, persons.PERSON, pid).row_id
        registry.correct(
            s,
            ctx,
            persons.PERSON,
            pid,
            {"name": "张玮"},
            expected_version=1,
            row_id=None,
            prov=PROV,
            reason="名字录错",
        )
    with world.session() as s:
        rows = history.history(s, persons.PERSON, pid)
        assert [r.name for r in rows] == ["张伟", "张玮"]
        assert rows[0].superseded_at is not None
        assert rows[1].corrects_row_id == first
        assert rows[1].change == "correct"
        assert rows[1].valid_from == rows[0].valid_from


def test_read_as_known_at_an_earlier_record_time_shows_the_uncorrected_value(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE), name="李娜")
    later = world.clock.now() + dt.timedelta(hours=1)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        ctx = registry.Context(actor=ctx.actor, now=later, today=ctx.today)
        registry.correct(
            s,
            ctx,
            persons.PERSON,
            pid,
            {"name": "李娜娜"},
            expected_version=1,
            row_id=None,
            prov=PROV,
            reason="typo",
        )
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        then = registry.read(s, ctx, persons.PERSON, pid, on=ctx.today, at=world.clock.now())
        now = registry.read(s, ctx, persons.PERSON, pid)
        assert then.row.name == "李娜"
        assert now.row.name == "李娜娜"


def test_retired_object_is_readable_before_its_end_and_refuses_changes(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
        registry.retire(
            s,
            ctx,
            persons.PERSON,
            pid,
            expected_version=1,
            effective=dt.date(2026, 11, 1),
            prov=PROV,
            reason="duplicate",
        )
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        assert registry.read(s, ctx, persons.PERSON, pid, on=dt.date(2026, 10, 31)).retired is False
        assert registry.read(s, ctx, persons.PERSON, pid).retired is True
        with pytest.raises(Conflict) as exc:
            registry.change(
                s,
                ctx,
                persons.PERSON,
                pid,
                {"phone": "+8613800000002"},
                expected_version=2,
                effective=None,
                prov=PROV,
                reason=None,
            )
        assert exc.value.code == "person.retired"


def test_change_dated_before_the_current_version_is_refused(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
        with pytest.raises(ValidationFailed) as exc:
            registry.change(
                s,
                ctx,
                persons.PERSON,
                pid,
                {"phone": "+8613800000003"},
                expected_version=1,
                effective=dt.date(2000, 1, 1),
                prov=PROV,
                reason=None,
            )
        assert exc.value.code == "version.change_before_current"


def test_stale_expected_version_is_refused_and_nothing_is_written(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
        registry.change(
            s,
            ctx,
            persons.PERSON,
            pid,
            {"phone": "+8613800000004"},
            expected_version=1,
            effective=None,
            prov=PROV,
            reason=None,
        )
    with pytest.raises(Conflict) as exc, world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        registry.change(
            s,
            ctx,
            persons.PERSON,
            pid,
            {"phone": "+8613800000005"},
            expected_version=1,
            effective=None,
            prov=PROV,
            reason=None,
        )
    assert exc.value.code == "version.stale"
    with world.session() as s:
        rows = history.history(s, persons.PERSON, pid)
        assert len(rows) == 3  # create, then close + change; the refused write added nothing
        assert history.latest_row(s, persons.PERSON, pid).phone == "+8613800000004"


def test_provenance_of_each_version_names_source_actor_and_evidence(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE))
        registry.change(
            s,
            ctx,
            persons.PERSON,
            pid,
            {"occupation": "教师"},
            expected_version=1,
            effective=dt.date(2026, 11, 1),
            prov=Provenance("department", "health", "document", "出生医学证明"),
            reason=None,
        )
    with world.session() as s:
        rows = history.history(s, persons.PERSON, pid)
        closed = next(r for r in rows if r.change == "close")
        new = next(r for r in rows if r.change == "change")
        # The closed copy keeps the original collector's accountability; the change names its own source.
        assert closed.source_ref == "collector_zhang" and closed.actor_id == world.users["collector_zhang"]
        assert (new.source_kind, new.source_ref, new.evidence, new.document_ref) == (
            "department",
            "health",
            "document",
            "出生医学证明",
        )


def test_flag_under_investigation_leaves_the_value_unchanged(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE), birth=dt.date(1985, 3, 4))
        registry.flag(
            s,
            ctx,
            persons.PERSON,
            pid,
            attribute="birth_date",
            reason="卫生部门记录为1985-04-03",
            expected_version=1,
        )
    with world.session() as s:
        snap = registry.read(s, world.ctx(s, "collector_zhang"), persons.PERSON, pid)
        assert snap.row.birth_date == dt.date(1985, 3, 4)
        assert [f.attribute for f in snap.flags] == ["birth_date"]
        assert len(history.history(s, persons.PERSON, pid)) == 1


def test_search_with_retired_objects_gives_one_row_per_object(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        pid = factories.person(s, ctx, area_id=world.area(INSIDE), name="孙一")
        registry.change(
            s,
            ctx,
            persons.PERSON,
            pid,
            {"occupation": "厨师"},
            expected_version=1,
            effective=dt.date(2026, 3, 1),
            prov=PROV,
            reason=None,
        )
        registry.retire(
            s,
            ctx,
            persons.PERSON,
            pid,
            expected_version=2,
            effective=dt.date(2026, 11, 1),
            prov=PROV,
            reason="duplicate",
        )
        other = factories.person(s, ctx, area_id=world.area(INSIDE), name="孙二")
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        page = registry.search(s, ctx, persons.PERSON, where=[], offset=0, limit=50, include_retired=True)
        current = registry.search(s, ctx, persons.PERSON, where=[], offset=0, limit=50)
    assert sorted((snap.entity.id, snap.retired) for snap in page.items) == [(pid, True), (other, False)]
    assert page.total == 2
    assert [snap.entity.id for snap in current.items] == [other]


def test_a_search_counting_in_its_page_gives_the_same_page_and_total(world: World) -> None:
    """`count_in_page` (the forgiving search's one scan): the same items and total as a count and a page apart,
    within the jurisdiction, on the first page, a later one and one past the end; an empty search counts 0."""
    with world.session() as s:
        ctx = world.ctx(s)
        for i in range(7):
            factories.person(s, ctx, area_id=world.area(INSIDE), name=f"钱{'一二三四五六七'[i]}")
        factories.person(s, ctx, area_id=world.area(OUTSIDE), name="钱外")
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        where = [PersonVersion.name.startswith("钱")]
        for offset, limit in [(0, 3), (3, 3), (6, 3), (9, 3), (0, 50)]:
            apart = registry.search(s, ctx, persons.PERSON, where=where, offset=offset, limit=limit)
            one = registry.search(
                s, ctx, persons.PERSON, where=where, offset=offset, limit=limit, count_in_page=True
            )
            assert [x.entity.id for x in one.items] == [x.entity.id for x in apart.items]
            assert one.total == apart.total == 7
        none = registry.search(
            s,
            ctx,
            persons.PERSON,
            where=[PersonVersion.name == "无此人"],
            offset=0,
            limit=5,
            count_in_page=True,
        )
        assert (none.items, none.total) == ([], 0)
