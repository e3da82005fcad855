"""Issue 18: valid time is the world's time, so no change may be dated beyond today (a change dated 2031 was
accepted and then blocked every ordinary change to the person)."""

from __future__ import annotations

import datetime as dt

import pytest

from liangshi import registry
from liangshi.errors import ValidationFailed
from liangshi.persons import service as persons
from liangshi.registry import Provenance
from tests import factories
from tests.conftest import INSIDE, World

PROV = Provenance("collector", "collector_zhang", "observed")


def _person(world: World) -> int:
    with world.session() as s:
        return int(
            factories.person(s, world.ctx(s, "collector_zhang"), area_id=world.area(INSIDE), name="赵一")
        )


def test_a_change_dated_beyond_today_is_refused_and_an_ordinary_change_still_works(world: World) -> None:
    pid = _person(world)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        with pytest.raises(ValidationFailed) as exc:
            registry.change(
                s, ctx, persons.PERSON, pid, {"phone": "+8613800000009"},
                expected_version=1, effective=dt.date(2031, 1, 1), prov=PROV, reason=None,
            )  # fmt: skip
        assert exc.value.code == "version.date_in_future"
        assert exc.value.data["field"] == "effective"
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        registry.change(
            s, ctx, persons.PERSON, pid, {"phone": "+8613800000009"},
            expected_version=1, effective=ctx.today, prov=PROV, reason=None,
        )  # fmt: skip


def test_a_change_dated_today_is_accepted(world: World) -> None:
    pid = _person(world)
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhang")
        snap = registry.change(
            s, ctx, persons.PERSON, pid, {"phone": "+8613800000009"},
            expected_version=1, effective=ctx.today, prov=PROV, reason=None,
        )  # fmt: skip
        assert snap.attributes()["phone"] == "+8613800000009"
