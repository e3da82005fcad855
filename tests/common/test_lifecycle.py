"""The one lifecycle type: a table of status -> allowed actions and one refusal (ARCHITECTURE convention 6)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from liangshi.addresses import rules as plates
from liangshi.common.lifecycle import Lifecycle
from liangshi.errors import Conflict
from liangshi.permits import rules as permits
from liangshi.rentals import rules as rentals
from liangshi.residence import rules as residence

DOOR = {
    "label_zh": "房门",
    "label_en": "door",
    "statuses": {"shut": ("关着", "shut"), "open": ("开着", "open"), "gone": ("拆除", "removed")},
    "actions": {"open": ("开门", "open it"), "shut": ("关门", "shut it"), "remove": ("拆除", "remove it")},
    "table": {"shut": ("open", "remove"), "open": ("shut",), "gone": ()},
    "code": "door.action_not_allowed",
}


def door(**overrides: Any) -> Lifecycle:
    return Lifecycle(**{**DOOR, **overrides})


def refusal(lifecycle: Lifecycle, status: str, action: str, **data: Any) -> Conflict:
    with pytest.raises(Conflict) as exc:
        lifecycle.ensure(status, action, **data)
    return exc.value


# ---- the rule -------------------------------------------------------------------------------------------------


def test_an_allowed_action_passes_and_allowed_lists_the_row_in_table_order() -> None:
    lifecycle = door()
    assert lifecycle.ensure("shut", "remove") is None
    assert lifecycle.allowed("shut") == ("open", "remove")
    assert lifecycle.allowed("gone") == ()


def test_a_refusal_is_a_409_naming_status_action_and_what_is_allowed() -> None:
    err = refusal(door(), "open", "remove")
    assert (err.code, err.http_status) == ("door.action_not_allowed", 409)
    assert err.data == {"status": "open", "action": "remove", "allowed": ["shut"]}
    assert err.message_zh == "房门状态为“开着”，不能办理“拆除”"
    assert err.message_en == "A door that is open cannot be given the action remove"


def test_the_callers_data_is_added_after_the_lifecycles_own() -> None:
    err = refusal(door(), "gone", "open", id=42)
    assert list(err.data.items()) == [("status", "gone"), ("action", "open"), ("allowed", []), ("id", 42)]


def test_a_status_or_action_the_table_does_not_know_is_refused_by_its_code() -> None:
    assert door().allowed("ajar") == ()
    err = refusal(door(), "ajar", "paint")
    assert err.data == {"status": "ajar", "action": "paint", "allowed": []}
    assert err.message_zh == "房门状态为“ajar”，不能办理“paint”"


def test_a_special_pair_keeps_a_code_and_messages_of_its_own_with_the_same_data() -> None:
    lifecycle = door(
        special={("gone", "remove"): ("door.already_removed", "该{label_zh}已拆除", "Already removed")}
    )
    err = refusal(lifecycle, "gone", "remove", id=1)
    assert (err.code, err.message_zh, err.message_en, err.http_status) == (
        "door.already_removed",
        "该房门已拆除",
        "Already removed",
        409,
    )
    assert err.data == {"status": "gone", "action": "remove", "allowed": [], "id": 1}
    assert refusal(lifecycle, "gone", "open").code == "door.action_not_allowed"


def test_templates_word_the_refusal_from_codes_labels_and_quoted_codes() -> None:
    lifecycle = door(
        message_zh="{label_zh}（{status}/{status_zh}）不可{action_zh}（{action}）",
        message_en="{label_en}: {status_en} {status!r}, not {action_en} {action!r}",
    )
    err = refusal(lifecycle, "open", "remove")
    assert err.message_zh == "房门（open/开着）不可拆除（remove）"
    assert err.message_en == "door: open 'open', not remove it 'remove'"


def test_the_data_keys_for_status_and_action_can_be_named() -> None:
    err = refusal(door(status_key="from", action_key="to"), "open", "remove", field="status")
    assert err.data == {"from": "open", "to": "remove", "allowed": ["shut"], "field": "status"}


# ---- the table as data ----------------------------------------------------------------------------------------


def test_the_lifecycle_reads_as_the_table_and_cannot_be_changed() -> None:
    lifecycle = door(table={"shut": ["open", "remove"], "open": ["shut"], "gone": []})
    assert dict(lifecycle) == {"shut": ("open", "remove"), "open": ("shut",), "gone": ()}
    assert (len(lifecycle), lifecycle["open"], list(lifecycle)) == (3, ("shut",), ["shut", "open", "gone"])
    with pytest.raises(TypeError):
        lifecycle.table["gone"] = ("open",)  # type: ignore[index]
    with pytest.raises(TypeError):
        lifecycle.statuses["ajar"] = ("半开", "ajar")  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        lifecycle.code = "door.other"  # type: ignore[misc]


def test_the_table_is_copied_so_a_later_change_to_the_callers_dict_does_not_reach_it() -> None:
    table = {"shut": ["open"], "open": ["shut"], "gone": []}
    lifecycle = door(table=table)
    table["gone"].append("open")
    assert lifecycle.allowed("gone") == ()


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"table": {"shut": ("open",), "open": ("shut",)}}, "are not the statuses"),
        ({"table": {**DOOR["table"], "ajar": ()}}, "are not the statuses"),
        ({"table": {**DOOR["table"], "gone": ("paint",)}}, "actions without a label: ['paint']"),
        ({"special": {("ajar", "open"): ("c", "z", "e")}}, "unknown status or action"),
        ({"special": {("shut", "open"): ("c", "z", "e")}}, "special refusal for an allowed action"),
        ({"message_zh": "{colour}的门"}, "message template"),
        ({"message_en": "A {0} door"}, "message template"),
        ({"special": {("gone", "open"): ("c", "{oops}", "e")}}, "message template"),
        ({"status_key": "allowed"}, "data keys"),
        ({"status_key": "to", "action_key": "to"}, "data keys"),
    ],
)
def test_a_lifecycle_that_does_not_add_up_is_refused_where_it_is_declared(
    overrides: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match="lifecycle of door") as exc:
        door(**overrides)
    assert problem in str(exc.value)


# ---- the domains declare theirs with it, and keep their refusals word for word -------------------------------


def test_the_residence_rental_permit_and_plate_lifecycles_are_all_of_the_one_type() -> None:
    for lifecycle in (residence.LIFECYCLE, rentals.LIFECYCLE, permits.LIFECYCLE, plates.PLATE_LIFECYCLE):
        assert isinstance(lifecycle, Lifecycle)
        assert set(lifecycle) == set(lifecycle.statuses)


def test_residence_refusals_keep_their_words_and_the_established_code() -> None:
    err = refusal(residence.LIFECYCLE, "departed", "move", id=5)
    assert (err.code, err.message_zh, err.message_en) == (
        "residence.action_not_allowed",
        "居住登记状态为“已离开未注销”，不能办理“市内迁移”",
        "A residence that is departed cannot be given the action move",
    )
    assert err.data == {
        "status": "departed",
        "action": "move",
        "allowed": ["deregister", "correct", "retire"],
        "id": 5,
    }
    again = refusal(residence.LIFECYCLE, "deregistered", "deregister")
    assert (again.code, again.message_zh, again.message_en) == (
        "residence.already_deregistered",
        "该居住登记已注销",
        "The residence is already deregistered",
    )


def test_rental_refusals_keep_their_words_and_list_what_is_allowed_alphabetically() -> None:
    err = refusal(rentals.LIFECYCLE, "ended", "attach_tenant")
    assert (err.code, err.http_status, err.message_zh, err.message_en) == (
        "rental.action_not_allowed",
        409,
        "出租房屋状态为“已终止”，不能执行此操作",
        "A rental in status 'ended' does not allow 'attach_tenant'",
    )
    assert err.data == {"status": "ended", "action": "attach_tenant", "allowed": []}
    assert list(rentals.LIFECYCLE["open"]) == sorted(rentals.ACTIONS["open"])


def test_permit_refusals_keep_their_words_naming_the_status_by_its_code() -> None:
    err = refusal(permits.LIFECYCLE, "lapsed", "endorse")
    assert (err.code, err.message_zh, err.message_en) == (
        "permit.action_not_allowed",
        "居住证状态为“lapsed”，不能执行该操作",
        "A permit that is 'lapsed' does not allow 'endorse'",
    )
    assert err.data == {"status": "lapsed", "action": "endorse", "allowed": ["correct"]}


def test_plate_refusals_keep_their_words_and_name_the_statuses_from_and_to() -> None:
    with pytest.raises(Conflict) as exc:
        plates.ensure_plate_transition("planned", "installed")
    err = exc.value
    assert (err.code, err.message_zh, err.message_en) == (
        "plate.transition_invalid",
        "门牌状态不能从“planned”变为“installed”",
        "A plate cannot go from 'planned' to 'installed'",
    )
    assert err.data == {
        "field": "status",
        "from": "planned",
        "to": "installed",
        "allowed": ["assigned", "retired"],
    }
    plates.ensure_plate_transition("retired", "retired")  # keeping the status is no transition
