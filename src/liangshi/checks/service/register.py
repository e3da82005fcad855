"""The checks within the register: their SQL (`checks.sql_register`) run over the scope, rows turned into findings.

`RUNNERS` is every check's runner taking (session, prefix) — those of `found` and these; `DATED_RUNNERS` take the
run's day as well (stays past their end, late arrivals, ended leases).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from liangshi.addresses.rules import render_plate_number
from liangshi.checks import rules
from liangshi.checks import sql_register as sq
from liangshi.checks.service import found
from liangshi.checks.service.found import (
    _dwelling_keys,
    _person_keys,
    _plate_keys,
    _rows,
    opened,
    register_rows,
)
from liangshi.checks.service.scope import Found
from liangshi.mpi.models import PersonSourceRecord
from liangshi.persons.models import DocumentVersion
from liangshi.residence import calendar
from liangshi.sealed import reveal
from liangshi.venues.models import Stay


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _today(session: Session, today: dt.date) -> dt.date | str:
    # SQLite keeps dates as ISO text and compares them as text; PostgreSQL casts the bound value.
    return today if _dialect(session) == "postgresql" else today.isoformat()


def _plate(check: str, r: Any, evidence: dict[str, Any], kind: str = "address") -> Found:
    return Found(check, kind, r.object_id, r.area_id, r.county_code, _plate_keys(r), evidence)


# -- plates, buildings, addresses ------------------------------------------------------------------------------


def _duplicate_number(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sq.PLATE_DUPLICATE_NUMBER, prefix):
        yield _plate("plate.duplicate_number", r, {"plates": int(r.plates)})


def _one_number_many(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sq.ONE_NUMBER_MANY_PLACES, prefix):
        yield _plate("address.one_number_many_places", r, {"communities": int(r.places), "status": r.status})


def _many_numbers_one(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sq.MANY_NUMBERS_ONE_PLACE, prefix):
        yield _plate(
            "address.many_numbers_one_place",
            r,
            {"plates_at_point": int(r.plates), "lon": r.lon, "lat": r.lat},
        )


def _without_building(session: Session, prefix: str, named: bool) -> Iterable[Found]:
    code = "plate.no_building" if named else "address.number_without_place"
    for r in _rows(session, sq.PLATE_WITHOUT_BUILDING, prefix):
        if bool(r.named) == named:
            yield _plate(code, r, {"status": r.status, "named_by_housing": named})


def _building_keys(r: Any) -> dict[str, str]:
    number = "" if r.base_number is None else found._number(r)
    return {**_plate_keys(r, number), "building": str(r.building or "")}


def _buildings(session: Session, prefix: str, statement: str, code: str) -> Iterable[Found]:
    for r in _rows(session, statement, prefix):
        yield Found(
            code,
            "building",
            r.object_id,
            r.area_id,
            r.county_code,
            _building_keys(r),
            {"plate_status": r.status, "inhabited_dwellings": int(r.inhabited_dwellings)},
        )


def _without_nested_loops(session: Session, statement: str, prefix: str) -> Sequence[Any]:
    """Run a statement with PostgreSQL's planner told to avoid nested loops, then restore the setting.

    For 号址不一 the planner estimates one row out of the grouped dwellings and loops over tens of thousands
    (3.9 s at 30,000 persons; 0.34 s with hash joins). Only here: a check with a correlated subquery gets slower
    without nested loops. SET LOCAL ends with the transaction whatever happens.
    """
    if _dialect(session) != "postgresql":
        return _rows(session, statement, prefix)
    before = str(session.execute(text("SHOW enable_nestloop")).scalar_one())
    session.execute(text("SET LOCAL enable_nestloop = off"))
    try:
        return _rows(session, statement, prefix)
    finally:
        session.execute(text(f"SET LOCAL enable_nestloop = {'on' if before == 'on' else 'off'}"))


def _number_mismatch(session: Session, prefix: str) -> Iterable[Found]:
    for r in _without_nested_loops(session, sq.NUMBER_MISMATCH, prefix):
        register_number = render_plate_number(int(r.register_base), r.register_sub, r.style or "dash")
        yield Found(
            "address.number_mismatch",
            "dwelling",
            None,
            r.area_id,
            r.county_code,
            _dwelling_keys(r, str(r.number_text)),
            {"register_number": register_number, "source": r.source, "line": r.line},
        )


# -- dwellings and households ----------------------------------------------------------------------------------


def _vacant_with_residents(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sq.DWELLING_VACANT_WITH_RESIDENTS, prefix):
        yield Found(
            "dwelling.vacant_with_residents",
            "dwelling",
            r.object_id,
            r.area_id,
            r.county_code,
            _dwelling_keys(r),
            {"status": r.status, "open_residences": int(r.open_residences)},
        )


def _household_count(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sq.HOUSEHOLD_MEMBER_COUNT, prefix):
        yield Found(
            "household.member_count_mismatch",
            "household",
            r.household_id,
            r.area_id,
            r.county_code,
            {**_dwelling_keys(r), "household_number": str(r.household_number or "")},
            {
                "members": int(r.members),
                "members_living_there": int(r.living_members),
                "living_there_outside_it": int(r.living_outside),
                "households_at_dwelling": int(r.households),
            },
        )


# -- persons ---------------------------------------------------------------------------------------------------


def _duplicates(session: Session, prefix: str) -> Iterable[Found]:
    """`person.duplicate`: department records (found's rule), persons held twice in the register, and records
    waiting twice in the person index's review queue."""
    yield from found._duplicate(session, prefix)
    for r in _twins_in_register(session, prefix):
        yield Found(
            "person.duplicate",
            "person",
            r.object_id,
            r.area_id,
            r.county_code,
            {**_person_keys(r.doc_type, r.id_number), "source": "register"},
            {"source": "register", "same_person_as": int(r.twin), "rule": r.rule},
        )
    for r in _waiting_twice(session, prefix):
        yield Found(
            "person.duplicate",
            "person",
            None,
            r.area_id,
            r.county_code,
            {**_person_keys("resident_id", r.id_number), "source": str(r.source)},
            {
                "source": r.source,
                "queue": "mpi_review",
                "record": r.source_record_id,
                "name": r.name,
                "waits_with_record": int(r.twin),
                "rule": r.rule,
            },
        )


def _twins_in_register(session: Session, prefix: str) -> list[Any]:
    """Persons held twice in the register (`sql_register.PERSON_SAME_NUMBER`, `PERSON_NAMESAKES`): per person and
    document the first twin and the first rule, as SQL's MIN over both. The numbers are sealed: one number is one
    keyed-hash index entry; the typo, one character apart, is counted on the opened numbers of the namesakes."""
    numbers = {"id_number": DocumentVersion.number, "twin_number": DocumentVersion.number}
    pairs = [(r, "same_number") for r in register_rows(session, sq.PERSON_SAME_NUMBER, prefix)]
    for r in opened(session, _rows(session, sq.PERSON_NAMESAKES, prefix), **numbers):
        if rules.one_typo_apart(r.id_number, r.twin_number):
            pairs.append((r, "one_typo"))
    twins: dict[tuple[int, str, str], Any] = {}
    for r, rule in pairs:
        key = (int(r.object_id), str(r.doc_type), str(r.id_number))
        first = twins.get(key)
        if first is None:
            twins[key] = SimpleNamespace(**{**vars(r), "rule": rule})
        else:
            first.twin, first.rule = min(first.twin, r.twin), min(first.rule, rule)
    return [twins[k] for k in sorted(twins)]


def _waiting_twice(session: Session, prefix: str) -> list[Any]:
    """Records waiting twice in the person index's review queue (`sql_register.WAITING_SAME_NUMBER`): per record
    the first twin and the first rule, as SQL's MIN over both."""
    numbers = {"id_number": PersonSourceRecord.id_number, "twin_number": PersonSourceRecord.id_number}
    pairs = [
        (r, "same_number") for r in opened(session, _rows(session, sq.WAITING_SAME_NUMBER, prefix), **numbers)
    ]
    for r in opened(session, _rows(session, sq.WAITING_SAME_NAME_BIRTH, prefix), **numbers):
        if rules.one_typo_apart(r.id_number, r.twin_number):
            pairs.append((r, "one_typo"))
    waiting: dict[int, Any] = {}
    for r, rule in pairs:
        first = waiting.get(int(r.object_id))
        if first is None:
            waiting[int(r.object_id)] = SimpleNamespace(**{**vars(r), "rule": rule})
        else:
            first.twin, first.rule = min(first.twin, r.twin), min(first.rule, rule)
    return [waiting[k] for k in sorted(waiting)]


def _id_rows(session: Session, prefix: str) -> Iterable[Any]:
    """Every current ID-number document of the scope with what is wrong with it (`problem`: format, check
    character, birth segment) and, on a sound number, whether the person's sex or birth date disagrees with it
    (`sex_differs`, `birth_differs`). The numbers are sealed: SQL reads the documents, the opened numbers are
    judged here (`rules.register_id_problem`)."""
    for r in register_rows(session, sq.ID_DOCUMENTS, prefix):
        number = r.id_number
        if r.doc_type == "foreign_pr_card" and len(number) != 18:
            # A permanent residence card of before 2023 is 15 characters (three letters, twelve digits).
            continue
        born = dt.date.fromisoformat(r.birth_date) if isinstance(r.birth_date, str) else r.birth_date
        r.problem = rules.register_id_problem(number)
        sound = r.problem != "format"  # 17 digits and a digit or X
        r.sex_differs = int(sound and r.sex in ("1", "2") and (number[16] in "13579") != (r.sex == "1"))
        r.birth_differs = int(
            len(number) == 18 and born is not None and number[6:14] != born.strftime("%Y%m%d")
        )
        if r.problem is not None or r.sex_differs or r.birth_differs:
            yield r


def _source_ids(session: Session, prefix: str) -> Iterable[tuple[Any, str | None, list[str]]]:
    """Each ID number of the department files held for checking, with its problem and what disagrees with it."""
    for r in found.source_numbers(session, sq.SOURCE_ID_NUMBERS, prefix):
        if not r.id_norm:
            continue
        number = str(r.id_norm)
        # SQLite hands a date column back as text through raw SQL, PostgreSQL as a date.
        born = dt.date.fromisoformat(r.birth_date) if isinstance(r.birth_date, str) else r.birth_date
        problem = rules.id_problem(number)
        yield r, problem, [] if problem else rules.id_disagreement(number, r.sex, born)


def _source_keys(r: Any) -> dict[str, str]:
    # A record in a department file is known by the number as that file wrote it, and the file.
    return {**_person_keys(r.doc_type or "resident_id", r.id_number), "source": str(r.source)}


def _id_invalid(session: Session, prefix: str) -> Iterable[Found]:
    for r, problem, _ in _source_ids(session, prefix):
        if problem is not None:
            yield Found(
                "person.id_invalid",
                "person",
                None,
                r.area_id,
                r.county_code,
                _source_keys(r),
                {"problem": problem, "source": r.source, "line": r.line},
            )
    for r in _id_rows(session, prefix):
        if r.problem is not None:
            yield Found(
                "person.id_invalid",
                "person",
                r.object_id,
                r.area_id,
                r.county_code,
                _person_keys(r.doc_type, r.id_number),
                {"problem": r.problem},
            )


def _id_disagrees(session: Session, prefix: str) -> Iterable[Found]:
    for r, _, differs in _source_ids(session, prefix):
        if differs:
            yield Found(
                "person.id_disagrees",
                "person",
                None,
                r.area_id,
                r.county_code,
                _source_keys(r),
                {
                    "differs": differs,
                    "sex": r.sex,
                    "birth_date": str(r.birth_date) if r.birth_date else None,
                    "source": r.source,
                    "line": r.line,
                },
            )
    for r in _id_rows(session, prefix):
        if r.problem is None and (r.sex_differs or r.birth_differs):
            differs = [f for f, bad in (("sex", r.sex_differs), ("birth_date", r.birth_differs)) if bad]
            yield Found(
                "person.id_disagrees",
                "person",
                r.object_id,
                r.area_id,
                r.county_code,
                _person_keys(r.doc_type, r.id_number),
                {"differs": differs, "sex": r.sex, "birth_date": str(r.birth_date) if r.birth_date else None},
            )


MAIN_ITEMS = ("name", "sex", "birth_date", "document", "ethnicity", "hukou", "relationship")


def _main_items(session: Session, prefix: str) -> Iterable[Found]:
    for r in register_rows(session, sq.MAIN_ITEMS_MISSING, prefix):
        missing = [item for item in MAIN_ITEMS if getattr(r, f"no_{item}")]
        keys = _person_keys(r.doc_type, r.id_number)
        if r.id_number is None:
            # Without a document the person is known by name and where they live.
            keys |= {"name": str(r.name or "")}
            if r.base_number is not None:
                keys |= _dwelling_keys(r)
        yield Found(
            "person.main_items_missing",
            "person",
            r.object_id,
            r.area_id,
            r.county_code,
            keys,
            {"missing": missing},
        )


# -- residences, rentals, stays (dated) ------------------------------------------------------------------------


def _residence_found(code: str, r: Any, evidence: dict[str, Any]) -> Found:
    return Found(
        code,
        "residence",
        r.object_id,
        r.area_id,
        r.county_code,
        _person_keys(r.doc_type, r.id_number),
        {"dwelling": _dwelling_keys(r), "category": r.category, **evidence},
    )


def _stay_expired(session: Session, prefix: str, today: dt.date) -> Iterable[Found]:
    statement = sq.stay_expired(_dialect(session))
    for r in register_rows(session, statement, prefix, today=_today(session, today)):
        until = dt.date.fromisoformat(str(r.intended_stay_until))
        yield _residence_found(
            "residence.stay_expired",
            r,
            {"intended_stay_until": until.isoformat(), "days_over": (today - until).days},
        )


def _registered_late(session: Session, prefix: str, today: dt.date) -> Iterable[Found]:
    cal = calendar.default_calendar()
    limit = rules.ARRIVAL_LIMIT_WORKING_DAYS
    statement = sq.registered_late_candidates(_dialect(session))
    for r in register_rows(session, statement, prefix, today=_today(session, today), limit=limit):
        arrived = dt.date.fromisoformat(str(r.arrival_date))
        registered = dt.date.fromisoformat(str(r.registration_date)) if r.registration_date else None
        late = calendar.lateness(arrived, registered or today, cal)
        if late <= limit:
            continue
        yield _residence_found(
            "residence.registered_late",
            r,
            {
                "arrival_date": arrived.isoformat(),
                "registration_date": registered.isoformat() if registered else None,
                "working_days": late,
                "limit_working_days": limit,
            },
        )


def _lease_ended(session: Session, prefix: str, today: dt.date) -> Iterable[Found]:
    statement = sq.lease_ended_open(_dialect(session))
    for r in register_rows(session, statement, prefix, today=_today(session, today)):
        yield Found(
            "rental.lease_ended_open",
            "dwelling",
            r.object_id,
            r.area_id,
            r.county_code,
            _dwelling_keys(r),
            {
                "rental_id": r.rental_id,
                "lease_end": str(r.lease_end),
                "landlord_id_number": r.landlord_id_number,
            },
        )


def _departed_tenant(session: Session, prefix: str) -> Iterable[Found]:
    for r in register_rows(session, sq.DEPARTED_TENANT, prefix):
        yield Found(
            "rental.departed_tenant",
            "dwelling",
            r.object_id,
            r.area_id,
            r.county_code,
            {**_dwelling_keys(r), **_person_keys(r.doc_type, r.id_number)},
            {"rental_id": r.rental_id, "tenant_person_id": r.person_id},
        )


def _correction_departed(session: Session, prefix: str, today: dt.date) -> Iterable[Found]:
    for r in register_rows(session, sq.CORRECTION_PERSON_DEPARTED, prefix, today=_today(session, today)):
        yield Found(
            "correction.person_departed",
            "person",
            r.object_id,
            r.area_id,
            r.county_code,
            _person_keys(r.doc_type, r.id_number),
            {
                "community_code": r.community_code,
                "department": r.department,
                "case_id": r.case_id,
                "left_on": None if r.left_on is None else str(r.left_on),
            },
        )


def _foreign_late(session: Session, prefix: str) -> Iterable[Found]:
    for r in _rows(session, sq.FOREIGN_GUEST_LATE, prefix):
        check_in = (
            r.check_in_at
            if isinstance(r.check_in_at, dt.datetime)
            else dt.datetime.fromisoformat(r.check_in_at)
        )
        received = (
            r.received_at
            if isinstance(r.received_at, dt.datetime)
            else dt.datetime.fromisoformat(r.received_at)
        )
        yield Found(
            "venue.foreign_guest_late",
            "stay",
            r.object_id,
            r.area_id,
            r.county_code,
            {
                "venue": str(r.venue),
                "stay_ref": str(r.stay_ref),
                **_person_keys(r.doc_type, reveal(session, Stay.doc_number, r.doc_number)),
            },
            {
                "country": r.doc_country,
                "check_in_at": str(r.check_in_at),
                "received_at": str(r.received_at),
                "hours_after_check_in": round((received - check_in).total_seconds() / 3600, 1),
            },
        )


Runner = Callable[[Session, str], Iterable[Found]]
RUNNERS: dict[str, Runner] = {
    **found.RUNNERS,
    "person.duplicate": _duplicates,
    "plate.duplicate_number": _duplicate_number,
    "address.one_number_many_places": _one_number_many,
    "address.many_numbers_one_place": _many_numbers_one,
    "plate.no_building": lambda s, p: _without_building(s, p, True),
    "address.number_without_place": lambda s, p: _without_building(s, p, False),
    "building.no_installed_plate": lambda s, p: _buildings(
        s, p, sq.BUILDING_NO_INSTALLED_PLATE, "building.no_installed_plate"
    ),
    "address.no_plate": lambda s, p: _buildings(s, p, sq.ADDRESS_WITHOUT_PLATE, "address.no_plate"),
    "address.number_mismatch": _number_mismatch,
    "dwelling.vacant_with_residents": _vacant_with_residents,
    "household.member_count_mismatch": _household_count,
    "person.id_invalid": _id_invalid,
    "person.id_disagrees": _id_disagrees,
    "person.main_items_missing": _main_items,
    "rental.departed_tenant": _departed_tenant,
    "venue.foreign_guest_late": _foreign_late,
}
DATED_RUNNERS: dict[str, Callable[[Session, str, dt.date], Iterable[Found]]] = {
    "residence.stay_expired": _stay_expired,
    "residence.registered_late": _registered_late,
    "rental.lease_ended_open": _lease_ended,
    "correction.person_departed": _correction_departed,
}
