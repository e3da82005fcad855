"""Importing rentals: natural key dwelling + lease start, idempotent, tenants must live there; the synthetic city."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import and_, func, select

from liangshi import sealed
from liangshi.access.service import SYSTEM
from liangshi.addresses.models import StreetVersion
from liangshi.buildings.models import Building, Dwelling, DwellingVersion
from liangshi.common.idnumber import mask_id_number
from liangshi.exchange import formats, service
from liangshi.persons.models import Document, DocumentVersion
from liangshi.rentals.models import Rental, RentalTenant, RentalTenantVersion, RentalVersion
from liangshi.synth import DefectRates, write_city
from liangshi.synth.generate import HEADERS
from liangshi.synth.load import load_police_extracts
from tests import factories
from tests.conftest import INSIDE, World
from tests.factories import make_id
from tests.rentals.helpers import dwelling, place

D = dt.date
ZH = [c.zh for c in formats.KINDS["rentals"]]


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _import(world: World, path: Path) -> service.ImportResult:
    return service.import_file(
        world.sessions, kind="rentals", path=path, source="housing", actor=SYSTEM, clock=world.clock
    )


def _counts(world: World) -> tuple[int, int, int, int]:
    with world.session() as s:
        return tuple(  # type: ignore[return-value]
            s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Rental, RentalVersion, RentalTenant, RentalTenantVersion)
        )


def _person(world: World, name: str, number: str) -> int:
    with world.session() as s:
        return factories.person(
            s, world.ctx(s, "police_liu"), area_id=world.area(INSIDE), name=name, id_number=number
        )


def test_rentals_import_with_chinese_headers_idempotently_and_refuse_tenants_who_do_not_live_there(
    world: World, tmp_path: Path
) -> None:
    p = place(world)
    d502 = dwelling(world, p.building_id, "502")
    d503 = dwelling(world, p.building_id, "503")
    with world.session() as s:
        street = s.execute(
            select(StreetVersion.name).where(StreetVersion.entity_id == p.street_id)
        ).scalar_one()
    landlord_no = make_id("420704", D(1990, 1, 1), 11)
    t1_no, t2_no, away_no = (make_id("420704", D(1990, 1, 1), n) for n in (21, 23, 25))
    _person(world, "王芳", landlord_no)
    t1, t2 = _person(world, "李强", t1_no), _person(world, "李明", t2_no)
    away = _person(world, "赵四", away_no)
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        for pid in (t1, t2):
            factories.arrival(s, ctx, person_id=pid, dwelling_id=p.dwelling_id, arrived=D(2026, 3, 5))
        factories.arrival(s, ctx, person_id=away, dwelling_id=d503, arrived=D(2026, 3, 5))
    key = [INSIDE, street, "12", "3栋", "1"]
    rows = [
        # line 2: two tenants living there, agreement signed (no date: the lease start is recorded)
        [landlord_no, *key, "501", "2026-03-01", "2027-02-28", "1200", "是", f"{t1_no.lower()}；{t2_no}"],
        # line 3: a tenant who lives in another dwelling
        [landlord_no, *key, "502", "2026/04/01", "", "900", "yes", away_no],
        # line 4: no tenants listed, agreement not signed
        [landlord_no, *key, "503", "20260501", "2026-10-31", "800", "否", ""],
        # line 5: unknown landlord
        [make_id("420704", D(1990, 1, 1), 31), *key, "503", "2026-06-01", "", "", "no", ""],
        # line 6: lease ends before it starts
        [landlord_no, *key, "502", "2026-06-01", "2026-05-01", "", "no", ""],
    ]
    path = _write(tmp_path / "rentals.csv", ZH[:12], rows)
    result = _import(world, path)
    assert (result.loaded, result.existing) == (2, 0)
    errors = {e.line: e for e in result.errors}
    assert set(errors) == {3, 5, 6}
    assert (errors[3].field, errors[3].code) == ("tenant_id_numbers", "rental.tenant_not_resident")
    assert mask_id_number(away_no) in errors[3].message_zh and mask_id_number(away_no) in errors[3].message_en
    assert errors[5].code == "rental.landlord_not_found"
    assert errors[6].code == "rental.lease_end_before_start"
    with world.session() as s:
        v = RentalVersion
        by_dwelling = {
            did: row
            for did, row in s.execute(
                select(Rental.dwelling_id, v).join(
                    v, and_(v.entity_id == Rental.id, v.superseded_at.is_(None))
                )
            )
        }
        assert d502 not in by_dwelling
        signed = by_dwelling[p.dwelling_id]
        assert (signed.agreement_signed_on, signed.agreement_signer, signed.monthly_rent) == (
            D(2026, 3, 1),
            "王芳",
            1200,
        )
        assert signed.valid_from == D(2026, 3, 1) and signed.status == "open"
        unsigned = [r for d, r in by_dwelling.items() if d != p.dwelling_id]
        assert [r.agreement_signed_on for r in unsigned] == [None]
        assert unsigned[0].lease_start == D(2026, 5, 1)
        tenants = s.execute(
            select(
                RentalTenant.person_id,
                RentalTenant.residence_id,
                RentalTenantVersion.is_primary,
                RentalTenantVersion.valid_from,
            )
            .join(RentalTenantVersion, RentalTenantVersion.entity_id == RentalTenant.id)
            .order_by(RentalTenant.id)
        ).all()
        assert [(t[0], t[2], t[3]) for t in tenants] == [
            (t1, True, D(2026, 3, 5)),
            (t2, False, D(2026, 3, 5)),
        ]
        assert all(t[1] is not None for t in tenants)
    before = _counts(world)
    again = _import(world, path)
    assert (again.loaded, again.existing, len(again.errors)) == (0, 2, 3)
    assert _counts(world) == before


def test_a_second_lease_for_a_dwelling_with_an_open_rental_is_refused(world: World, tmp_path: Path) -> None:
    p = place(world)
    with world.session() as s:
        street = s.execute(
            select(StreetVersion.name).where(StreetVersion.entity_id == p.street_id)
        ).scalar_one()
    landlord_no = make_id("420704", D(1990, 1, 1), 13)
    _person(world, "王芳", landlord_no)
    key = [INSIDE, street, "12", "3栋", "1", "501"]
    path = _write(
        tmp_path / "r.csv",
        [c.key for c in formats.KINDS["rentals"]][:12],
        [
            [landlord_no, *key, "2026-03-01", "", "", "", ""],
            [landlord_no, *key, "2026-04-01", "", "", "", ""],
        ],
    )
    result = _import(world, path)
    assert result.loaded == 1
    [error] = result.errors
    assert (error.line, error.code) == (3, "rental.dwelling_already_rented")


def test_the_template_example_row_names_every_column() -> None:
    assert set(formats.EXAMPLES["rentals"]) == {c.key for c in formats.KINDS["rentals"]}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city")
    write_city(
        out,
        persons=2500,
        seed=11,
        today=D(2026, 11, 27),
        rates=DefectRates(tenant_unregistered=0.25, rental_no_agreement=0.25),
    )
    return out


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_the_synthetic_citys_rentals_import_after_its_police_files_with_the_labelled_defects_found(
    world: World, city: Path
) -> None:
    assert list(HEADERS["housing_rentals"]) == ZH[:12]
    police = load_police_extracts(world.sessions, city, actor=SYSTEM, clock=world.clock)
    assert all(not r.errors for r in police.values())
    rentals = _read(city / "housing_rentals.csv")
    unregistered = {r["id_number"] for r in _read(city / "truth" / "tenant_unregistered.csv")}
    no_agreement = {
        (r["community_code"], r["street"], r["number"], r["building"], r["unit"], r["room"])
        for r in _read(city / "truth" / "rental_no_agreement.csv")
    }
    assert unregistered and no_agreement, "the city should carry both defects"
    expected_rejected = {
        line for line, r in enumerate(rentals, start=2) if set(r["承租人证件号码"].split(";")) & unregistered
    }
    assert expected_rejected
    result = service.import_file(
        world.sessions,
        kind="rentals",
        path=city / "housing_rentals.csv",
        source="housing",
        actor=SYSTEM,
        clock=world.clock,
    )
    assert {e.line for e in result.errors} == expected_rejected
    assert {e.code for e in result.errors} == {"rental.tenant_not_resident"}
    assert all(e.field == "tenant_id_numbers" for e in result.errors)
    assert result.loaded == len(rentals) - len(expected_rejected)
    # which rentals came in without an agreement: exactly the labelled ones that were not rejected
    dv, v = DwellingVersion, RentalVersion
    keys = {
        line: (r["社区代码"], r["街路巷"], r["门牌号"], r["楼栋"], r["单元"], r["房号"])
        for line, r in enumerate(rentals, start=2)
    }
    with world.session() as s:
        rows = s.execute(
            select(Rental.dwelling_id, v.agreement_signed_on, v.lease_start).join(
                v, and_(v.entity_id == Rental.id, v.superseded_at.is_(None), v.valid_to.is_(None))
            )
        ).all()
        rooms = {
            did: (bid, room)
            for did, bid, room in s.execute(
                select(Dwelling.id, Dwelling.building_id, dv.room).join(
                    dv, and_(dv.entity_id == Dwelling.id, dv.superseded_at.is_(None), dv.valid_to.is_(None))
                )
            )
        }
        tenants = s.execute(select(func.count()).select_from(RentalTenant)).scalar_one()
        assert s.execute(select(func.count()).select_from(Building)).scalar_one() > 0
        holders = s.execute(
            select(func.count())
            .select_from(Document)
            .join(DocumentVersion, DocumentVersion.entity_id == Document.id)
            .where(
                DocumentVersion.number_idx.in_(list(sealed.keys_for(s, DocumentVersion.number, unregistered)))
            )
        ).scalar_one()
    assert holders == 0  # the unregistered tenants are in the rentals file only
    imported_unsigned = sum(1 for _, signed, _ in rows if signed is None)
    labelled_loaded = {k for line, k in keys.items() if k in no_agreement and line not in expected_rejected}
    assert imported_unsigned == len(labelled_loaded)
    assert len(rows) == result.loaded and len(rooms) >= len(rows)
    expected_tenants = sum(
        len(r["承租人证件号码"].split(";"))
        for line, r in enumerate(rentals, start=2)
        if line not in expected_rejected
    )
    assert tenants == expected_tenants
    again = service.import_file(
        world.sessions,
        kind="rentals",
        path=city / "housing_rentals.csv",
        source="housing",
        actor=SYSTEM,
        clock=world.clock,
    )
    assert (again.loaded, again.existing) == (0, result.loaded)
