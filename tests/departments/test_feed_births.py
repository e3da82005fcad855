"""Births from health (issue 15): a health office's file of newborns becomes birth proposals (the use case of
`POST /birth-proposals`) in the mother's community; bad rows are reported with all their problems, the good rows
kept (unless all-or-nothing), a re-sent file opens no second proposal, and nothing is a registry fact until the
station approves."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.audit.models import AuditEntry
from liangshi.departments import service as departments
from liangshi.errors import Forbidden, ValidationFailed
from liangshi.persons.models import PersonVersion
from liangshi.versioned import ChangeSet
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, World
from tests.departments.helpers import csv_bytes, department, person
from tests.departments.test_bulk import PRECEDENCE

HEADER = ["新生儿姓名", "性别", "出生日期", "母亲证件号码", "出生地点", "出生医学证明编号"]
PURPOSE = "出生医学证明与出生登记核对"


def _health(world: World, *, all_or_nothing: bool = False, provides: Any = None) -> None:
    department(
        world,
        "health",
        provides={"person": ["birth"]} if provides is None else provides,
        purpose=PURPOSE,
        all_or_nothing=all_or_nothing,
    )


def _mother(world: World, *, relationship: str = "02", household: bool = True) -> tuple[int, str, int | None]:
    """A mother (and her household at a dwelling inside the jurisdiction): (person id, ID number, household)."""
    pid, number = person(world, name="李娜", male=False, birth=dt.date(1994, 3, 8))
    if not household:
        return pid, number, None
    with world.session() as s:
        ctx = world.ctx(s, "city_admin_wang")
        place = factories.place(s, ctx, area_id=world.area(INSIDE), district_id=world.area("420704"))
        hid = factories.household(
            s, ctx, area_id=world.area(INSIDE), dwelling_id=place.dwelling_id, members=[(pid, relationship)]
        )
    return pid, number, hid


def _submit(
    world: World, rows: list[list[str]], user: str = "health_liaison_wang"
) -> departments.BatchResult:
    table = departments.FeedTable(
        "chusheng.csv", rows[0], [(n, r) for n, r in enumerate(rows[1:], 2)], "2" * 64
    )
    with world.session() as s:
        return departments.submit_batch(
            s, world.ctx(s, user), department="health", kind="births", table=table, precedence=PRECEDENCE
        )


def _sets(world: World) -> list[ChangeSet]:
    with world.session() as s:
        found = list(s.execute(select(ChangeSet).order_by(ChangeSet.id)).scalars())
        s.expunge_all()
        return found


def _persons(world: World) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(PersonVersion)).scalar_one())


def test_a_birth_becomes_a_proposal_in_the_mothers_community_and_a_resend_opens_none(
    world: World, client: TestClient, login: Any
) -> None:
    _health(world)
    _, number, hid = _mother(world)
    before = _persons(world)
    rows = [HEADER, ["王小雨", "女", "2026-11-20", number, "鄂州市妇幼保健院", "Q420123456"]]
    result = _submit(world, rows)
    assert (result.rows, result.matched, result.applied, result.same, result.rejected) == (1, 1, 1, 0, [])
    [cs] = _sets(world)
    assert result.proposals == [cs.id]
    assert (cs.action, cs.status, cs.summary, cs.source_kind, cs.evidence) == (
        "birth",
        "pending_station",
        "王小雨",
        "department",
        "document",
    )
    assert cs.area_id == world.area(INSIDE)  # the mother's household's community
    assert cs.document_ref == "Q420123456"
    assert json.loads(cs.payload or "{}")["birth_place"] == "鄂州市妇幼保健院"
    assert _persons(world) == before  # not a registry fact yet
    again = _submit(world, rows)
    assert (again.applied, again.same, again.proposals) == (0, 1, [])
    assert len(_sets(world)) == 1
    # The station approves it: the newborn joins the mother's household as her daughter (30).
    r = client.post(f"/change-sets/{cs.id}/approve", headers=login("station_admin_li"))
    assert r.status_code == 200, r.text
    [newborn] = r.json()["result"]["person"]
    members = client.get(f"/households/{hid}", headers=login("station_admin_li")).json()
    assert {m["person_id"]: m["relationship"] for m in members["extra"]["members"]}[newborn] == "30"
    with world.session() as s:
        row = s.execute(select(PersonVersion).where(PersonVersion.entity_id == newborn)).scalar_one()
        assert (row.source_kind, row.birth_date, row.sex) == ("department", dt.date(2026, 11, 20), "2")
        audited = s.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "department.batch")
        ).scalar_one()
        assert audited == 2


def test_bad_rows_are_reported_with_all_their_problems_and_the_good_rows_kept(world: World) -> None:
    _health(world)
    _, number, _ = _mother(world, relationship="38")  # a daughter-in-law: her son is the head's grandson
    _, homeless, _ = _mother(world, household=False)
    _, foreign = person(world, name="赵敏", male=False, area=OUTSIDE)
    result = _submit(
        world,
        [
            HEADER,
            ["王小虎", "男", "2026-11-21", number, "", ""],
            ["", "x", "2027-01-01", "", "", ""],  # four problems, all reported at once
            ["王小花", "女", "2026-11-21", factories.make_id("420704", dt.date(1980, 1, 1), 998), "", ""],
            ["王小草", "女", "2026-11-21", homeless, "", ""],
            ["王小木", "女", "2026-11-21", foreign, "", ""],  # outside the sender's jurisdiction
        ],
    )
    assert (result.applied, len(result.proposals)) == (1, 1)
    by_line: dict[int, set[tuple[str, str]]] = {}
    for p in result.rejected:
        by_line.setdefault(p.line, set()).add((p.field, p.code))
    assert by_line == {
        3: {
            ("name", "department.birth_field_required"),
            ("sex", "import.sex_invalid"),
            ("birth_date", "person.birth_in_future"),
            ("mother_id", "department.birth_field_required"),
        },
        4: {("mother_id", "department.birth_mother_unknown")},
        5: {("mother_id", "department.birth_mother_no_household")},
        6: {("mother_id", "department.birth_mother_unknown")},
    }
    [cs] = _sets(world)
    items = json.loads(cs.items)
    [membership] = [i for i in items if i["kind"] == "membership"]
    assert membership["attributes"]["relationship"] == "41"


def test_an_all_or_nothing_agreement_refuses_the_whole_file_and_writes_nothing(world: World) -> None:
    _health(world, all_or_nothing=True)
    _, number, _ = _mother(world)
    with pytest.raises(ValidationFailed) as caught:
        _submit(
            world,
            [
                HEADER,
                ["王小雨", "女", "2026-11-20", number, "", ""],
                ["王小雷", "男", "2026-11-20", "420704199001019999", "", ""],
            ],
        )
    assert caught.value.code == "department.batch_rows_invalid"
    assert [(e["line"], e["field"]) for e in caught.value.data["errors"]] == [(3, "mother_id")]
    assert _sets(world) == []


def test_an_agreement_without_births_refuses_the_file(world: World) -> None:
    _health(world, provides={"person": ["death_date"]})
    _, number, _ = _mother(world)
    with pytest.raises(Forbidden) as caught:
        _submit(world, [HEADER, ["王小雨", "女", "2026-11-20", number, "", ""]])
    assert caught.value.code == "department.kind_not_provided"
    assert _sets(world) == []


def test_an_unknown_column_refuses_the_file(world: World) -> None:
    _health(world)
    with pytest.raises(ValidationFailed) as caught:
        _submit(world, [[*HEADER, "民族"], ["王小雨", "女", "2026-11-20", "1", "", "", "汉"]])
    assert (caught.value.code, caught.value.data["field"]) == ("department.column_unknown", "民族")


def test_births_are_uploaded_over_http(world: World, client: TestClient, login: Any) -> None:
    _health(world)
    _, number, _ = _mother(world)
    content = csv_bytes(
        [HEADER, ["王小雨", "女", "2026-11-20", number, "", ""], ["", "女", "", number, "", ""]]
    )
    r = client.post(
        "/departments/health/batches",
        files={"file": ("chusheng.csv", content, "text/csv")},
        data={"kind": "births"},
        headers=login("health_liaison_wang"),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["kind"], body["applied"], len(body["proposals"])) == ("births", 1, 1)
    assert {(e["line"], e["field"]) for e in body["rejected"]} == {(3, "name"), (3, "birth_date")}
    # A collector may not send a department's batch.
    r = client.post(
        "/departments/health/batches",
        json={"kind": "births", "records": [{"新生儿姓名": "王小雨"}]},
        headers=login("collector_zhang"),
    )
    assert r.status_code == 403


def test_the_documented_sample_file_reads_without_problems() -> None:
    from pathlib import Path

    from liangshi.departments.service import feed_births

    sample = Path(__file__).resolve().parents[2] / "docs" / "samples" / "health_births.csv"
    rows, problems = feed_births.read_rows(departments.table_from_file(sample), dt.date(2026, 11, 27))
    assert problems == []
    assert [(r.name, r.sex, r.birth_date, r.place) for r in rows] == [
        ("王小雨", "2", dt.date(2026, 11, 20), "鄂州市妇幼保健院")
    ]
