"""Building and dwelling vocabularies."""

from __future__ import annotations

BUILDING_USES = ("residential", "commercial", "office", "mixed", "industrial", "public", "key_unit", "other")
VISIT_STATUSES = ("not_visited", "visited", "partly_visited")
DWELLING_USES = ("residential", "shop", "office", "collective", "key_unit", "other")
# Occupancy as a collector finds it at the door, plus the housing status.
DWELLING_STATUSES = ("occupied", "vacant", "rented", "nobody_home", "refused", "demolished", "unknown")

# The occupancy a building grid (楼盘表) colours each dwelling by: the four states a leader reads at a glance.
# Nobody home, refused and a status never recorded all mean "we do not know who lives there".
OCCUPANCY: dict[str, str] = {
    "occupied": "occupied",
    "rented": "rented",
    "vacant": "vacant",
    "demolished": "vacant",
    "nobody_home": "unknown",
    "refused": "unknown",
    "unknown": "unknown",
}
OCCUPANCY_LABELS: dict[str, tuple[str, str]] = {
    "occupied": ("自住", "occupied"),
    "rented": ("出租", "rented"),
    "vacant": ("空置", "vacant"),
    "unknown": ("不详", "unknown"),
}


def occupancy(status: str, occupants: int) -> str:
    """The grid colour of a dwelling: its status, except that a dwelling with registered occupants is never
    shown as unknown (the register knows who lives there even if nobody opened the door)."""
    state = OCCUPANCY.get(status, "unknown")
    if state == "unknown" and occupants > 0:
        return "occupied"
    return state
