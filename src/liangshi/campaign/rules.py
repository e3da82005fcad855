"""Visit vocabularies and what a visit changes (pure functions)."""

from __future__ import annotations

# Occupancy as found at the door: every dwelling gets one (楼栋不漏户).
OUTCOMES: dict[str, tuple[str, str]] = {
    "occupied": ("有人居住", "Occupied"),
    "vacant": ("空置", "Vacant"),
    "nobody_home": ("无人在家", "Nobody home"),
    "refused": ("拒绝配合", "Refused"),
}


def dwelling_status_after(current: str, outcome: str) -> str | None:
    """The dwelling status a visit implies, or None when it stays as it is.

    A rented dwelling found occupied stays 'rented' (the rental is the stronger fact); a demolished one is never
    revived by a visit (it is corrected, not visited).
    """
    if current == "demolished":
        return None
    if outcome == "occupied" and current == "rented":
        return None
    return outcome if outcome != current else None


def building_visit_status(dwellings: int, visited: int) -> str:
    """A building's visit status from how many of its dwellings have a visit (辖区不漏楼)."""
    if visited <= 0:
        return "not_visited"
    return "visited" if visited >= dwellings else "partly_visited"
