"""The checks within the register on persons, residences, rentals and stays: each finds what was planted and leaves
alone the look-alike beside it. Defects the forms refuse (a wrong check digit, a number held twice, a departure
imported without a deregistration) are planted in the tables, as a legacy import would leave them."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from fastapi.testclient import TestClient
from sqlalchemy import Table, insert, text

from liangshi import sealed
from liangshi.checks import rules
from liangshi.checks import service as checks
from liangshi.kpis import rules as kpi_rules
from liangshi.mpi.models import PersonSourceRecord
from liangshi.persons import service as persons
from liangshi.persons.models import DocumentVersion
from liangshi.persons.schemas import DocumentIn, PersonCreate
from liangshi.rentals import service as rentals
from liangshi.rentals.schemas import RentalCreate, TenantIn
from liangshi.residence import service as residence
from liangshi.residence.schemas import ArrivalIn
from tests import factories
from tests.conftest import INSIDE, NOW, World
from tests.venues import helpers as venue_helpers

TODAY = dt.date(2026, 11, 27)  # the test clock's day


def _run(world: World, *codes: str) -> checks.RunResult:
    with world.session() as s:
        return checks.run_checks(s, world.ctx(s), area_code=INSIDE, codes=list(codes))


def _by_check(result: checks.RunResult, code: str) -> list[checks.Found]:
    return [f for f in result.found if f.check == code]


def _set_number(world: World, person_id: int, number: str, country: str | None = None) -> None:
    # The number is sealed (docs/encryption.md): written as its ciphertext with its keyed-hash index entries.
    column = DocumentVersion.number.type
    with world.session() as s:
        ring = sealed.session_keyring(s)
        entries = dict(zip(column.index_columns(), column.entries(ring, number), strict=True))
        s.execute(
            text(
                "UPDATE document_versions SET number = :n, number_idx = :i, number_tail4_idx = :t4,"
                " number_tail9_idx = :t9, country = COALESCE(:c, country)"
                " WHERE superseded_at IS NULL AND entity_id IN (SELECT id FROM documents WHERE person_id = :p)"
            ),
            {
                "n": ring.encrypt(column.field, number),
                "i": entries["number_idx"],
                "t4": entries["number_tail4_idx"],
                "t9": entries["number_tail9_idx"],
                "c": country,
                "p": person_id,
            },
        )


def _wrong_check(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


def test_a_wrong_check_digit_is_invalid_and_a_sex_against_the_id_disagrees(world: World) -> None:
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        bad = factories.person(s, ctx, area_id=area)
        against = factories.person(s, ctx, area_id=area, male=True)
        factories.person(s, ctx, area_id=area)  # sound
        old_card = factories.person(s, ctx, area_id=area)  # a permanent residence card of before 2023
    with world.session() as s:
        numbers = {
            pid: sealed.reveal(s, DocumentVersion.number, n)
            for pid, n in s.execute(
                text(
                    "SELECT d.person_id, v.number FROM documents d JOIN document_versions v ON v.entity_id = d.id"
                )
            )
        }
        s.execute(
            text("UPDATE person_versions SET sex = '2' WHERE entity_id = :p AND superseded_at IS NULL"),
            {"p": against},
        )
    _set_number(world, bad, _wrong_check(numbers[bad]))
    _set_number(world, old_card, "USA420704000012")
    with world.session() as s:
        s.execute(
            text(
                "UPDATE document_versions SET doc_type = 'foreign_pr_card' WHERE superseded_at IS NULL"
                " AND entity_id IN (SELECT id FROM documents WHERE person_id = :p)"
            ),
            {"p": old_card},
        )
    result = _run(world, "person.id_invalid", "person.id_disagrees")
    [invalid] = _by_check(result, "person.id_invalid")
    assert invalid.keys == {"doc_type": "resident_id", "id_number": _wrong_check(numbers[bad])}
    assert invalid.evidence == {"problem": "check_character"}
    [disagrees] = _by_check(result, "person.id_disagrees")
    assert disagrees.keys["id_number"] == numbers[against]
    assert disagrees.evidence["differs"] == ["sex"]


def test_a_person_held_twice_in_the_register_is_a_duplicate_and_a_namesake_is_not(world: World) -> None:
    born = dt.date(1985, 3, 4)
    first = factories.make_id(birth=born, seq=101)
    namesake = factories.make_id(birth=born, seq=123)  # a valid number of someone else: two digits differ
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        factories.person(s, ctx, area_id=area, name="李娜", male=True, birth=born, id_number=first)
        typo = factories.person(s, ctx, area_id=area, name="李娜", male=True, birth=born)
        factories.person(s, ctx, area_id=area, name="李娜", male=True, birth=born, id_number=namesake)
        again = factories.person(s, ctx, area_id=area, name="王强")
    _set_number(world, typo, first[:14] + "9" + first[15:])  # one digit off: a copy of the first
    # The same number on another person, recorded with another country (the table refuses the same triple).
    _set_number(world, again, first, country="HKG")
    result = _run(world, "person.duplicate")
    found = {(f.keys["id_number"], f.evidence["rule"]) for f in result.found}
    assert found == {(first[:14] + "9" + first[15:], "one_typo"), (first, "same_number")}
    assert all(f.keys["source"] == "register" for f in result.found)


def test_a_record_waiting_twice_in_the_mpi_queue_is_a_duplicate(world: World) -> None:
    number = factories.make_id()
    with world.session() as s:
        base = {
            "status": "review",
            "area_id": world.area(INSIDE),
            "county_code": "420704",
            "created_at": NOW,
            "updated_at": NOW,
            "name": "赵敏",
            "birth_date": dt.date(1990, 1, 1),
        }
        rows = [
            {**base, "source": "health", "source_record_id": "H1", "id_number": number},
            {**base, "source": "justice", "source_record_id": "J7", "id_number": number},
            {**base, "source": "health", "source_record_id": "H2", "id_number": factories.make_id()},
            {
                **base,
                "source": "health",
                "source_record_id": "H3",
                "id_number": number,
                "status": "linked",
            },
        ]
        # The sealed number's index, as the person index's bulk writer fills it (an ORM bulk insert does not).
        sealed.index_rows(sealed.session_keyring(s), cast(Table, PersonSourceRecord.__table__), rows)
        s.execute(insert(PersonSourceRecord), rows)
    result = _run(world, "person.duplicate")
    assert [(f.keys, f.evidence["record"], f.evidence["rule"]) for f in result.found] == [
        ({"doc_type": "resident_id", "id_number": number, "source": "justice"}, "J7", "same_number")
    ]


def test_a_record_one_typo_from_another_with_its_name_and_birth_waits_twice(world: World) -> None:
    """The typo rule compares the opened numbers (sealed at rest): one character apart, one name and birth."""
    number = factories.make_id()
    typo = number[:14] + ("9" if number[14] != "9" else "8") + number[15:]
    with world.session() as s:
        base = {
            "status": "review",
            "area_id": world.area(INSIDE),
            "county_code": "420704",
            "created_at": NOW,
            "updated_at": NOW,
            "birth_date": dt.date(1990, 1, 1),
        }
        rows = [
            {**base, "source": "health", "source_record_id": "H1", "id_number": number, "name": "赵敏"},
            {**base, "source": "justice", "source_record_id": "J8", "id_number": typo, "name": "赵敏"},
            {**base, "source": "civil", "source_record_id": "C9", "id_number": typo, "name": "钱多"},
        ]
        sealed.index_rows(sealed.session_keyring(s), cast(Table, PersonSourceRecord.__table__), rows)
        s.execute(insert(PersonSourceRecord), rows)
    result = _run(world, "person.duplicate")
    # J8: one typo from H1 (same name and birth); C9: J8's number (same number), another name than H1's.
    assert sorted((f.evidence["record"], f.keys["id_number"], f.evidence["rule"]) for f in result.found) == [
        ("C9", typo, "same_number"),
        ("J8", typo, "one_typo"),
    ]


def test_main_items_missing_are_named_for_persons_living_here(world: World) -> None:
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        p = factories.place(s, ctx, area_id=area, district_id=world.area("420704"))
        complete = persons.create_person(
            s,
            ctx,
            PersonCreate(
                area_id=area,
                name="陈静",
                sex="2",
                birth_date=dt.date(1992, 5, 6),
                ethnicity="01",
                hukou_region="420704",
                documents=[
                    DocumentIn(
                        doc_type="resident_id", number=factories.make_id(birth=dt.date(1992, 5, 6), seq=102)
                    )
                ],
            ),
        ).entity.id
        lacking = factories.person(s, ctx, area_id=area)  # no ethnicity, no hukou, no household
        away = factories.person(s, ctx, area_id=area)  # lives nowhere here: not checked
        for pid in (complete, lacking):
            factories.arrival(s, ctx, person_id=pid, dwelling_id=p.dwelling_id, arrived=TODAY)
        factories.household(s, ctx, area_id=area, dwelling_id=p.dwelling_id, members=[(complete, "02")])
    assert away
    result = _run(world, "person.main_items_missing")
    assert [f.evidence for f in result.found] == [{"missing": ["ethnicity", "hukou", "relationship"]}]


def _arrive(world: World, **fields: object) -> int:
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        p = factories.place(s, ctx, area_id=area, district_id=world.area("420704"))
        pid = factories.person(s, ctx, area_id=area)
        snap = residence.register_arrival(
            s, ctx, ArrivalIn.model_validate({"person_id": pid, "dwelling_id": p.dwelling_id, **fields})
        )
        return int(snap.entity.id)


def test_a_stay_past_its_intended_end_is_found_and_one_still_running_is_not(world: World) -> None:
    over = _arrive(
        world,
        category="floating",
        arrival_date="2026-01-05",
        registration_date="2026-01-05",
        intended_stay_until="2026-10-31",
    )
    _arrive(
        world,
        category="floating",
        arrival_date="2026-01-05",
        registration_date="2026-01-05",
        intended_stay_until="2027-01-31",
    )
    result = _run(world, "residence.stay_expired")
    [found] = result.found
    assert found.object_id == over
    assert (found.evidence["intended_stay_until"], found.evidence["days_over"]) == ("2026-10-31", 27)


def test_arrivals_registered_after_the_limit_in_working_days_are_late(world: World) -> None:
    # Friday 2026-11-06: three working days later is Wednesday the 11th.
    _arrive(world, category="floating", arrival_date="2026-11-06", registration_date="2026-11-11")  # in time
    late = _arrive(world, category="floating", arrival_date="2026-11-06", registration_date="2026-11-12")
    never = _arrive(world, category="floating", arrival_date="2026-11-02")
    _arrive(world, category="resident", arrival_date="2026-11-02")  # not an arrival from outside the city
    result = _run(world, "residence.registered_late")
    assert {f.object_id: f.evidence["working_days"] for f in result.found} == {late: 4, never: 19}
    assert rules.ARRIVAL_LIMIT_WORKING_DAYS == kpi_rules.ARRIVAL_REGISTRATION_LIMIT_WORKING_DAYS


def _rental(world: World, *, lease_end: dt.date | None) -> tuple[int, int, int]:
    """A rental with one tenant living there: (rental id, tenant's residence id, dwelling id)."""
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        p = factories.place(s, ctx, area_id=area, district_id=world.area("420704"))
        landlord = factories.person(s, ctx, area_id=area, name="房东")
        tenant = factories.person(s, ctx, area_id=area, name="租客")
        res = factories.arrival(
            s, ctx, person_id=tenant, dwelling_id=p.dwelling_id, arrived=dt.date(2026, 3, 1)
        )
        rental = rentals.file_rental(
            s,
            ctx,
            RentalCreate(
                dwelling_id=p.dwelling_id,
                landlord_person_id=landlord,
                lease_start=dt.date(2026, 3, 1),
                lease_end=lease_end,
                agreement_signed_on=dt.date(2026, 3, 1),
                agreement_signer="房东",
            ),
        )
        rentals.attach_tenant(s, ctx, rental.entity.id, TenantIn(expected_version=1, person_id=tenant))
        return int(rental.entity.id), res, p.dwelling_id


def test_an_ended_lease_still_open_and_a_departed_tenant_still_attached_are_found(world: World) -> None:
    ended, _, ended_dwelling = _rental(world, lease_end=dt.date(2026, 10, 31))
    left, left_residence, _ = _rental(world, lease_end=dt.date(2027, 2, 28))
    _rental(world, lease_end=None)  # running, tenant living there
    with world.session() as s:
        # A departure imported from the landlord's report without a deregistration: the residence closed.
        s.execute(
            text(
                "UPDATE residence_versions SET departure_date = :d WHERE entity_id = :r AND superseded_at IS NULL"
            ),
            {"d": dt.date(2026, 11, 1), "r": left_residence},
        )
    result = _run(world, "rental.lease_ended_open", "rental.departed_tenant")
    [lease] = _by_check(result, "rental.lease_ended_open")
    assert (lease.evidence["rental_id"], lease.evidence["lease_end"], lease.object_id) == (
        ended,
        "2026-10-31",
        ended_dwelling,
    )
    [tenant] = _by_check(result, "rental.departed_tenant")
    assert tenant.evidence["rental_id"] == left
    assert set(tenant.keys) == {
        "community_code",
        "street",
        "number",
        "building",
        "unit",
        "room",
        "doc_type",
        "id_number",
    }


def test_a_foreign_guest_reported_after_24_hours_is_found_and_one_in_time_is_not(world: World) -> None:
    venue = venue_helpers.venue(world)
    posted = venue_helpers.post(
        world,
        venue,
        [
            venue_helpers.check_in(
                "late", "E12345678", NOW - dt.timedelta(hours=30), doc_type="passport", country="USA"
            ),
            venue_helpers.check_in(
                "soon", "E87654321", NOW - dt.timedelta(hours=2), doc_type="passport", country="USA"
            ),
            venue_helpers.check_in("home", factories.make_id(), NOW - dt.timedelta(hours=30)),
        ],
    )
    assert posted["accepted"] == 3, posted
    result = _run(world, "venue.foreign_guest_late")
    [found] = result.found
    assert found.keys == {
        "venue": "滨湖宾馆",
        "stay_ref": "late",
        "doc_type": "passport",
        "id_number": "E12345678",
    }
    assert found.evidence["hours_after_check_in"] == 30.0 and found.evidence["country"] == "USA"


def test_an_open_rental_in_the_register_without_an_agreement_is_found(world: World) -> None:
    with world.session() as s:
        ctx, area = world.ctx(s), world.area(INSIDE)
        p = factories.place(s, ctx, area_id=area, district_id=world.area("420704"))
        landlord = factories.person(s, ctx, area_id=area, name="房东")
        unsigned = rentals.file_rental(
            s, ctx, RentalCreate(dwelling_id=p.dwelling_id, landlord_person_id=landlord, lease_start=TODAY)
        )
    _rental(world, lease_end=None)  # signed
    result = _run(world, "rental.no_agreement")
    assert [(f.evidence["rental_id"], f.evidence["source"]) for f in result.found] == [
        (unsigned.entity.id, "register")
    ]


def test_listing_stay_findings_is_an_audited_read_and_shows_the_number_masked(world: World) -> None:
    venue = venue_helpers.venue(world)
    venue_helpers.post(
        world,
        venue,
        [
            venue_helpers.check_in(
                "late", "E12345678", NOW - dt.timedelta(hours=30), doc_type="passport", country="USA"
            )
        ],
    )
    _run(world, "venue.foreign_guest_late")
    with world.session() as s:
        before = s.execute(
            text("SELECT COUNT(*) FROM audit_log WHERE action = 'check.findings_read'")
        ).scalar_one()
        views, total = checks.list_findings(s, world.ctx(s, "police_liu"), check="venue.foreign_guest_late")
    assert total == 1 and views[0].keys["id_number"] != "E12345678"
    with world.session() as s:
        after = s.execute(
            text("SELECT COUNT(*) FROM audit_log WHERE action = 'check.findings_read'")
        ).scalar_one()
    assert after == before + 1


def test_the_register_checks_are_named_and_run_over_http(
    world: World, client: TestClient, login: Any
) -> None:
    with world.session() as s:
        bad = factories.person(s, world.ctx(s), area_id=world.area(INSIDE))
    with world.session() as s:
        number = sealed.reveal(
            s,
            DocumentVersion.number,
            s.execute(
                text(
                    "SELECT v.number FROM documents d JOIN document_versions v ON v.entity_id = d.id"
                    " WHERE d.person_id = :p"
                ),
                {"p": bad},
            ).scalar_one(),
        )
    _set_number(world, bad, _wrong_check(number))
    h = login("police_liu")
    named = {c["code"]: c for c in client.get("/checks", headers=h).json()}
    assert set(rules.CHECKS) <= set(named)
    assert named["address.number_mismatch"]["title"] == "号址不一"
    run = client.post("/checks/runs", json={"area": INSIDE, "checks": ["person.id_invalid"]}, headers=h)
    assert run.status_code == 201, run.text
    assert run.json()["per_check"] == {"person.id_invalid": 1}
    page = client.get("/checks/findings", params={"check": "person.id_invalid"}, headers=h).json()
    [item] = page["items"]
    assert item["keys"]["id_number"] != _wrong_check(number) and "*" in item["keys"]["id_number"]
    assert item["evidence"] == {"problem": "check_character"}
