"""Comparisons that use the domain: ID numbers, names, birth dates; every pair explains itself."""

from __future__ import annotations

import math

import pytest

from liangshi.linkage.api import ACCEPT, REVIEW, LinkRecord, explain_pair
from liangshi.linkage.compare import COMPARISONS

from .helpers import TODAY, TWIN_ID, ZHANG_ID, swap_adjacent, valid_id, wrong_digit


def _levels(a: LinkRecord, b: LinkRecord) -> dict[str, str]:
    return {e.field: e.level for e in explain_pair(a, b, today=TODAY)[2]}


def test_twins_with_consecutive_valid_ids_are_not_matched() -> None:
    brother = LinkRecord("a", name="张晓明", sex="男", birth_date="1990-01-02", id_number=ZHANG_ID,
                         phone="13812345678", address="凤凰社区3组12号")  # fmt: skip
    twin = LinkRecord("b", name="张晓亮", sex="男", birth_date="1990-01-02", id_number=TWIN_ID,
                      phone="13812345678", address="凤凰社区3组12号")  # fmt: skip
    probability, _, evidence = explain_pair(brother, twin, today=TODAY)
    assert probability < REVIEW
    assert {e.field: e.level for e in evidence}["id_number"] == "id_both_valid_differ"


def test_twins_without_id_numbers_are_not_linked_by_their_shared_household() -> None:
    brother = LinkRecord("a", name="张晓明", sex="男", birth_date="1990-01-02", phone="13812345678",
                         address="凤凰社区3组12号")  # fmt: skip
    twin = LinkRecord("b", name="张晓亮", sex="男", birth_date="1990-01-02", phone="13812345678",
                      address="凤凰社区3组12号")  # fmt: skip
    probability, _, evidence = explain_pair(brother, twin, today=TODAY)
    assert probability < ACCEPT
    levels = {e.field: e.level for e in evidence}
    assert levels["phone"] == levels["address"] == "shared_by_other_name"


def test_one_wrong_digit_in_the_id_is_a_typo_and_matches() -> None:
    a = LinkRecord("a", name="张晓明", birth_date="1990-01-02", id_number=ZHANG_ID)
    b = LinkRecord("b", name="张晓明", birth_date="1990-01-02", id_number=wrong_digit(ZHANG_ID, 15))
    probability, _, _ = explain_pair(a, b, today=TODAY)
    assert _levels(a, b)["id_number"] == "id_typo_one_edit"
    assert probability >= ACCEPT


def test_two_adjacent_digits_swapped_in_the_id_is_a_typo_and_matches() -> None:
    a = LinkRecord("a", name="张晓明", id_number=ZHANG_ID)
    b = LinkRecord("b", name="張曉明", id_number=swap_adjacent(ZHANG_ID, 10))
    probability, _, _ = explain_pair(a, b, today=TODAY)
    assert _levels(a, b)["id_number"] == "id_typo_adjacent_swap"
    assert probability >= ACCEPT


def test_old_fifteen_digit_number_equals_its_upgrade() -> None:
    old = ZHANG_ID[:6] + ZHANG_ID[8:17]
    a = LinkRecord("a", name="张晓明", id_number=ZHANG_ID)
    b = LinkRecord("b", name="张晓明", id_number=old)
    assert _levels(a, b)["id_number"] == "exact"


def test_a_valid_id_that_contradicts_its_own_record_is_weaker_evidence_against() -> None:
    other = valid_id("420704", "19900103", 17)
    a = LinkRecord("a", name="张晓明", sex="男", birth_date="1990-01-02", id_number=ZHANG_ID)
    b = LinkRecord("b", name="张晓明", sex="男", birth_date="1990-01-02", id_number=other)
    assert _levels(a, b)["id_number"] == "id_both_valid_differ_suspect"


def test_name_levels() -> None:
    base = LinkRecord("a", name="张伟")
    assert _levels(base, LinkRecord("b", name="张伟"))["name"] == "exact"
    assert _levels(base, LinkRecord("b", name="張偉"))["name"] == "simplified_equal"
    assert _levels(base, LinkRecord("b", name="章伟"))["name"] == "pinyin_equal"
    assert _levels(LinkRecord("a", name="单田芳"), LinkRecord("b", name="善田芳"))["name"] == "pinyin_equal"
    assert _levels(base, LinkRecord("b", name="李娜"))["name"] == "different"
    assert _levels(LinkRecord("a", name="John Smith"), LinkRecord("b", name="Smith John"))["name"] == (
        "tokens_reordered"
    )


