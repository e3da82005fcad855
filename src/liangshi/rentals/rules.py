"""Rental vocabularies and the lifecycle as data: status -> allowed actions."""

from __future__ import annotations

import datetime as dt

from liangshi.common.lifecycle import Lifecycle
from liangshi.errors import ValidationFailed

USES: dict[str, tuple[str, str]] = {
    "residential": ("居住", "residential"),
    "shop": ("商铺", "shop"),
    "office": ("办公", "office"),
    "collective": ("集体宿舍", "collective housing"),
    "other": ("其他", "other"),
}
STATUSES: dict[str, tuple[str, str]] = {"open": ("在租", "open"), "ended": ("已终止", "ended")}
ACTION_LABELS: dict[str, tuple[str, str]] = {
    "attach_tenant": ("登记承租人", "attach a tenant"),
    "change": ("变更", "change"),
    "end": ("终止出租", "end the rental"),
    "record_agreement": ("登记治安责任书", "record the security agreement"),
    "retire": ("作废", "retire a record entered in error"),
}

# What may happen to a rental in each status; anything else is refused with `rental.action_not_allowed`.
# A refusal lists the allowed actions in the order written here (alphabetical, as it always has).
LIFECYCLE = Lifecycle(
    label_zh="出租房屋",
    label_en="rental",
    statuses=STATUSES,
    actions=ACTION_LABELS,
    table={"open": ("attach_tenant", "change", "end", "record_agreement", "retire"), "ended": ()},
    code="rental.action_not_allowed",
    message_zh="{label_zh}状态为“{status_zh}”，不能执行此操作",
    message_en="A {label_en} in status {status!r} does not allow {action!r}",
)
# The same table as sets, and the rule under the name it had before the shared type (tests/rentals read both).
ACTIONS: dict[str, frozenset[str]] = {status: frozenset(actions) for status, actions in LIFECYCLE.items()}
ensure_allowed = LIFECYCLE.ensure

YES = frozenset({"yes", "y", "true", "1", "是", "已签", "已签订"})
NO = frozenset({"no", "n", "false", "0", "否", "未签", "未签订"})


def check_lease(*, lease_start: dt.date, lease_end: dt.date | None, today: dt.date) -> None:
    """The lease starts no later than today (it is filed when rented) and ends after it starts."""
    if lease_start > today:
        raise ValidationFailed(
            "rental.lease_start_in_future",
            "租赁起始日期不能晚于今天",
            "The lease cannot start in the future",
            {"field": "lease_start"},
        )
    if lease_end is not None and lease_end <= lease_start:
        raise ValidationFailed(
            "rental.lease_end_before_start",
            "租赁截止日期须晚于起始日期",
            "The lease must end after it starts",
            {"field": "lease_end"},
        )


def check_agreement(*, signed_on: dt.date | None, signer: str | None, today: dt.date) -> None:
    """A signed agreement has a date no later than today and a signer."""
    if signed_on is None:
        return
    if signed_on > today:
        raise ValidationFailed(
            "rental.agreement_in_future",
            "治安责任书签订日期不能晚于今天",
            "The agreement cannot be signed in the future",
            {"field": "signed_on"},
        )
    if not signer:
        raise ValidationFailed(
            "rental.agreement_signer_required",
            "请填写治安责任书签订人",
            "The agreement needs a signer",
            {"field": "signer"},
        )


def parse_signed(value: str | None) -> bool:
    """`yes`/`no`/`是`/`否` (empty: no)."""
    text = (value or "").strip().lower()
    if not text or text in NO:
        return False
    if text in YES:
        return True
    raise ValidationFailed(
        "rental.agreement_flag_invalid",
        f"“{value}”不是有效的是/否值",
        f"{value!r} is not yes or no",
        {"field": "agreement_signed", "input": value},
    )
