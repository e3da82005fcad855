"""Door-plate rules: numbers as written, rendering in each local style, the plate lifecycle."""

from __future__ import annotations

import pytest

from liangshi.addresses.rules import (
    NUMBERING_STYLES,
    PLATE_LIFECYCLE,
    ensure_plate_transition,
    parse_plate_number,
    render_plate_number,
)
from liangshi.errors import Conflict, ValidationFailed


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("12", (12, None)),
        ("12号", (12, None)),
        ("１２", (12, None)),  # full-width digits
        (" 12号 ", (12, None)),
        ("12-1", (12, 1)),
        ("12－1", (12, 1)),  # full-width dash
        ("12号-1号", (12, 1)),
        ("16附1", (16, 1)),
        ("16附1号", (16, 1)),
        ("12号之一", (12, 1)),
        ("12号之三", (12, 3)),
        ("甲12号", (12, 1)),
        ("乙12", (12, 2)),
    ],
)
def test_plate_number_is_read_as_written(written: str, expected: tuple[int, int | None]) -> None:
    assert parse_plate_number(written) == expected


@pytest.mark.parametrize("written", ["12--1", "abc号", "0", "", "0-1", "12-0", "号", "12号之", "123456"])
def test_malformed_plate_number_is_refused(written: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_plate_number(written)
    assert exc.value.code == "plate.number_invalid"
    assert exc.value.data == {"field": "number", "input": written}


def test_refusal_names_the_field_it_was_given() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_plate_number("abc", field="plate")
    assert exc.value.data["field"] == "plate"


@pytest.mark.parametrize(
    ("style", "expected"),
    [("dash", "12-1号"), ("fu", "12附1号"), ("zhiyi", "12号之一"), ("jia", "甲12号")],
)
def test_sub_number_is_written_in_the_streets_style(style: str, expected: str) -> None:
    assert render_plate_number(12, 1, style) == expected


@pytest.mark.parametrize("style", sorted(NUMBERING_STYLES))
def test_plain_number_is_written_the_same_in_every_style(style: str) -> None:
    assert render_plate_number(12, None, style) == "12号"


@pytest.mark.parametrize("style", ["zhiyi", "jia"])
def test_sub_numbers_beyond_ten_fall_back_to_a_dash(style: str) -> None:
    assert render_plate_number(12, 11, style) == "12-11号"


@pytest.mark.parametrize("style", sorted(NUMBERING_STYLES))
@pytest.mark.parametrize("sub", [None, 1, 2, 10])
def test_a_rendered_number_reads_back_as_the_same_number(style: str, sub: int | None) -> None:
    assert parse_plate_number(render_plate_number(16, sub, style)) == (16, sub)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("planned", "assigned"),
        ("assigned", "made"),
        ("made", "installed"),
        ("installed", "retired"),
        ("planned", "retired"),
        ("made", "retired"),
        ("installed", "installed"),  # no status change is not a transition
    ],
)
def test_plate_lifecycle_allows_the_next_step_or_retirement(current: str, new: str) -> None:
    ensure_plate_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("planned", "installed"),
        ("planned", "made"),
        ("assigned", "installed"),
        ("installed", "planned"),
        ("made", "assigned"),
        ("retired", "installed"),
        ("retired", "planned"),
    ],
)
def test_plate_lifecycle_refuses_skips_and_going_back(current: str, new: str) -> None:
    with pytest.raises(Conflict) as exc:
        ensure_plate_transition(current, new)
    assert exc.value.code == "plate.transition_invalid"
    assert exc.value.data["allowed"] == list(PLATE_LIFECYCLE[current])
