"""Venue vocabularies and the rules of a stay: who counts as a foreign guest, when a report is late."""

from __future__ import annotations

import datetime as dt

from liangshi.errors import Conflict

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

FLAG_UNKNOWN = "unknown"
FLAG_FOREIGN = "foreign"
FLAG_LATE = "late_foreign_report"


def is_foreign(doc_type: str, country: str | None) -> bool:
    """A guest from outside the mainland: a foreign or HK/Macau/Taiwan document (a Chinese passport is not)."""
    if doc_type not in FOREIGN_DOCUMENTS:
        return False
    return not (doc_type == "passport" and country == "CHN")


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


def nights(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo) -> int:
    """Calendar nights between two instants, counted in local dates."""
    return max(0, (end.astimezone(tz).date() - start.astimezone(tz).date()).days)
