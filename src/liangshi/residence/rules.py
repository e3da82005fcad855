"""Residence categories and deregistration reasons (DOMAIN.md: Residence)."""

from __future__ import annotations

import datetime as dt

from liangshi.common.lifecycle import Lifecycle
from liangshi.errors import ValidationFailed

CATEGORIES: dict[str, tuple[str, str]] = {
    "resident": ("常住", "lives at own hukou place"),
    "separated": ("人户分离", "hukou elsewhere in the city"),
    "floating": ("流动/暂住", "from outside the city"),
    "lodging": ("寄住", "lodging (students, relatives)"),
    "unregistered": ("未落户", "no hukou"),
    "overseas": ("境外", "foreigner or from Hong Kong, Macau, Taiwan"),
}
DEREGISTRATION_REASONS: dict[str, tuple[str, str]] = {
    "moved_within_city": ("市内迁移", "moved within the city"),
    "left_city": ("离开本市", "left the city"),
    "returned_home": ("返回原籍", "returned to the hukou place"),
    "went_abroad": ("出境", "went abroad"),
    "died": ("死亡", "died"),
    "other": ("其他", "other"),
}


def check_dates(
    *, arrival: dt.date, registration: dt.date | None, intended_until: dt.date | None, today: dt.date
) -> None:
    """Arrival is not in the future; registration is not before arrival; the intended stay ends after arrival."""
    if arrival > today:
        raise ValidationFailed(
            "residence.arrival_in_future",
            "来住日期不能晚于今天",
            "The arrival date cannot be in the future",
            {"field": "arrival_date"},
        )
    if registration is not None and (registration < arrival or registration > today):
        raise ValidationFailed(
            "residence.registration_date_invalid",
            "登记日期须在来住日期与今天之间",
            "The registration date must lie between arrival and today",
            {"field": "registration_date"},
        )
    if intended_until is not None and intended_until <= arrival:
        raise ValidationFailed(
            "residence.intended_stay_invalid",
            "拟住至日期须晚于来住日期（延期时还须晚于变更日期）",
            "The intended stay must end after the arrival (and, for an extension, after the change date)",
            {"field": "intended_stay_until"},
        )


def check_departure(*, arrival: dt.date, departure: dt.date, deregistration: dt.date, today: dt.date) -> None:
    """Departure lies between arrival and today; deregistration is not before departure nor in the future."""
    if departure < arrival:
        raise ValidationFailed(
            "residence.departure_before_arrival",
            "离开日期不能早于来住日期",
            "The departure cannot be before the arrival",
            {"field": "departure_date"},
        )
    if departure > today:
        raise ValidationFailed(
            "residence.departure_in_future",
            "离开日期不能晚于今天",
            "The departure date cannot be in the future",
            {"field": "departure_date"},
        )
    if deregistration < departure or deregistration > today:
        raise ValidationFailed(
            "residence.deregistration_date_invalid",
            "注销日期须在离开日期与今天之间",
            "The deregistration date must lie between departure and today",
            {"field": "deregistration_date"},
        )


# ---- lifecycle: status -> allowed actions ----------------------------------------------------------------------

STATUSES: dict[str, tuple[str, str]] = {
    "open": ("在住", "living there (no departure recorded)"),
    "departed": ("已离开未注销", "departure recorded but not deregistered"),
    "deregistered": ("已注销", "deregistered"),
}
ACTIONS: dict[str, tuple[str, str]] = {
    "extend_stay": ("延长居住期限", "extend the intended stay"),
    "change_category": ("变更人员类别", "change the category"),
    "move": ("市内迁移", "move within the city"),
    "deregister": ("注销", "deregister"),
    "correct": ("更正", "correct a recorded version"),
    "retire": ("作废", "retire a record entered in error"),
}
# Refusals that keep an established code of their own.
REFUSAL_CODES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("deregistered", "deregister"): (
        "residence.already_deregistered",
        "该居住登记已注销",
        "The residence is already deregistered",
    ),
}
# The lifecycle as data: what may be done to a residence in each status.
LIFECYCLE = Lifecycle(
    label_zh="居住登记",
    label_en="residence",
    statuses=STATUSES,
    actions=ACTIONS,
    table={
        "open": ("extend_stay", "change_category", "move", "deregister", "correct", "retire"),
        # An import may bring a departure without its deregistration: only deregistering it (or fixing it) is left.
        "departed": ("deregister", "correct", "retire"),
        "deregistered": ("correct",),
    },
    code="residence.action_not_allowed",
    special=REFUSAL_CODES,
)


# One definition of a residence's state, used by the pages (`status_of`), the KPI counts and the daily aggregate
# (`status_sql`, `residence.service.status_expression`): the first rule whose date is set decides. A residence
# imported with a departure but no deregistration is closed at its departure (nobody lives there from then on)
# yet it is *departed, not deregistered* — on its page as in the deregistration rate (issue 15). A residence
# closed with neither (retired as entered in error) reads deregistered, as before.
STATUS_RULES: tuple[tuple[str, str], ...] = (
    ("deregistration_date", "deregistered"),
    ("departure_date", "departed"),
    ("valid_to", "deregistered"),
)


def status_of(
    *, valid_to: dt.date | None, departure_date: dt.date | None, deregistration_date: dt.date | None
) -> str:
    """The lifecycle status of a residence from its current version (`STATUS_RULES`)."""
    dates = {
        "valid_to": valid_to,
        "departure_date": departure_date,
        "deregistration_date": deregistration_date,
    }
    return next((status for column, status in STATUS_RULES if dates[column] is not None), "open")


def status_sql(row: str = "") -> str:
    """`status_of` as an SQL expression over a residence version row (`row` is a prefix such as `NEW.`)."""
    whens = " ".join(f"WHEN {row}{column} IS NOT NULL THEN '{status}'" for column, status in STATUS_RULES)
    return f"(CASE {whens} ELSE 'open' END)"


def allowed_actions(status: str) -> tuple[str, ...]:
    """What may be done in a status."""
    return LIFECYCLE.allowed(status)


def ensure_allowed(status: str, action: str, *, residence_id: int | None = None) -> None:
    """Refuse an action the residence's status does not allow (409 with status, action, what is allowed, id)."""
    if residence_id is None:
        LIFECYCLE.ensure(status, action)
    else:
        LIFECYCLE.ensure(status, action, id=residence_id)


def check_extension(
    *, arrival: dt.date, current_until: dt.date | None, new_until: dt.date, effective: dt.date, today: dt.date
) -> None:
    """An extension sets a later end of stay, after the arrival, from a date that is not in the future."""
    if effective > today:
        raise ValidationFailed(
            "residence.effective_in_future",
            "变更日期不能晚于今天",
            "The change date cannot be in the future",
            {"field": "effective"},
        )
    if new_until <= arrival or new_until <= effective:
        raise ValidationFailed(
            "residence.intended_stay_invalid",
            "拟住至日期须晚于来住日期（延期时还须晚于变更日期）",
            "The intended stay must end after the arrival (and, for an extension, after the change date)",
            {"field": "intended_stay_until"},
        )
    if current_until is not None and new_until <= current_until:
        raise ValidationFailed(
            "residence.extension_not_later",
            "延长后的拟住至日期须晚于原日期",
            "The extended stay must end after the current intended end",
            {"field": "intended_stay_until", "current": current_until.isoformat()},
        )
