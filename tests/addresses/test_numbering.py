"""Door-plate numbering rules: gaps, duplicates, wrong side, order along the street; proposals; CSV input."""

from __future__ import annotations

import random

import pytest

from liangshi.addresses.numbering import (
    PlateEntry,
    analyse_plates,
    analyse_street,
    make_entry,
    propose_number,
    read_plates_csv,
)
from liangshi.errors import ValidationFailed

S = "滨湖南路"


def plates(*numbers: str, street: str = S) -> list[PlateEntry]:
    return [make_entry(street, n) for n in numbers]


def test_missing_numbers_per_parity_between_lowest_and_highest() -> None:
    report = analyse_street(S, plates("1", "3", "9", "2", "10", "11"))
    assert report.missing_odd == [5, 7]
    assert report.missing_even == [4, 6, 8]
    assert report.clean is False


def test_reserved_numbers_are_not_missing() -> None:
    report = analyse_street(S, plates("1", "9", "2", "4"), reserved=[3, 7])
    assert report.missing_odd == [5]


def test_sub_numbers_do_not_fill_gaps() -> None:
    report = analyse_street(S, plates("12", "12-1", "14-1", "16"))
    assert report.missing_even == [14]
    assert report.duplicates == []


def test_a_single_plate_of_a_parity_has_no_gap() -> None:
    assert analyse_street(S, plates("5", "2")).clean


def test_duplicates_are_the_same_number_and_sub_number_written_in_any_way() -> None:
    report = analyse_street(S, plates("12", "12号", "１２", "12-1", "12附1", "14", "16附1", "16-2"))
    assert report.duplicates == ["12", "12-1"]


def test_declared_side_against_parity() -> None:
    entries = [
        make_entry(S, "14", "单"),
        make_entry(S, "13", "odd"),
        make_entry(S, "15", "双"),
        make_entry(S, "16", "even"),
        make_entry(S, "12-1", "odd"),  # a sub-number is not parity-checked
        make_entry(S, "18"),  # no side: inferred from parity, never a violation
    ]
    assert analyse_street(S, entries).parity_violations == ["14", "15"]


def test_numbers_must_rise_with_chainage_along_each_side() -> None:
    entries = [
        make_entry(S, n, chainage_m=c) for n, c in [("1", 0), ("3", 20), ("21", 30), ("5", 40), ("7", 60)]
    ]
    entries += [make_entry(S, n, chainage_m=c) for n, c in [("2", 0), ("4", 25), ("6", 50)]]
    assert analyse_street(S, entries).order_violations == ["21"]


def test_sub_numbers_follow_their_base_side_and_order() -> None:
    entries = [
        make_entry(S, "12", "odd", chainage_m=10),  # even number on the odd side: its sub-numbers go with it
        make_entry(S, "12-1", chainage_m=15),
        make_entry(S, "13", "odd", chainage_m=20),
        make_entry(S, "14", chainage_m=5),  # even side, alone
        make_entry(S, "11", "odd", chainage_m=30),
    ]
    report = analyse_street(S, entries)
    assert report.parity_violations == ["12"]
    assert report.order_violations == ["11"]


def test_duplicates_and_unknown_chainage_are_not_order_violations() -> None:
    entries = [
        make_entry(S, "1", chainage_m=0),
        make_entry(S, "3", chainage_m=10),
        make_entry(S, "3", chainage_m=11),
    ]
    entries.append(make_entry(S, "5"))
    report = analyse_street(S, entries)
    assert report.order_violations == []
    assert report.duplicates == ["3"]


def test_analyse_plates_keeps_streets_in_order_of_appearance() -> None:
    reports = analyse_plates([*plates("1", street="B路"), *plates("1", "5", street="A路")])
    assert list(reports) == ["B路", "A路"]
    assert reports["A路"].to_json() == {
        "missing_odd": [3],
        "missing_even": [],
        "duplicates": [],
        "parity_violations": [],
        "order_violations": [],
    }


def test_a_city_of_streets_gets_one_report_per_street_and_finds_the_gaps() -> None:
    # Speed is measured in scripts/bench_address.py, not here; this checks the many-street case is right.
    rng = random.Random(4207)
    entries = []
    dropped: dict[str, set[int]] = {}
    for s in range(300):
        street = f"街{s}"
        for n in range(1, 101):
            if rng.random() > 0.05 or n in (1, 2, 99, 100):
                entries.append(PlateEntry(street, str(n), n, None, None, n * 5.0 + rng.random(), None))
            else:
                dropped.setdefault(street, set()).add(n)
    reports = analyse_plates(entries)
    assert len(reports) == 300
    for street, report in reports.items():
        found = report.to_json()
        assert set(found["missing_odd"]) | set(found["missing_even"]) == dropped.get(street, set())
        assert found["order_violations"] == []


