"""One definition of a residence's state (issue 15): a residence imported with a departure date but no
deregistration reads *departed, not deregistered* on its page, in its lifecycle and in the deregistration KPI."""

from __future__ import annotations

import datetime as dt

from liangshi import registry
from liangshi.kpis import service as kpis
from liangshi.residence import rules
from liangshi.residence import service as residence
from tests.conftest import INSIDE, World
from tests.residence.test_lifecycle import PROV, _arrive, _depart, _person, _place

D = dt.date


def test_the_state_rules_are_one_table_read_in_python_and_in_sql() -> None:
    import sqlite3

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE r (valid_to TEXT, departure_date TEXT, deregistration_date TEXT)")
    cases = [
        ((None, None, None), "open"),
        ((None, "2026-10-01", None), "departed"),
        (("2026-10-01", "2026-10-01", None), "departed"),  # closed at its departure by an import
        (("2026-10-01", "2026-10-01", "2026-10-02"), "deregistered"),
        (("2026-10-01", None, None), "deregistered"),  # retired as entered in error
    ]
    for (valid_to, departure, dereg), status in cases:
        dates = [None if x is None else D.fromisoformat(x) for x in (valid_to, departure, dereg)]
        got = rules.status_of(valid_to=dates[0], departure_date=dates[1], deregistration_date=dates[2])
        assert got == status
        db.execute("DELETE FROM r")
        db.execute("INSERT INTO r VALUES (?, ?, ?)", (valid_to, departure, dereg))
        assert db.execute(f"SELECT {rules.status_sql('r.')} FROM r").fetchone() == (status,)


def test_an_imported_departure_without_deregistration_reads_the_same_on_the_page_and_in_the_kpi(
    world: World,
) -> None:
    p, pid = _place(world), _person(world)
    rid = _arrive(world, pid, p.dwelling_id, D(2026, 5, 1), until=D(2026, 12, 31))
    with world.session() as s:  # as the importer writes it: closed at its departure, no deregistration
        registry.retire(
            s,
            world.ctx(s, "collector_zhang"),
            residence.RESIDENCE,
            rid,
            expected_version=1,
            effective=D(2026, 10, 1),
            prov=PROV,
            reason="import",
            changes={"departure_date": D(2026, 10, 1)},
            permission="residence.write",
        )
    with world.session() as s:
        status, _ = residence.residence_status(s, rid)
        lives = residence.where_lives(s, world.ctx(s, "police_liu"), pid)
        report = kpis.compute(
            s,
            world.ctx(s, "city_admin_wang"),
            area_code=INSIDE,
            date_from=D(2026, 9, 1),
            date_to=D(2026, 11, 27),
            live=True,
        )
    assert status == "departed"
    (view,) = [h for h in lives["history"] if h["residence_id"] == rid]
    assert (view["status"], view["current"]) == ("departed", False)
    # The deregistration rate counts it as a departure not deregistered: the page says the same.
    assert report.counts[report.root.id]["floating_deregistration"] == [0, 1]
    # Deregistering it is what is left to do, and then every reading agrees it is deregistered.
    _depart(world, rid, D(2026, 10, 1), version=2)
    with world.session() as s:
        assert residence.residence_status(s, rid)[0] == "deregistered"
        report = kpis.compute(
            s,
            world.ctx(s, "city_admin_wang"),
            area_code=INSIDE,
            date_from=D(2026, 9, 1),
            date_to=D(2026, 11, 27),
            live=True,
        )
    assert report.counts[report.root.id]["floating_deregistration"] == [1, 1]