def test_hubei_near_homophones_are_a_level_between_homophone_and_different() -> None:
    for a, b in (("刘伟", "牛伟"), ("黄明", "王明"), ("陈芳", "程芳"), ("胡军", "傅军"), ("林玲", "林林")):
        assert _levels(LinkRecord("a", name=a), LinkRecord("b", name=b))["name"] == "near_homophone", (a, b)
    assert (
        _levels(LinkRecord("a", name="张伟"), LinkRecord("b", name="李伟"))["name"] == "one_character_differs"
    )
    assert _levels(LinkRecord("a", name="刘伟"), LinkRecord("b", name="柳伟"))["name"] == "pinyin_equal"
    levels = {level.name: level for level in next(c for c in COMPARISONS if c.field == "name").levels}
    names = list(levels)
    assert names.index("pinyin_equal") < names.index("near_homophone") < names.index("one_character_differs")
    near = levels["near_homophone"].weight
    assert 0 < near < levels["pinyin_equal"].weight
    _, _, evidence = explain_pair(LinkRecord("a", name="刘伟"), LinkRecord("b", name="牛伟"), today=TODAY)
    assert {e.field: e.weight for e in evidence}["name"] == pytest.approx(near)


def test_a_near_homophone_never_links_two_different_valid_id_numbers() -> None:
    # Everything else agrees (the strongest case): the ID rule still wins, even when it is only "suspect".
    for other in (TWIN_ID, valid_id("420704", "19900103", 17)):
        a = LinkRecord("a", name="刘晓明", sex="男", birth_date="1990-01-02", id_number=ZHANG_ID,
                       phone="13812345678", address="凤凰社区3组12号")  # fmt: skip
        b = LinkRecord("b", name="牛晓明", sex="男", birth_date="1990-01-02", id_number=other,
                       phone="13812345678", address="凤凰社区3组12号")  # fmt: skip
        probability, _, evidence = explain_pair(a, b, today=TODAY)
        levels = {e.field: e.level for e in evidence}
        assert levels["name"] == "near_homophone"
        assert levels["id_number"] in {"id_both_valid_differ", "id_both_valid_differ_suspect"}
        # A shared household is not "the names agree" for a near-homophone (twins 陈林/陈玲).
        assert levels["phone"] == levels["address"] == "shared_by_other_name"
        assert probability < REVIEW


def test_a_near_homophone_with_the_same_id_number_links() -> None:
    a = LinkRecord("a", name="黄晓明", sex="男", birth_date="1990-01-02", id_number=ZHANG_ID)
    b = LinkRecord("b", name="王晓明", sex="男", birth_date="1990-01-02", id_number=ZHANG_ID)
    assert explain_pair(a, b, today=TODAY)[0] >= ACCEPT


def test_birth_date_levels() -> None:
    base = LinkRecord("a", birth_date="1990-01-02")
    assert _levels(base, LinkRecord("b", birth_date="1990年1月2日"))["birth_date"] == "exact"
    assert _levels(base, LinkRecord("b", birth_date="1990-02-01"))["birth_date"] == "day_month_swapped"
    assert _levels(base, LinkRecord("b", birth_date="1990-01-09"))["birth_date"] == "one_component_off"
    assert _levels(base, LinkRecord("b", birth_date="1975-06-20"))["birth_date"] == "different"
    assert _levels(base, LinkRecord("b"))["birth_date"] == "null"


def test_evidence_weights_sum_to_the_total_weight() -> None:
    a = LinkRecord(
        "a", name="张晓明", sex="男", birth_date="1990-01-02", id_number=ZHANG_ID, phone="13812345678"
    )
    b = LinkRecord("b", name="張曉明", sex="1", birth_date="1990/2/1", id_number=wrong_digit(ZHANG_ID, 8))
    probability, weight, evidence = explain_pair(a, b, today=TODAY)
    assert [e.field for e in evidence] == ["prior", *(c.field for c in COMPARISONS)]
    assert math.isclose(sum(e.weight for e in evidence), weight, abs_tol=1e-9)
    assert math.isclose(probability, 2**weight / (1 + 2**weight))