# --- proposals ------------------------------------------------------------------------------------------


def test_proposal_takes_a_reserved_number_first() -> None:
    p = propose_number(plates("12", "20", "13"), S, "12", "20", reserved=[18, 15])
    assert (p.base, p.sub, p.text, p.reason) == (18, None, "18号", "reserved")


def test_proposal_takes_a_free_number_of_the_right_parity() -> None:
    p = propose_number(plates("11", "17", "13"), S, "11", "17")
    assert (p.text, p.reason) == ("15号", "free")


def test_proposal_falls_back_to_a_sub_number_of_the_lower_neighbour_in_the_streets_style() -> None:
    entries = plates("12", "14", "12-1")
    assert propose_number(entries, S, "12", "14").text == "12-2号"
    assert propose_number(entries, S, "14", "12", style="fu").text == "12附2号"
    assert propose_number(plates("12", "14"), S, "12", "14", style="zhiyi").text == "12号之一"
    assert propose_number(plates("12", "14"), S, "12", "14", style="jia").text == "甲12号"


@pytest.mark.parametrize(
    ("between", "code"),
    [(("12", "99"), "plate.neighbour_not_found"), (("12", "13"), "plate.neighbours_on_different_sides")],
)
def test_proposal_refuses_bad_neighbours(between: tuple[str, str], code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        propose_number(plates("12", "14", "13"), S, *between)
    assert exc.value.code == code


def test_proposal_refuses_unknown_street_and_style() -> None:
    with pytest.raises(ValidationFailed) as exc:
        propose_number(plates("12", "14"), "洋澜路", "12", "14")
    assert exc.value.code == "plate.street_not_found"
    with pytest.raises(ValidationFailed) as exc:
        propose_number(plates("12", "14"), S, "12", "14", style="roman")
    assert exc.value.code == "plate.style_invalid"


# --- CSV input ------------------------------------------------------------------------------------------


def test_csv_in_utf8_bom_and_gb18030_reads_the_same() -> None:
    text = "street,number,side,chainage_m\n滨湖南路,１２号,双,10.5\n滨湖南路,16附1,,\n"
    a, errors_a = read_plates_csv(text.encode("utf-8-sig"))
    b, errors_b = read_plates_csv(text.encode("gb18030"))
    assert errors_a == errors_b == []
    assert a == b
    assert (a[0].base, a[0].sub, a[0].side, a[0].chainage_m, a[0].line) == (12, None, "even", 10.5, 2)
    assert (a[1].base, a[1].sub, a[1].side, a[1].chainage_m) == (16, 1, None, None)


def test_csv_errors_name_line_field_and_code() -> None:
    text = (
        "street,number,side,chainage_m\n滨湖南路,12--1,,\n滨湖南路,abc号,左,-1\n,12,,100001\n滨湖南路,3,,x\n"
    )
    entries, errors = read_plates_csv(text.encode())
    assert entries == []
    assert [(e.line, e.field, e.error.code) for e in errors] == [
        (2, "number", "plate.number_invalid"),
        (3, "number", "plate.number_invalid"),
        (3, "side", "plate.side_invalid"),
        (3, "chainage_m", "plate.chainage_out_of_range"),
        (4, "street", "text.empty"),
        (4, "chainage_m", "plate.chainage_out_of_range"),
        (5, "chainage_m", "plate.chainage_invalid"),
    ]
    assert str(errors[0]).startswith("line 2, field number: plate.number_invalid: ")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "csv.empty"),
        (b"street,number\n", "csv.empty"),
        (b"street,side\n\xe6\xbb\xa8,odd\n", "csv.column_missing"),
        ("street,number\n滨湖南路,1\n".encode("utf-16"), "csv.encoding"),
        (b"street,number\n\xff\xfe\xfd,1\n", "csv.encoding"),
    ],
)
def test_bad_files_are_refused(data: bytes, code: str) -> None:
    entries, errors = read_plates_csv(data)
    assert entries == []
    assert [e.error.code for e in errors] == [code]
