"""Community-correction cases from justice (issue 15, point 4): a judicial office's file of cases (管制, 缓刑, 假释,
暂予监外执行) is kept beside the register's persons, matched by document number; a bad row is reported with line,
field and code and the good rows kept; a number nobody holds is a row problem, not a new person; a re-sent file
changes nothing and a later row for the same case versions it. Only the community police, the station and the
justice liaison read the cases (`GET /persons/{id}/corrections`), inside their jurisdiction, every read audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.access import service as access
from liangshi.access.service import SYSTEM
from liangshi.audit.models import AuditEntry
from liangshi.departments import service as departments
from liangshi.departments.models import CorrectionCase
from liangshi.errors import Forbidden, ValidationFailed
from liangshi.persons.models import PersonVersion
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, PASSWORD, World
from tests.departments.helpers import department, person
from tests.departments.test_bulk import PRECEDENCE

HEADER = [
    "证件类型",
    "证件号码",
    "姓名",
    "矫正类别",
    "矫正开始日期",
    "矫正结束日期",
    "负责司法所",
    "管辖社区",
]
OFFICE = "鄂城区凤凰司法所"
LIAISON = "justice_liaison_wu"
# The roles that do not handle community corrections (403), and those that do.
REFUSED = (
    "collector_zhang",
    "housing_officer_he",
    "inspector_zhao",
    "auditor_sun",
    "health_liaison_wang",
    "district_admin_chen",
    "city_admin_wang",
)
ALLOWED = ("police_liu", "station_admin_li", LIAISON)


def justice(world: World, *, all_or_nothing: bool = False, provides: Any = None) -> None:
    """The justice department, its agreement and its liaison (district 420704)."""
    department(
        world,
        "justice",
        reads={"person": ["name"]},
        provides={"person": ["correction"]} if provides is None else provides,
        purpose="社区矫正对象与人口登记核对",
        all_or_nothing=all_or_nothing,
    )
    with world.session() as s:
        user = access.create_user(
            s,
            username=LIAISON,
            display_name=LIAISON,
            password=PASSWORD,
            role="department_liaison",
            area_code="420704",
            department="justice",
            actor=SYSTEM,
            now=world.clock.now(),
        )
        s.flush()
        world.users[LIAISON] = user.id


def submit(world: World, rows: list[list[str]], user: str = LIAISON) -> departments.BatchResult:
    table = departments.FeedTable("jz.csv", rows[0], [(n, r) for n, r in enumerate(rows[1:], 2)], "3" * 64)
    with world.session() as s:
        return departments.submit_batch(
            s,
            world.ctx(s, user),
            department="justice",
            kind="corrections",
            table=table,
            precedence=PRECEDENCE,
        )


def row(number: str, kind: str = "缓刑", start: str = "2026-03-01", end: str = "2027-02-28") -> list[str]:
    return ["居民身份证", number, "张伟", kind, start, end, OFFICE, INSIDE]


def _cases(world: World) -> list[tuple[int, str, dt.date, dt.date | None, bool]]:
    with world.session() as s:
        return [
            (c.person_id, c.case_kind, c.start_date, c.end_date, c.superseded_at is None)
            for c in s.execute(select(CorrectionCase).order_by(CorrectionCase.id)).scalars()
        ]


def _persons(world: World) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(PersonVersion)).scalar_one())


def test_cases_are_kept_beside_their_persons_a_resend_changes_nothing_and_a_later_row_versions_the_case(
    world: World,
) -> None:
    justice(world)
    pid, number = person(world)
    other, second = person(world, name="李娜", male=False, birth=dt.date(1988, 6, 1))
    rows = [HEADER, row(number), row(second, kind="4", start="2026-05-10", end="")]
    result = submit(world, rows)
    assert (result.kind, result.rows, result.matched, result.applied, result.same, result.rejected) == (
        "corrections",
        2,
        2,
        2,
        0,
        [],
    )
    assert _cases(world) == [
        (pid, "2", dt.date(2026, 3, 1), dt.date(2027, 2, 28), True),
        (other, "4", dt.date(2026, 5, 10), None, True),
    ]
    again = submit(world, rows)
    assert (again.applied, again.same) == (0, 2)
    assert len(_cases(world)) == 2
    # A later file extends the probation: the case is versioned, the former row kept as history.
    later = submit(world, [HEADER, row(number, end="2027-08-31")])
    assert (later.applied, later.same) == (1, 0)
    assert _cases(world) == [
        (pid, "2", dt.date(2026, 3, 1), dt.date(2027, 2, 28), False),
        (other, "4", dt.date(2026, 5, 10), None, True),
        (pid, "2", dt.date(2026, 3, 1), dt.date(2027, 8, 31), True),
    ]
    with world.session() as s:
        audited = s.execute(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "department.batch")
        ).scalar_one()
        assert audited == 3


def test_a_bad_row_is_reported_with_line_field_and_code_an_unknown_person_too_and_the_good_rows_kept(
    world: World,
) -> None:
    justice(world)
    pid, number = person(world)
    unknown = factories.make_id("420704", dt.date(1975, 2, 2), 391)
    before = _persons(world)
    rows = [
        HEADER,
        row(number, kind="管制"),
        ["居民身份证", "420704199001011230", "王五", "劳教", "2026-13-01", "2026-01-01", OFFICE, "4207"],
        row(unknown),
        row(number, kind="假释", start="2026-06-01", end="2026-05-01"),
    ]
    result = submit(world, rows)
    assert (result.rows, result.applied) == (1, 1)
    found = {(p.line, p.field, p.code) for p in result.rejected}
    assert (3, "case_kind", "department.correction_kind_unknown") in found
    assert (3, "community_code", "department.community_unknown") in found
    assert any(line == 3 and f == "id_number" for line, f, _ in found)  # the check digit is wrong
    assert any(line == 3 and f == "start_date" for line, f, _ in found)
    assert (4, "id_number", "department.correction_person_unknown") in found
    assert (5, "end_date", "department.correction_end_before_start") in found
    assert _cases(world) == [(pid, "1", dt.date(2026, 3, 1), dt.date(2027, 2, 28), True)]
    assert _persons(world) == before  # an unmatched person is no new person


def test_all_or_nothing_refuses_the_batch_and_an_agreement_without_corrections_refuses_it(
    world: World,
) -> None:
    justice(world, all_or_nothing=True)
    _, number = person(world)
    with pytest.raises(ValidationFailed) as exc:
        submit(world, [HEADER, row(number), row(number, kind="缓刑", start="2026-04-01", end="2026-01-01")])
    assert exc.value.code == "department.batch_rows_invalid"
    assert exc.value.data["errors"][0]["code"] == "department.correction_end_before_start"
    assert _cases(world) == []


def test_an_agreement_that_does_not_name_corrections_refuses_the_batch(world: World) -> None:
    justice(world, provides={"person": ["phone"]})
    _, number = person(world)
    with pytest.raises(Forbidden) as exc:
        submit(world, [HEADER, row(number)])
    assert exc.value.code == "department.kind_not_provided"
    assert _cases(world) == []


def test_the_cases_are_read_only_by_those_who_handle_them_inside_their_jurisdiction_and_audited(
    world: World, client: TestClient, login: Any
) -> None:
    justice(world)
    pid, number = person(world)
    outside, far = person(world, name="赵六", area=OUTSIDE)
    submit(world, [HEADER, row(number)])
    for user in ALLOWED:
        r = client.get(f"/persons/{pid}/corrections", headers=login(user))
        assert r.status_code == 200, (user, r.text)
        [case] = r.json()["cases"]
        assert (case["case_kind"], case["case_kind_label"], case["office"], case["community_code"]) == (
            "2",
            {"zh": "缓刑", "en": "Suspended sentence (probation)"},
            OFFICE,
            INSIDE,
        )
        assert number not in r.text  # no ID number in the answer
    for user in REFUSED:
        r = client.get(f"/persons/{pid}/corrections", headers=login(user))
        assert r.status_code == 403, (user, r.text)
        assert r.json()["error"]["code"] == "access.forbidden"
    # A person of another jurisdiction: not found, never telling whether they exist.
    for user in ALLOWED:
        r = client.get(f"/persons/{outside}/corrections", headers=login(user))
        assert r.status_code == 404, (user, r.text)
    with world.session() as s:
        reads = s.execute(
            select(AuditEntry.subject_person_id).where(AuditEntry.action == "correction.read")
        ).all()
        assert [r[0] for r in reads] == [pid] * len(ALLOWED)
    assert far != number


def test_a_case_served_in_another_community_is_shown_only_to_those_whose_jurisdiction_holds_it(
    world: World, client: TestClient, login: Any
) -> None:
    justice(world)
    pid, number = person(world)
    elsewhere = ["居民身份证", number, "张伟", "管制", "2026-02-01", "2026-08-01", OFFICE, "420704001002"]
    assert submit(world, [HEADER, row(number), elsewhere]).applied == 2
    seen = {
        user: [
            c["case_kind"]
            for c in client.get(f"/persons/{pid}/corrections", headers=login(user)).json()["cases"]
        ]
        for user in ALLOWED
    }
    # The community officer of 滨湖社区 sees the person and the case served there, not the one of 南浦社区.
    assert seen == {"police_liu": ["2"], "station_admin_li": ["2", "1"], LIAISON: ["2", "1"]}


def test_a_json_batch_through_the_api_keeps_the_good_row_and_reports_the_bad_one(
    world: World, client: TestClient, login: Any
) -> None:
    justice(world)
    pid, number = person(world)
    good = {
        "id_number": number,
        "case_kind": "3",
        "start_date": "2026-04-01",
        "office": OFFICE,
        "community_code": INSIDE,
    }
    r = client.post(
        "/departments/justice/batches",
        headers=login(LIAISON),
        json={
            "kind": "corrections",
            "records": [good, {**good, "case_kind": "", "start_date": "2026-12-31"}],
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["kind"], body["applied"]) == ("corrections", 1)
    assert {(p["line"], p["field"], p["code"]) for p in body["rejected"]} == {
        (2, "case_kind", "department.correction_field_required"),  # the second record
        (2, "start_date", "department.correction_start_in_future"),
    }
    assert number not in r.text
    assert _cases(world) == [(pid, "3", dt.date(2026, 4, 1), None, True)]
