"""Venue vocabularies and the rules of a stay: who counts as a foreign guest, when a report is late."""

from __future__ import annotations

import datetime as dt

from liangshi.errors import Conflict, ValidationFailed

VENUE_KINDS: dict[str, tuple[str, str]] = {"hotel": ("旅店", "hotel"), "cafe": ("网吧", "internet café")}
STATUSES: dict[str, tuple[str, str]] = {"open": ("营业", "open"), "closed": ("停业", "closed")}

# Documents of guests from outside the mainland (境外): foreigners and residents of Hong Kong, Macau and Taiwan.
FOREIGN_DOCUMENTS = frozenset(
    {"passport", "foreign_pr_card", "hk_mo_travel_permit", "tw_travel_permit", "hmt_residence_permit"}
)
# Foreign guests must be reported within this time of checking in (DOMAIN.md: 24 hours in cities).
FOREIGN_REPORT_LIMIT = dt.timedelta(hours=24)
# A venue's clock may run a little ahead of ours; anything further in the future is refused.
CLOCK_SKEW = dt.timedelta(minutes=10)
MAX_BATCH = 1000
KEY_PREFIX = "vk_"

# Retention of stays per venue kind, in days (2 years for hotels, 60 days for internet cafés).
RETENTION_DAYS: dict[str, int] = {"hotel": 730, "cafe": 60}

# 实名: a stay's identity is verified when its document was checked where it entered (`check_document`: a resident ID
# or residence permit by its GB 11643 check character, a permanent-residence card likewise, a travel permit or a
# passport by its format — a passport with its nationality, without which it identifies nobody). The guest need
# not be a person of this register (issue 15: counting only register persons read 68 % where 96.8 % was true).
VERIFIED_DOCUMENTS = frozenset(
    {"resident_id", "hmt_residence_permit", "foreign_pr_card", "hk_mo_travel_permit", "tw_travel_permit"}
)
DOCUMENTS_NEEDING_COUNTRY = frozenset({"passport"})

FLAG_UNKNOWN = "unknown"
FLAG_FOREIGN = "foreign"
FLAG_LATE = "late_foreign_report"


def is_foreign(doc_type: str, country: str | None) -> bool:
    """A guest from outside the mainland: a foreign or HK/Macau/Taiwan document (a Chinese passport is not)."""
    if doc_type not in FOREIGN_DOCUMENTS:
        return False
    return not (doc_type == "passport" and country == "CHN")


def identity_verified(doc_type: str, country: str | None, person_id: int | None) -> bool:
    """Whether a stay's guest is identified by a verified document (or is a register person)."""
    if person_id is not None or doc_type in VERIFIED_DOCUMENTS:
        return True
    return doc_type in DOCUMENTS_NEEDING_COUNTRY and bool(country)


def identity_verified_sql(row: str = "") -> str:
    """`identity_verified` as an SQL condition over a stay row (`row` is a prefix such as `NEW.` or `s.`): the
    one definition the live count (`venues.service.stay_counts`) and the daily aggregate's triggers share."""
    verified = ", ".join(f"'{d}'" for d in sorted(VERIFIED_DOCUMENTS))
    country = ", ".join(f"'{d}'" for d in sorted(DOCUMENTS_NEEDING_COUNTRY))
    return (
        f"({row}person_id IS NOT NULL OR {row}doc_type IN ({verified}) "
        f"OR ({row}doc_type IN ({country}) AND {row}doc_country IS NOT NULL AND {row}doc_country <> ''))"
    )


def is_late_foreign_report(*, foreign: bool, check_in_at: dt.datetime, received_at: dt.datetime) -> bool:
    """A foreign guest's check-in that reached the registry more than 24 hours after it happened."""
    return foreign and received_at - check_in_at > FOREIGN_REPORT_LIMIT


def ensure_open(status: str) -> None:
    """Stays are accepted only from an open venue (409 otherwise)."""
    if status != "open":
        raise Conflict(
            "venue.closed",
            "该场所已停业或注销，不能报送住宿登记",
            "The venue is closed; it cannot report stays",
            {"status": status},
        )


def check_not_future(at: dt.datetime, *, now: dt.datetime, field: str) -> None:
    """A check-in or check-out no later than now (give or take the venue's clock skew)."""
    if at > now + CLOCK_SKEW:
        raise ValidationFailed(
            "stay.time_in_future",
            "登记时间晚于当前时间",
            "The time is in the future",
            {"field": field, "input": at.isoformat()},
        )


def check_check_out(*, check_in_at: dt.datetime, check_out_at: dt.datetime, field: str) -> None:
    """A guest leaves no earlier than they arrived."""
    if check_out_at < check_in_at:
        raise ValidationFailed(
            "stay.checkout_before_checkin",
            "退房（下机）时间早于入住（上机）时间",
            "The check-out is before the check-in",
            {"field": field, "input": check_out_at.isoformat()},
        )


def check_reported(
    *, reported_at: dt.datetime, check_in_at: dt.datetime, now: dt.datetime, field: str
) -> None:
    """When a venue reported a check-in (a file's 上报时间): not before the check-in, not after now (give or take
    the clock skew). It is the time the real-time rate counts, as `received_at` is for a check-in posted live."""
    check_not_future(reported_at, now=now, field=field)
    if reported_at < check_in_at - CLOCK_SKEW:
        raise ValidationFailed(
            "stay.reported_before_checkin",
            "上报时间早于入住（上机）时间",
            "The report is earlier than the check-in",
            {"field": field, "input": reported_at.isoformat()},
        )


def nights(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo) -> int:
    """Calendar nights between two instants, counted in local dates."""
    return max(0, (end.astimezone(tz).date() - start.astimezone(tz).date()).days)
