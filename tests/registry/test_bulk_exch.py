"""`registry.records.create_records`: a venue's stays written with the checks of the bulk forms (permission,
jurisdiction) and, for the imports, one audit entry naming them all."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from liangshi.errors import Forbidden, NotFound
from liangshi.registry.records import create_records
from liangshi.venues import service as venues
from liangshi.venues.models import Stay, Venue
from tests import factories
from tests.conftest import NOW, OUTSIDE, World
from tests.venues.helpers import H, check_in, person, post, stays, venue

# Columns that differ between two stays by construction.
IDS = {"id", "stay_ref"}


def _stay_rows(
    world: World, vid: int, refs: list[str], person_id: int | None, number: str
) -> list[dict[str, Any]]:
    with world.session() as s:
        place = s.get(Venue, vid)
        assert place is not None
        guest = ("resident_id", number, "CHN", "张伟")
        return [venues.stay_row(place, ref, NOW - H, guest, person_id, NOW)[0] for ref in refs]


def _columns(stay: Stay) -> dict[str, Any]:
    return {c.name: getattr(stay, c.name) for c in Stay.__table__.columns if c.name not in IDS}


def _counts(world: World) -> tuple[int, int]:
    with world.session() as s:
        return (
            s.execute(select(func.count()).select_from(Stay)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEntry)).scalar_one(),
        )


def test_create_records_writes_the_stay_row_a_venues_check_in_writes(world: World) -> None:
    pid, number = person(world, "张伟")
    vid = venue(world)
    post(world, vid, [check_in("POSTED", number, at=NOW - H, name="张伟")])
    rows = _stay_rows(world, vid, ["BULK"], pid, number)
    with world.session() as s:
        created = create_records(
            s, world.ctx(s, "station_admin_li"), "stay", Stay, rows, permission="venue.write", audit_mode=None
        )
    stored = stays(world)
    assert (
        created.ids == [stored["BULK"].id] and rows[0]["id"] == stored["BULK"].id and created.audit_seqs == []
    )
    assert _columns(stored["BULK"]) == _columns(stored["POSTED"])


def test_create_records_audits_one_entry_naming_the_rows_and_their_persons(world: World) -> None:
    pid, number = person(world, "张伟")
    vid = venue(world)
    rows = _stay_rows(world, vid, ["A", "B"], pid, number)
    with world.session() as s:
        ctx = world.ctx(s, "station_admin_li", purpose="import batch 9")
        created = create_records(
            s, ctx, "stay", Stay, rows, permission="venue.write", audit_detail={"batch": 9}
        )
    assert created.ids == sorted(created.ids) and len(created.ids) == 2
    with world.session() as s:
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.seq.in_(created.audit_seqs))).scalars()
        assert (entry.action, entry.object_kind, entry.object_id, entry.purpose) == (
            "stay.create",
            "stay",
            None,
            "import batch 9",
        )
        assert json.loads(entry.detail) == {"batch": 9, "count": 2, "ids": created.ids, "persons": [pid]}


def test_create_records_by_a_role_without_the_permission_is_refused_and_writes_nothing(world: World) -> None:
    vid = venue(world)
    rows = _stay_rows(world, vid, ["A"], None, factories.make_id(seq=777))
    before = _counts(world)
    with world.session() as s, pytest.raises(Forbidden):
        create_records(s, world.ctx(s, "inspector_zhao"), "stay", Stay, rows, permission="venue.write")
    assert _counts(world) == before


def test_create_records_with_a_row_outside_the_jurisdiction_is_refused_and_writes_nothing(
    world: World,
) -> None:
    vid = venue(world)
    rows = _stay_rows(world, vid, ["A", "B"], None, factories.make_id(seq=777))
    rows[1]["area_id"] = world.area(OUTSIDE)
    before = _counts(world)
    with world.session() as s, pytest.raises(NotFound) as refused:
        create_records(s, world.ctx(s, "station_admin_li"), "stay", Stay, rows, permission="venue.write")
    assert refused.value.code == "area.not_found"
    assert _counts(world) == before
