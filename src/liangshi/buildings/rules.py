"""Building and dwelling vocabularies."""

from __future__ import annotations

BUILDING_USES = ("residential", "commercial", "office", "mixed", "industrial", "public", "key_unit", "other")
VISIT_STATUSES = ("not_visited", "visited", "partly_visited")
DWELLING_USES = ("residential", "shop", "office", "collective", "key_unit", "other")
# Occupancy as a collector finds it at the door, plus the housing status.
DWELLING_STATUSES = ("occupied", "vacant", "rented", "nobody_home", "refused", "demolished", "unknown")
