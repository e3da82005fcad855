"""The registry the grid, street, map and dashboard pages are tested on: the KPI fixture plus positions and a gap.

On A's street the even plates are 12, 14, 16 and 20 (18 retired): 18 is a gap. Every plate of A has a position.
"""

from __future__ import annotations

from dataclasses import dataclass

from liangshi import registry
from liangshi.addresses import service as addresses
from liangshi.addresses.models import Address
from liangshi.addresses.schemas import AddressCreate
from liangshi.registry import Provenance
from tests.conftest import World
from tests.kpis.helpers import A, Built, build

PROV = Provenance("collector", "web-test", "observed")


@dataclass
class Places:
    """What the page tests need."""

    built: Built
    plate_20: int
    positioned: int


def build_places(world: World) -> Places:
    """The KPI fixture, one more plate (20) on A's street, and WGS-84 positions on A's plates."""
    built = build(world)
    pa = built.places["A"]
    with world.session() as s:
        ctx = world.ctx(s)
        snap = addresses.create_address(
            s,
            ctx,
            AddressCreate(
                area_id=world.area(A), street_id=pa.street_id, number="20", status="installed", chainage_m=200
            ),
        )
        plate_20 = int(snap.entity.id)
        page = registry.search(
            s, ctx, addresses.ADDRESS, where=[Address.area_id == world.area(A)], offset=0, limit=50
        )
        positioned = 0
        for i, snap in enumerate(page.items):
            registry.change(
                s,
                ctx,
                addresses.ADDRESS,
                snap.entity.id,
                {"lon": 114.89 + i * 0.001, "lat": 30.39 + i * 0.0005},
                expected_version=snap.entity.version,
                effective=None,
                prov=PROV,
                reason="测绘",
            )
            positioned += 1
    return Places(built, plate_20, positioned)
