"""Visit rules: what a visit does to the dwelling status and the building's visit status."""

from __future__ import annotations

from liangshi.campaign import rules


def test_a_visit_sets_the_occupancy_found() -> None:
    assert rules.dwelling_status_after("unknown", "occupied") == "occupied"
    assert rules.dwelling_status_after("occupied", "vacant") == "vacant"
    assert rules.dwelling_status_after("occupied", "nobody_home") == "nobody_home"


def test_a_visit_that_finds_what_is_recorded_changes_nothing() -> None:
    assert rules.dwelling_status_after("vacant", "vacant") is None


def test_a_rented_dwelling_found_occupied_stays_rented() -> None:
    assert rules.dwelling_status_after("rented", "occupied") is None
    assert rules.dwelling_status_after("rented", "vacant") == "vacant"


def test_a_demolished_dwelling_is_never_revived_by_a_visit() -> None:
    assert rules.dwelling_status_after("demolished", "occupied") is None


def test_building_visit_status_counts_visited_dwellings() -> None:
    assert rules.building_visit_status(4, 0) == "not_visited"
    assert rules.building_visit_status(4, 3) == "partly_visited"
    assert rules.building_visit_status(4, 4) == "visited"
