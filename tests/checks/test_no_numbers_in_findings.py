"""No ID or phone number in clear in the checks' findings, the person index's reviews and merge events, or the
audit log (issue 18): a small synthetic city (`liangshi synth`) with every check run over it, a department batch
resolved by the master person index, a linkage run over the register (`link persons`), a review decided (a merge)
and a finding dismissed; then every stored byte of those tables is searched for every ID and phone number of the
city (the register's, its department files', the batch's), as written and in lower case. The scan is shown to
have something to find: the findings' keys and evidence, read through the model, do name those numbers."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from scripts.bench_truth import SOURCES
from sqlalchemy import select
from sqlalchemy.engine import Engine

from liangshi import sealed
from liangshi.access.service import SYSTEM
from liangshi.checks import service as checks
from liangshi.checks.models import Finding
from liangshi.mpi import service as mpi
from liangshi.mpi.models import MatchReview
from liangshi.persons.models import Document, DocumentVersion, Person, PersonVersion
from liangshi.synth import DefectRates, write_city
from liangshi.synth.load import load_city
from tests.audit.test_no_numbers_in_logs import _table_bytes
from tests.conftest import World
from tests.departments.helpers import department
from tests.mpi.helpers import bare_person

TODAY = dt.date(2026, 11, 27)  # the test clock's day
RATES = DefectRates(
    plate_not_installed=0.05,
    plate_missing=0.03,
    plate_wrong_side=0.1,
    plate_out_of_order=0.1,
    duplicate_person=0.1,
    not_deregistered=0.1,
    tenant_unregistered=0.1,
    rental_no_agreement=0.1,
    vacant_recorded_occupied=0.1,
)
# The work items (the findings, the rectifications), the person index's reviews and events, and the audit log.
SCANNED = (
    "check_findings",
    "check_runs",
    "inspection_rectifications",
    "match_reviews",
    "person_link_events",
    "audit_log",
    "audit_tree_nodes",
)
# An ID number (18 characters, the last a digit or X) or a mobile number, in ASCII or full-width characters, as
# the city's files may write them.
_DIGIT = "[0-9０-９]"
NUMBER = re.compile(
    f"(?<![0-9０-９]){_DIGIT}{{17}}[0-9Xx０-９ＸｘX]|(?<![0-9０-９])1{_DIGIT}{{10}}(?![0-9０-９])"
)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("city18")
    write_city(out, persons=600, seed=18, today=TODAY, rates=RATES)
    return out


def _files_numbers(city: Path) -> set[str]:
    return {m.group(0) for path in city.rglob("*.csv") for m in NUMBER.finditer(path.read_text("utf-8"))}


def _register_numbers(world: World) -> set[str]:
    with world.session() as s:
        numbers = {str(n) for n in s.execute(select(DocumentVersion.number)).scalars() if n}
        phones = {str(p) for p in s.execute(select(PersonVersion.phone)).scalars() if p}
    # A phone is stored in E.164 (+86…): the national form is what a leak would show too.
    return numbers | phones | {p.removeprefix("+86") for p in phones}


def _use(world: World, client: TestClient, login: Any, city: Path) -> None:
    """Every check, an MPI batch, a linkage run, a decided review and a dismissed finding."""
    load_city(world.sessions, city, actor=SYSTEM, clock=world.clock)
    with world.session() as s:
        for stem, kind in SOURCES:
            held = checks.load_source(s, world.ctx(s), source=stem, kind=kind, path=city / f"{stem}.csv")
            assert held.kept > 0, held.problems
    with world.session() as s:
        result = checks.run_checks(s, world.ctx(s))
    assert result.found
    with world.session() as s:
        documents = list(
            s.execute(
                select(DocumentVersion.number).where(DocumentVersion.superseded_at.is_(None)).limit(3)
            ).scalars()
        )
    department(world)
    known, other, third = documents
    mistyped = other[:-1] + ("0" if other[-1] != "0" else "1")
    batch = client.post(
        "/departments/health/batches",
        json={
            "kind": "persons",
            "records": [
                {"id_number": known, "phone": "13987654321"},
                {"id_number": mistyped, "phone": "13600001111"},
                {"id_number": third.lower(), "phone": "13711112222"},
            ],
        },
        headers=login("health_liaison_wang"),
    )
    assert batch.status_code == 201, batch.text
    with world.session() as s:
        # A person held twice in the register: the holder of `known` again, without a document.
        twin = s.execute(
            select(PersonVersion.name, PersonVersion.sex, PersonVersion.birth_date, Person.area_id)
            .join(Person, Person.id == PersonVersion.entity_id)
            .join(Document, Document.person_id == Person.id)
            .join(DocumentVersion, DocumentVersion.entity_id == Document.id)
            .where(
                DocumentVersion.number_idx == sealed.key_for(s, DocumentVersion.number, known),
                DocumentVersion.superseded_at.is_(None),
                PersonVersion.superseded_at.is_(None),
            )
        ).first()
        assert twin is not None
        ctx = world.ctx(s, "city_admin_wang")
        bare_person(
            s, ctx, area_id=twin.area_id, name=twin.name, male=twin.sex == "1", birth=str(twin.birth_date)
        )
    with world.session() as s:
        report = mpi.link_persons(s, world.ctx(s, "city_admin_wang"))
    assert report.queued >= 1
    with world.session() as s:
        pending = s.execute(
            select(MatchReview.id).where(
                MatchReview.status == "pending", MatchReview.left_person_id.is_not(None)
            )
        ).scalars()
        review_id = next(iter(pending))
    with world.session() as s:
        mpi.decide(s, world.ctx(s, "city_admin_wang"), review_id, decision="same", reason="同一人，核实无误")
    with world.session() as s:
        first = s.execute(select(Finding.id).where(Finding.status == "open").order_by(Finding.id)).scalar()
        assert first is not None
        checks.dismiss_finding(s, world.ctx(s), first, reason="现场核实无误")
    with world.session() as s:
        checks.run_checks(
            s, world.ctx(s)
        )  # a re-run: what was dismissed stays so, matched by its fingerprint
        assert s.get(Finding, first).status == "dismissed"  # type: ignore[union-attr]


def test_no_id_or_phone_number_in_clear_in_the_findings_the_reviews_the_events_or_the_audit_log(
    world: World, engine: Engine, client: TestClient, login: Any, city: Path
) -> None:
    _use(world, client, login, city)
    numbers = _files_numbers(city) | _register_numbers(world)
    numbers |= {"13987654321", "13600001111", "13711112222"}
    numbers |= {n.lower() for n in numbers}
    stored = {table: _table_bytes(engine, table) for table in SCANNED}
    for table in ("check_findings", "match_reviews", "person_link_events", "audit_log"):
        assert stored[table], f"{table} is empty: the scan would prove nothing"
    # The findings do name the city's numbers (read through the model): the scan has something to find.
    with world.session() as s:
        named = {
            n
            for f in s.execute(select(Finding)).scalars()
            for n in NUMBER.findall(f.keys + f.evidence)
            if n in numbers
        }
    assert len(named) > 10
    leaks = {(table, n) for table, data in stored.items() for n in numbers if n.encode() in data}
    per_table = Counter(table for table, _ in leaks)
    assert leaks == set(), f"numbers in clear per table: {dict(per_table)}; first: {sorted(leaks)[:5]}"
