"""`correction.person_departed` (issue 15): a current community-correction case whose person holds no open
residence in the register any more (deregistered: they left) is a finding; one who still lives there, or whose
case has ended, is not. The finding says a person is under correction, so only those who read the cases
(`correction.read`: the community police, the station) see it, dismiss it or are assigned it: another reader of
the findings (a collector, the district) does not see it, and asking for it is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from liangshi import registry
from liangshi.checks import rules
from liangshi.checks import service as checks
from liangshi.checks.models import Finding
from liangshi.errors import Forbidden, NotFound
from liangshi.inspections.service.collectors import RESTRICTED_CHECKS
from liangshi.residence import service as residence
from liangshi.residence.schemas import DepartureIn
from tests import factories
from tests.conftest import INSIDE, World
from tests.departments.helpers import person
from tests.departments.test_feed_corrections import HEADER, justice, row, submit

CODE = "correction.person_departed"


def _lives(world: World, person_id: int, *, leaves: dt.date | None = None) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        place = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        rid = factories.arrival(
            s, ctx, person_id=person_id, dwelling_id=place.dwelling_id, arrived=dt.date(2024, 1, 5)
        )
        if leaves is not None:
            entity = registry.get_entity(s, residence.RESIDENCE, rid, ctx.actor)
            residence.deregister_departure(
                s,
                ctx,
                rid,
                DepartureIn(
                    expected_version=entity.version,
                    departure_date=leaves,
                    deregistration_date=leaves,
                    reason="left_city",  # type: ignore[arg-type]
                ),
            )


def test_a_case_whose_person_left_is_found_and_seen_only_by_those_who_read_the_cases(world: World) -> None:
    justice(world)
    gone, gone_number = person(world)
    stays, stays_number = person(world, name="李娜", male=False, birth=dt.date(1988, 6, 1))
    ended, ended_number = person(world, name="王强", birth=dt.date(1985, 3, 3))
    _lives(world, gone, leaves=dt.date(2026, 10, 1))
    _lives(world, stays)
    _lives(world, ended, leaves=dt.date(2026, 10, 1))
    submit(
        world,
        [
            HEADER,
            row(gone_number),
            row(stays_number),
            row(ended_number, start="2025-01-01", end="2026-06-30"),
        ],
    )
    with world.session() as s:
        result = checks.run_checks(s, world.ctx(s), codes=[CODE])
        assert [f.line() for f in result.found] == [
            {
                "check": CODE,
                "keys": {"doc_type": "resident_id", "id_number": gone_number},
                "evidence": {
                    "community_code": INSIDE,
                    "department": "justice",
                    "case_id": result.found[0].evidence["case_id"],
                    "left_on": "2026-10-01",
                },
            }
        ]
        stored = s.execute(select(Finding).where(Finding.check_code == CODE)).scalar_one()
        assert (stored.object_id, stored.owner, stored.assignee_id) == (gone, "police", None)
        finding_id = stored.id
    with world.session() as s:
        seen, total = checks.list_findings(s, world.ctx(s, "police_liu"), check=CODE)
        assert total == 1 and seen[0].check == CODE
        for reader in ("collector_zhang", "district_admin_chen"):
            ctx = world.ctx(s, reader)
            listed, _ = checks.list_findings(s, ctx, status=None)
            assert CODE not in {f.check for f in listed}, reader
            with pytest.raises(Forbidden):
                checks.list_findings(s, ctx, check=CODE)
        with pytest.raises(NotFound):
            checks.dismiss_finding(s, world.ctx(s, "district_admin_chen"), finding_id, reason="不是本辖区的")
        checks.dismiss_finding(s, world.ctx(s, "police_liu"), finding_id, reason="已与司法所核实，异地托管")


def test_the_collectors_count_leaves_out_the_checks_only_some_readers_see() -> None:
    assert list(RESTRICTED_CHECKS) == rules.hidden_checks(lambda permission: False) == [CODE]
