"""Rentals (出租房屋) as use cases: file, attach tenants, record the agreement, end, and the three rates."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from liangshi import registry
from liangshi.audit.models import AuditEntry
from liangshi.buildings import service as buildings
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.registry import Provenance, history
from liangshi.rentals import rules
from liangshi.rentals import service as rentals
from liangshi.rentals.schemas import AgreementIn, RentalCreate, RentalEnd, TenantIn
from tests.conftest import INSIDE, OUTSIDE, World
from tests.rentals.helpers import counts, dwelling, file, person, place, resident

D = dt.date
PROV = Provenance("collector", "collector_zhang", "observed")


def _attach(
    world: World, rental_id: int, person_id: int, version: int, persona: str = "collector_zhang"
) -> int:
    with world.session() as s:
        snap = rentals.attach_tenant(
            s, world.ctx(s, persona), rental_id, TenantIn(expected_version=version, person_id=person_id)
        )
        return int(snap.entity.version)


def _agree(world: World, rental_id: int, version: int, on: D = D(2026, 3, 2), signer: str = "王芳") -> int:
    with world.session() as s:
        snap = rentals.record_agreement(
            s,
            world.ctx(s, "collector_zhang"),
            rental_id,
            AgreementIn(expected_version=version, signed_on=on, signer=signer),
        )
        return int(snap.entity.version)


def _end(world: World, rental_id: int, version: int, on: D = D(2026, 10, 31)) -> None:
    with world.session() as s:
        rentals.end_rental(
            s, world.ctx(s, "collector_zhang"), rental_id, RentalEnd(expected_version=version, ended_on=on)
        )


# ---- filing ----------------------------------------------------------------------------------------------------


def test_a_collector_files_a_rental_valid_from_the_lease_start_with_the_landlord_responsible(
    world: World,
) -> None:
    p = place(world)
    landlord = person(world, "王芳")
    snap = file(world, p.dwelling_id, landlord, filing_number="鄂租备2026-0001")
    attrs = snap.attributes()
    assert attrs["landlord_person_id"] == landlord
    assert attrs["status"] == "open"
    assert attrs["filing_number"] == "鄂租备2026-0001"
    assert snap.row.valid_from == D(2026, 3, 1)
    assert (snap.entity.area_id, snap.entity.dwelling_id) == (world.area(INSIDE), p.dwelling_id)
    with world.session() as s:
        actions = list(
            s.execute(select(AuditEntry.action).where(AuditEntry.object_kind == "rental")).scalars()
        )
        assert actions == ["rental.create"]
        assert rentals.open_rental_of(s, p.dwelling_id) == snap.entity.id


def test_a_second_open_rental_of_the_same_dwelling_is_refused_and_nothing_is_written(world: World) -> None:
    p = place(world)
    landlord = person(world)
    first = file(world, p.dwelling_id, landlord)
    before = counts(world)
    with pytest.raises(Conflict) as exc:
        file(world, p.dwelling_id, landlord, lease_start=D(2026, 5, 1))
    assert exc.value.code == "rental.dwelling_already_rented"
    assert exc.value.data["rental_id"] == first.entity.id
    assert counts(world) == before


def test_a_demolished_dwelling_cannot_be_rented(world: World) -> None:
    p = place(world)
    landlord = person(world)
    with world.session() as s:
        registry.change(
            s,
            world.ctx(s, "police_liu"),
            buildings.DWELLING,
            p.dwelling_id,
            {"status": "demolished"},
            expected_version=1,
            effective=None,
            prov=PROV,
            reason="拆迁",
        )
    before = counts(world)
    with pytest.raises(Conflict) as exc:
        file(world, p.dwelling_id, landlord)
    assert exc.value.code == "rental.dwelling_unavailable"
    assert counts(world) == before


def test_the_landlord_must_be_a_person_the_caller_can_see(world: World) -> None:
    p = place(world)
    stranger = person(world, "周杰", area=OUTSIDE, persona=None)  # registered by the police of another city
    before = counts(world)
    with pytest.raises(NotFound) as exc:
        file(world, p.dwelling_id, stranger)
    assert (exc.value.code, exc.value.data["field"]) == ("rental.landlord_not_found", "landlord_person_id")
    with pytest.raises(NotFound):
        file(world, p.dwelling_id, 987654)
    assert counts(world) == before


def test_a_dwelling_outside_the_jurisdiction_is_not_found(world: World) -> None:
    p = place(world)
    landlord = person(world)
    with pytest.raises(NotFound) as exc:
        file(world, p.dwelling_id, landlord, persona="collector_zhou")
    assert exc.value.code == "dwelling.not_found"


@pytest.mark.parametrize(
    ("over", "code"),
    [
        ({"lease_end": D(2026, 3, 1)}, "rental.lease_end_before_start"),
        ({"lease_end": D(2025, 12, 31)}, "rental.lease_end_before_start"),
        ({"lease_start": D(2026, 12, 1), "lease_end": D(2027, 12, 1)}, "rental.lease_start_in_future"),
        ({"agreement_signed_on": D(2026, 12, 1), "agreement_signer": "王芳"}, "rental.agreement_in_future"),
        ({"agreement_signed_on": D(2026, 3, 1)}, "rental.agreement_signer_required"),
    ],
)
def test_bad_lease_or_agreement_dates_are_refused_with_nothing_written(
    world: World, over: dict[str, object], code: str
) -> None:
    p = place(world)
    landlord = person(world)
    before = counts(world)
    with pytest.raises(ValidationFailed) as exc:
        file(world, p.dwelling_id, landlord, **over)
    assert exc.value.code == code
    assert counts(world) == before


def test_a_negative_rent_or_an_unknown_use_is_refused_by_the_schema() -> None:
    base = {"dwelling_id": 1, "landlord_person_id": 1, "lease_start": "2026-03-01"}
    with pytest.raises(ValidationError):
        RentalCreate.model_validate({**base, "monthly_rent": -1})
    with pytest.raises(ValidationError):
        RentalCreate.model_validate({**base, "use": "hotel"})
    with pytest.raises(ValidationError):
        RentalCreate.model_validate({**base, "surprise": 1})


def test_a_filing_number_is_unique_among_current_rentals_and_free_again_once_the_rental_ended(
    world: World,
) -> None:
    p = place(world)
    other = dwelling(world, p.building_id, "502")
    landlord = person(world)
    first = file(world, p.dwelling_id, landlord, filing_number="鄂租备2026-0007")
    before = counts(world)
    with pytest.raises(Conflict) as exc:
        file(world, other, landlord, filing_number="鄂租备2026-0007")
    assert exc.value.code == "rental.filing_number_taken"
    assert counts(world) == before
    _end(world, first.entity.id, first.entity.version)
    assert file(world, other, landlord, filing_number="鄂租备2026-0007").attributes()["status"] == "open"


# ---- tenants ---------------------------------------------------------------------------------------------------


def test_a_tenant_living_there_is_attached_and_their_residence_linked(world: World) -> None:
    p = place(world)
    landlord = person(world)
    tenant = resident(world, p.dwelling_id, arrived=D(2026, 3, 5))
    rental = file(world, p.dwelling_id, landlord)
    version = _attach(world, rental.entity.id, tenant, rental.entity.version)
    assert version == rental.entity.version + 1
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        tenants = rentals.tenants_of(s, ctx, rental.entity.id)
        assert len(tenants) == 1
        t = tenants[0]
        assert (t["person_id"], t["name"], t["primary"], t["since"]) == (tenant, "李强", True, D(2026, 3, 5))
        assert t["residence_id"] is not None
        assert "*" in t["document"]
        reads = s.execute(
            select(AuditEntry).where(
                AuditEntry.action == "rental.tenant_read", AuditEntry.subject_person_id == tenant
            )
        ).all()
        assert len(reads) == 1


def test_a_tenant_without_a_residence_at_the_dwelling_is_refused_and_nothing_is_written(world: World) -> None:
    p = place(world)
    elsewhere = dwelling(world, p.building_id, "502")
    landlord = person(world)
    rental = file(world, p.dwelling_id, landlord)
    lives_elsewhere = resident(world, elsewhere)
    nowhere = person(world, "孙丽", male=False)
    before = counts(world)
    for pid in (lives_elsewhere, nowhere):
        with pytest.raises(Conflict) as exc:
            _attach(world, rental.entity.id, pid, rental.entity.version)
        assert exc.value.code == "rental.tenant_not_resident"
    assert counts(world) == before
    with world.session() as s:
        assert s.get(type(rental.entity), rental.entity.id).version == rental.entity.version  # type: ignore[union-attr]


def test_the_same_tenant_is_not_attached_twice(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world))
    tenant = resident(world, p.dwelling_id)
    version = _attach(world, rental.entity.id, tenant, rental.entity.version)
    with pytest.raises(Conflict) as exc:
        _attach(world, rental.entity.id, tenant, version)
    assert exc.value.code == "rental.tenant_already_attached"


def test_a_stale_expected_version_is_refused_with_a_conflict(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world))
    tenant = resident(world, p.dwelling_id)
    _agree(world, rental.entity.id, rental.entity.version)
    before = counts(world)
    with pytest.raises(Conflict) as exc:
        _attach(world, rental.entity.id, tenant, rental.entity.version)
    assert exc.value.code == "version.stale"
    with pytest.raises(Conflict) as exc:
        _end(world, rental.entity.id, rental.entity.version)
    assert exc.value.code == "version.stale"
    assert counts(world) == before


# ---- agreement and end -----------------------------------------------------------------------------------------


def test_recording_the_agreement_keeps_the_unsigned_state_readable_before_its_date(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world))
    _agree(world, rental.entity.id, rental.entity.version, on=D(2026, 4, 10), signer="王芳")
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        now = registry.read(s, ctx, rentals.RENTAL, rental.entity.id)
        before = registry.read(s, ctx, rentals.RENTAL, rental.entity.id, on=D(2026, 4, 1))
    assert (now.attributes()["agreement_signed_on"], now.attributes()["agreement_signer"]) == (
        D(2026, 4, 10),
        "王芳",
    )
    assert before.attributes()["agreement_signed_on"] is None


def test_an_agreement_dated_in_the_future_is_refused(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world))
    before = counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _agree(world, rental.entity.id, rental.entity.version, on=D(2026, 11, 28))
    assert exc.value.code == "rental.agreement_in_future"
    assert counts(world) == before


def test_ending_a_rental_closes_its_tenants_links_and_allows_nothing_more(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world))
    tenant = resident(world, p.dwelling_id)
    version = _attach(world, rental.entity.id, tenant, rental.entity.version)
    _end(world, rental.entity.id, version, on=D(2026, 10, 31))
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        assert rentals.status_of(s, rental.entity.id) == "ended"
        assert rentals.open_rental_of(s, p.dwelling_id) is None
        assert rentals.tenants_of(s, ctx, rental.entity.id, on=D(2026, 11, 1)) == []
        [link] = rentals.tenants_of(s, ctx, rental.entity.id)
        assert link["until"] == D(2026, 10, 31)
        snap = registry.read(s, ctx, rentals.RENTAL, rental.entity.id)
        assert snap.retired and snap.attributes()["status"] == "ended"
        latest = history.latest_row(s, rentals.RENTAL, rental.entity.id)
        version = s.get(type(rental.entity), rental.entity.id).version  # type: ignore[union-attr]
    assert latest.valid_to == D(2026, 10, 31)
    with pytest.raises(Conflict) as exc:
        _agree(world, rental.entity.id, version)
    assert (exc.value.code, exc.value.data["allowed"]) == ("rental.action_not_allowed", [])
    with pytest.raises(Conflict):
        _end(world, rental.entity.id, version)
    # the dwelling may be rented again
    assert (
        file(world, p.dwelling_id, person(world, "钱进"), lease_start=D(2026, 11, 1)).attributes()["status"]
        == "open"
    )


def test_an_end_date_before_the_lease_start_or_in_the_future_is_refused(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world))
    for day in (D(2026, 2, 1), D(2026, 11, 28)):
        with pytest.raises(ValidationFailed) as exc:
            _end(world, rental.entity.id, rental.entity.version, on=day)
        assert exc.value.code == "rental.end_date_invalid"


def test_the_lifecycle_is_a_table_of_status_to_allowed_actions() -> None:
    assert rules.ACTIONS["open"] >= {"attach_tenant", "record_agreement", "end", "change"}
    assert rules.ACTIONS["ended"] == frozenset()
    rules.ensure_allowed("open", "end")
    with pytest.raises(Conflict) as exc:
        rules.ensure_allowed("ended", "attach_tenant")
    assert exc.value.code == "rental.action_not_allowed"
    assert rules.parse_signed("是") and rules.parse_signed("yes") and not rules.parse_signed("否")
    assert not rules.parse_signed(None)
    with pytest.raises(ValidationFailed):
        rules.parse_signed("maybe")


# ---- permissions -----------------------------------------------------------------------------------------------


def test_collectors_write_rentals_police_retire_them_and_departments_do_not_see_them(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world))
    tenant = resident(world, p.dwelling_id)
    version = _attach(world, rental.entity.id, tenant, rental.entity.version)
    with world.session() as s, pytest.raises(Forbidden):
        rentals.retire_rental(
            s,
            world.ctx(s, "collector_zhang"),
            rental.entity.id,
            expected_version=version,
            effective=None,
            prov=PROV,
            reason="重复登记",
        )
    with world.session() as s, pytest.raises(Forbidden):
        registry.read(s, world.ctx(s, "health_liaison_wang"), rentals.RENTAL, rental.entity.id)
    with world.session() as s, pytest.raises(Forbidden):
        rentals.rental_rates(s, world.ctx(s, "auditor_sun"), world.area(INSIDE), None)
    with world.session() as s, pytest.raises(Forbidden):
        rentals.file_rental(
            s,
            world.ctx(s, "inspector_zhao"),
            RentalCreate(dwelling_id=p.dwelling_id, landlord_person_id=1, lease_start=D(2026, 1, 1)),
        )
    with world.session() as s:
        snap = rentals.retire_rental(
            s,
            world.ctx(s, "police_liu"),
            rental.entity.id,
            expected_version=version,
            effective=None,
            prov=PROV,
            reason="重复登记",
        )
        assert snap.retired
        assert rentals.tenants_of(s, world.ctx(s, "police_liu"), rental.entity.id, on=D(2026, 11, 27)) == []


def test_a_collector_of_another_community_does_not_see_the_rental(world: World) -> None:
    p = place(world)
    rental = file(world, p.dwelling_id, person(world))
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhou")
        with pytest.raises(NotFound) as exc:
            registry.read(s, ctx, rentals.RENTAL, rental.entity.id)
        assert exc.value.code == "rental.not_found"
        with pytest.raises(NotFound):
            rentals.tenants_of(s, ctx, rental.entity.id)
        with pytest.raises(NotFound):
            rentals.rental_rates(s, ctx, world.area(INSIDE), None)


# ---- rates -----------------------------------------------------------------------------------------------------


def test_registration_entry_and_agreement_rates_have_known_numerators_and_denominators(world: World) -> None:
    p = place(world)
    d1 = p.dwelling_id
    d2 = dwelling(world, p.building_id, "502")
    d3 = dwelling(world, p.building_id, "503")
    dwelling(world, p.building_id, "504", status="rented")  # rented, never registered
    d5 = dwelling(world, p.building_id, "505")
    landlord = person(world)
    # d1: tenant and agreement -> registered, entered, signed
    r1 = file(world, d1, landlord, lease_end=None)
    version = _attach(world, r1.entity.id, resident(world, d1), r1.entity.version)
    _agree(world, r1.entity.id, version, on=D(2026, 3, 2))
    # d2: no tenant, no lease end -> registered only
    file(world, d2, landlord, lease_end=None)
    # d3: lease dates complete -> registered, entered
    file(world, d3, landlord)
    # d5: ended before the day -> not counted
    r5 = file(world, d5, landlord)
    _end(world, r5.entity.id, r5.entity.version, on=D(2026, 6, 30))
    with world.session() as s:
        ctx = world.ctx(s, "station_admin_li")
        rates = rentals.rental_rates(s, ctx, world.area("420704001"), None)
        assert (rates["registered"], rates["rented_unregistered"]) == (3, 1)
        assert rates["registration"] == {"numerator": 3, "denominator": 4, "rate": 0.75}
        assert rates["entry"] == {"numerator": 2, "denominator": 3, "rate": round(2 / 3, 6)}
        assert rates["agreement"] == {"numerator": 1, "denominator": 3, "rate": round(1 / 3, 6)}
        # as of spring: d5 was still let, the agreement not yet signed, and nothing was rented unregistered yet
        spring = rentals.rental_rates(s, ctx, world.area(INSIDE), D(2026, 3, 1))
        assert spring["registration"]["numerator"] == 4
        assert spring["agreement"]["numerator"] == 0
        empty = rentals.rental_rates(s, ctx, world.area("420704001002"), None)
        assert empty["registration"] == {"numerator": 0, "denominator": 0, "rate": None}
        json.dumps({k: v for k, v in rates.items() if k != "on"})


def _dwelling_status(world: World, dwelling_id: int) -> str:
    with world.session() as s:
        row = history.open_row(s, buildings.DWELLING, dwelling_id)
        assert row is not None
        return str(row.status)


def test_filing_a_rental_marks_the_dwelling_rented_and_ending_it_clears_that(world: World) -> None:
    p = place(world)
    assert _dwelling_status(world, p.dwelling_id) != "rented"
    rental = file(world, p.dwelling_id, person(world))
    assert _dwelling_status(world, p.dwelling_id) == "rented"
    _end(world, rental.entity.id, rental.entity.version, on=D(2026, 6, 30))
    assert _dwelling_status(world, p.dwelling_id) == "unknown"
