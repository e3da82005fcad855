"""Department feeds as departments send them (issue 15): a bad row is reported with all its problems and the good
rows are kept unless the agreement says all-or-nothing; the 管辖社区 column names where a new person is held."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi import sealed
from liangshi.departments import service as departments
from liangshi.departments.models import DepartmentBatch
from liangshi.errors import ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Document, DocumentVersion, Person
from liangshi.registry import history
from liangshi.review import service as review
from tests import factories
from tests.conftest import INSIDE, World
from tests.departments.helpers import counts, csv_bytes, department, person
from tests.departments.test_bulk import PRECEDENCE

BIRTH_PROVIDES = {"person": ["name", "sex", "birth_date", "phone", "occupation", "ethnicity"]}


def _submit(world: World, rows: list[list[str]]) -> departments.BatchResult:
    table = departments.FeedTable("feed.csv", rows[0], [(n, r) for n, r in enumerate(rows[1:], 2)], "0" * 64)
    with world.session() as s:
        return departments.submit_batch(
            s,
            world.ctx(s, "health_liaison_wang"),
            department="health",
            kind="persons",
            table=table,
            precedence=PRECEDENCE,
        )


def test_a_bad_row_is_reported_with_all_its_problems_and_the_good_rows_are_kept(world: World) -> None:
    department(world, provides=BIRTH_PROVIDES)
    good_id, good = person(world, occupation=None)
    bad_pid, bad = person(world, name="李娜", male=False, occupation=None)
    result = _submit(
        world,
        [
            ["证件号码", "职业", "出生日期", "联系电话", "民族"],
            [good, "护士", "", "", ""],
            # Three problems on one row: a phone that is none, a birth date its own ID number contradicts, an
            # ethnicity code that does not exist — all reported at once, not one per attempt.
            [bad, "医生", "1991-02-03", "not-a-phone", "99"],
            ["110105194912310022", "教师", "", "", ""],  # a wrong check character
        ],
    )
    assert result.rows == 1 and result.applied == 1
    by_line: dict[int, set[tuple[str, str]]] = {}
    for p in result.rejected:
        by_line.setdefault(p.line, set()).add((p.field, p.code))
    assert set(by_line) == {3, 4}
    assert {f for f, _ in by_line[3]} == {"phone", "birth_date", "ethnicity"}
    assert ("birth_date", "person.birth_date_mismatch") in by_line[3]
    assert [f for f, _ in by_line[4]] == ["id_number"]
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, good_id).occupation == "护士"
        assert history.open_row(s, persons.PERSON, bad_pid).occupation is None
        batch = s.get(DepartmentBatch, result.batch_id)
        assert batch is not None and (batch.rows_total, batch.rows_rejected) == (1, 2)


def test_an_all_or_nothing_agreement_refuses_the_batch_naming_every_problem(world: World) -> None:
    department(world, provides=BIRTH_PROVIDES, all_or_nothing=True)
    _, good = person(world, occupation=None)
    _, bad = person(world, name="李娜", male=False, occupation=None)
    before = counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _submit(
            world,
            [
                ["证件号码", "职业", "出生日期", "联系电话"],
                [good, "护士", "", ""],
                [bad, "医生", "1991-02-03", "not-a-phone"],
            ],
        )
    assert exc.value.code == "department.batch_rows_invalid"
    assert {(e["line"], e["field"]) for e in exc.value.data["errors"]} == {(3, "birth_date"), (3, "phone")}
    assert counts(world) == before


def test_a_birth_is_held_in_the_community_its_row_names(world: World) -> None:
    department(world, provides=BIRTH_PROVIDES)
    born = dt.date(2026, 3, 4)
    baby = factories.make_id("420704", born, 101)
    other = factories.make_id("420704", born, 202)
    result = _submit(
        world,
        [
            ["证件号码", "姓名", "性别", "出生日期", "管辖社区"],
            [baby, "王小明", "1", born.isoformat(), INSIDE],
            [other, "王小红", "2", born.isoformat(), "420102001001"],  # not in the liaison's jurisdiction
        ],
    )
    # Issue 14: a record that is nobody known waits for its community's claim (认领) instead of becoming a person
    # at once; issue 15: that community is the one its row names (管辖社区). This test asserted `created == 1`.
    assert (result.created, result.claims, result.rows) == (0, 1, 1)
    assert [(p.line, p.field, p.code) for p in result.rejected] == [
        (3, "community_code", "department.community_unknown")
    ]
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")  # the community officer of INSIDE sees the claim on their desk
        [waiting] = review.claim_desk(s, ctx)
        assert waiting.area_id == world.area(INSIDE) and waiting.summary == "王小明"
        review.claim(s, ctx, waiting.id, "claimed")
    with world.session() as s:
        held = s.execute(
            select(Person.area_id)
            .join(Document, Document.person_id == Person.id)
            .join(DocumentVersion, DocumentVersion.entity_id == Document.id)
            .where(
                DocumentVersion.number_idx.in_(
                    list(sealed.keys_for(s, DocumentVersion.number, [baby, other]))
                )
            )
        ).scalars()
        assert list(held) == [world.area(INSIDE)]


def test_the_rejected_rows_come_back_over_http(world: World, client: TestClient, login: Any) -> None:
    department(world)
    _, number = person(world)
    wrong = number[:-1] + ("1" if number[-1] != "1" else "2")  # a check character that is not its own
    content = csv_bytes([["证件号码", "联系电话"], [number, "13812345678"], [wrong, "x"]])
    r = client.post(
        "/departments/health/batches",
        files={"file": ("feed.csv", content, "text/csv")},
        data={"kind": "persons"},
        headers=login("health_liaison_wang"),
    )
    assert r.status_code in (200, 201), r.text
    body = r.json()
    assert body["rows"] == 1 and body["applied"] == 1
    assert {(e["line"], e["field"]) for e in body["rejected"]} == {(3, "id_number"), (3, "phone")}
