"""人走注销 closes the tenancy: a tenant who is deregistered no longer rents the dwelling."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from liangshi.audit.models import AuditEntry
from liangshi.rentals import service as rentals
from liangshi.rentals.models import RentalTenant, RentalTenantVersion
from liangshi.rentals.schemas import TenantIn
from liangshi.residence import service as residence
from liangshi.residence.models import Residence
from liangshi.residence.schemas import DepartureIn
from tests.conftest import World
from tests.rentals.helpers import file, person, place, resident

D = dt.date


def _open_links(world: World, rental_id: int) -> list[tuple[int, dt.date | None]]:
    with world.session() as s:
        v = RentalTenantVersion
        rows = s.execute(
            select(RentalTenant.person_id, v.valid_to)
            .join(v, v.entity_id == RentalTenant.id)
            .where(RentalTenant.rental_id == rental_id, v.superseded_at.is_(None))
            .order_by(RentalTenant.person_id)
        ).all()
        return [(int(p), to) for p, to in rows]


def test_deregistering_a_tenants_departure_ends_their_tenancy_but_not_the_rental(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world, "王芳"))
    leaving = resident(world, p.dwelling_id, name="李强")
    staying = resident(world, p.dwelling_id, name="赵敏")
    version = int(rental.entity.version)
    for tenant in (leaving, staying):
        with world.session() as s:
            version = int(
                rentals.attach_tenant(
                    s,
                    world.ctx(s, "collector_zhang"),
                    rental.entity.id,
                    TenantIn(expected_version=version, person_id=tenant),
                ).entity.version
            )
    with world.session() as s:
        rid = s.execute(select(Residence.id).where(Residence.person_id == leaving)).scalar_one()
        residence.deregister_departure(
            s,
            world.ctx(s, "police_liu"),
            rid,
            DepartureIn.model_validate(
                {
                    "expected_version": 1,
                    "departure_date": "2026-10-01",
                    "reason": "left_city",
                    "destination": "武汉",
                }
            ),
        )
    links = dict(_open_links(world, rental.entity.id))
    assert links[leaving] == D(2026, 10, 1)
    assert links[staying] is None
    with world.session() as s:
        assert rentals.status_of(s, rental.entity.id) == "open"
        ended = (
            s.execute(select(AuditEntry.subject_person_id).where(AuditEntry.action == "rental.tenant_end"))
            .scalars()
            .all()
        )
        assert list(ended) == [leaving]


def test_a_departure_without_a_tenancy_changes_no_rental(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world, "王芳"))
    lodger = resident(world, p.dwelling_id, name="孙丽")
    with world.session() as s:
        rid = s.execute(select(Residence.id).where(Residence.person_id == lodger)).scalar_one()
        residence.deregister_departure(
            s,
            world.ctx(s, "police_liu"),
            rid,
            DepartureIn.model_validate(
                {
                    "expected_version": 1,
                    "departure_date": "2026-10-01",
                    "reason": "left_city",
                    "destination": "武汉",
                }
            ),
        )
        assert (
            s.execute(select(AuditEntry.seq).where(AuditEntry.action == "rental.tenant_end")).first() is None
        )
    assert _open_links(world, rental.entity.id) == []
