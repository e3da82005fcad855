"""Community-correction cases follow their person through the MPI (issue 15): a merge moves the merged-away
person's cases (every version) to the survivor, recorded in the link event and counted in its audit entries; the
survivor's own cases stay; a re-sent file then finds the cases where they went; an undo moves them back."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from liangshi.audit.models import AuditEntry
from liangshi.departments.models import CorrectionCase
from liangshi.mpi import service as mpi
from tests.conftest import World
from tests.departments.helpers import person
from tests.departments.test_feed_corrections import HEADER, justice, row, submit


def _owners(world: World) -> dict[int, tuple[int, bool]]:
    """Each case row's person and whether it is current, by row id."""
    with world.session() as s:
        return {
            c.id: (c.person_id, c.superseded_at is None)
            for c in s.execute(select(CorrectionCase).order_by(CorrectionCase.id)).scalars()
        }


def test_a_merge_moves_the_cases_to_the_survivor_and_an_undo_restores_them(world: World) -> None:
    justice(world)
    keep, kept_number = person(world)
    other, other_number = person(world, name="张伟", birth=dt.date(1990, 1, 2))
    submit(world, [HEADER, row(kept_number, kind="管制"), row(other_number)])
    # A later file versions the merged-away person's case: both of its rows must move.
    submit(world, [HEADER, row(other_number, end="2027-08-31")])
    before = _owners(world)
    assert sorted(before.values()) == sorted([(keep, True), (other, False), (other, True)])
    theirs = sorted(i for i, (pid, _) in before.items() if pid == other)
    with world.session() as s:
        event = mpi.merge(
            s, world.ctx(s, "station_admin_li"), keep, other, reason="同一人重复登记", force=True
        )
        event_id, moved = event.id, json.loads(event.moved)
    assert moved["correction_cases"] == theirs
    after = _owners(world)
    assert {i: pid for i, (pid, _) in after.items()} == {i: keep for i in before}
    with world.session() as s:
        details = [
            json.loads(d)
            for (d,) in s.execute(
                select(AuditEntry.detail).where(AuditEntry.action.in_(["person.merge", "person.merged_away"]))
            )
        ]
    assert [d["moved"]["correction_cases"] for d in details] == [2, 2]
    # The numbers now name the survivor: a re-sent file finds both cases there and writes nothing.
    again = submit(world, [HEADER, row(kept_number, kind="管制"), row(other_number, end="2027-08-31")])
    assert (again.applied, again.same, again.rejected) == (0, 2, [])
    assert _owners(world) == after
    with world.session() as s:
        mpi.undo(s, world.ctx(s, "station_admin_li"), event_id, reason="合并错误")
    assert _owners(world) == before


def test_the_same_case_held_by_both_persons_is_one_current_case_again_at_the_next_file(world: World) -> None:
    justice(world)
    keep, kept_number = person(world)
    other, other_number = person(world, name="张伟", birth=dt.date(1990, 1, 2))
    submit(world, [HEADER, row(kept_number), row(other_number)])
    with world.session() as s:
        mpi.merge(s, world.ctx(s, "station_admin_li"), keep, other, reason="同一人重复登记", force=True)
    assert sorted(_owners(world).values()) == [(keep, True), (keep, True)]
    later = submit(world, [HEADER, row(kept_number)])
    assert (later.applied, later.same) == (1, 0)
    assert sorted(_owners(world).values()) == [(keep, False), (keep, False), (keep, True)]
