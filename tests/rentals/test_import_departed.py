"""Importing the housing department's rentals as it holds them: a tenant who has since left stays attached (the
defect `rental.departed_tenant` finds), while a tenant who never lived there during the lease refuses the row."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select

from liangshi.access.service import SYSTEM
from liangshi.addresses.models import StreetVersion
from liangshi.checks import service as checks
from liangshi.common.idnumber import mask_id_number
from liangshi.exchange import formats, service
from liangshi.rentals.models import Rental, RentalTenant, RentalTenantVersion, RentalVersion
from liangshi.residence import service as residence
from liangshi.residence.schemas import DepartureIn
from tests import factories
from tests.conftest import INSIDE, World
from tests.factories import make_id
from tests.rentals.helpers import dwelling, place

D = dt.date
ZH = [c.zh for c in formats.KINDS["rentals"]]


def _write(path: Path, rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ZH[:12])
        writer.writerows(rows)
    return path


def _person(world: World, name: str, number: str) -> int:
    with world.session() as s:
        return factories.person(
            s, world.ctx(s, "police_liu"), area_id=world.area(INSIDE), name=name, id_number=number
        )


def _lived(world: World, person_id: int, dwelling_id: int, arrived: D, left: D | None) -> int:
    """A floating residence at the dwelling from `arrived`, deregistered at `left` when given."""
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        rid = factories.arrival(s, ctx, person_id=person_id, dwelling_id=dwelling_id, arrived=arrived)
        if left is not None:
            residence.deregister_departure(
                s,
                ctx,
                rid,
                DepartureIn.model_validate(
                    {"expected_version": 1, "departure_date": left.isoformat(), "reason": "left_city"}
                ),
            )
        return rid


def _counts(world: World) -> tuple[int, ...]:
    with world.session() as s:
        return tuple(
            s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Rental, RentalVersion, RentalTenant, RentalTenantVersion)
        )


def test_a_rental_whose_tenant_has_departed_is_kept_as_the_file_says_with_the_ended_residence_linked(
    world: World, tmp_path: Path
) -> None:
    p = place(world)
    d502 = dwelling(world, p.building_id, "502")
    d503 = dwelling(world, p.building_id, "503")
    with world.session() as s:
        street = s.execute(
            select(StreetVersion.name).where(StreetVersion.entity_id == p.street_id)
        ).scalar_one()
    landlord_no, gone_no, stays_no, before_no = (
        make_id("420704", D(1990, 1, 1), n) for n in (11, 21, 23, 25)
    )
    _person(world, "王芳", landlord_no)
    gone, stays = _person(world, "李强", gone_no), _person(world, "李明", stays_no)
    before = _person(world, "赵四", before_no)
    gone_residence = _lived(world, gone, p.dwelling_id, D(2026, 3, 5), D(2026, 8, 1))
    _lived(world, stays, p.dwelling_id, D(2026, 3, 5), None)
    # Lived at 502 and left before the lease named in the file began: never a tenant of that lease.
    _lived(world, before, d502, D(2025, 3, 5), D(2025, 12, 31))
    key = [INSIDE, street, "12", "3栋", "1"]
    path = _write(
        tmp_path / "rentals.csv",
        [
            # line 2: one tenant left in August (deregistered), the other still lives there — kept, both attached
            [landlord_no, *key, "501", "2026-03-01", "2027-02-28", "1200", "是", f"{gone_no};{stays_no}"],
            # line 3: the tenant's residence there ended before the lease started — refused, naming the tenant
            [landlord_no, *key, "502", "2026-04-01", "", "900", "是", before_no],
            # line 4: no tenant — kept
            [landlord_no, *key, "503", "2026-05-01", "", "800", "否", ""],
        ],
    )
    empty = _counts(world)
    result = service.import_file(
        world.sessions, kind="rentals", path=path, source="housing", actor=SYSTEM, clock=world.clock
    )
    assert (result.loaded, result.existing) == (2, 0)
    [error] = result.errors
    assert (error.line, error.field, error.code) == (3, "tenant_id_numbers", "rental.tenant_not_resident")
    assert mask_id_number(before_no) in error.message_zh and mask_id_number(before_no) in error.message_en
    assert _counts(world) == (empty[0] + 2, empty[1] + 2, empty[2] + 2, empty[3] + 2)
    with world.session() as s:
        rented = set(s.execute(select(Rental.dwelling_id)).scalars())
        assert rented == {p.dwelling_id, d503}  # nothing written for the refused row
        v = RentalTenantVersion
        tenants = {
            pid: (rid, since, until)
            for pid, rid, since, until in s.execute(
                select(RentalTenant.person_id, RentalTenant.residence_id, v.valid_from, v.valid_to).join(
                    v, and_(v.entity_id == RentalTenant.id, v.superseded_at.is_(None))
                )
            )
        }
    # The departed tenant is attached as the file says: from the arrival, still open, its ended residence linked.
    assert tenants[gone] == (gone_residence, D(2026, 3, 5), None)
    assert tenants[stays][1:] == (D(2026, 3, 5), None)
    with world.session() as s:
        result_checks = checks.run_checks(s, world.ctx(s), codes=["rental.departed_tenant"])
    found = [f for f in result_checks.found if f.check == "rental.departed_tenant"]
    assert [(f.keys["id_number"], f.keys["room"]) for f in found] == [(gone_no, "501")]
    again = service.import_file(
        world.sessions, kind="rentals", path=path, source="housing", actor=SYSTEM, clock=world.clock
    )
    assert (again.loaded, again.existing, len(again.errors)) == (0, 2, 1)
