"""Department exchange use cases: agreements, reads cut to them, batches, conflicts, feedback, feeds out, the log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from liangshi import registry
from liangshi.audit.models import AuditEntry
from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.departments.models import ExchangeConflict, ExchangeLogEntry
from liangshi.errors import Conflict, Forbidden, NotFound, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.schemas import PersonCreate
from liangshi.registry import AttributeFlag, history
from liangshi.residence.calendar import load_calendar
from liangshi.review import service as review
from tests import factories
from tests.conftest import INSIDE, OUTSIDE, World
from tests.departments.helpers import HEALTH_PURPOSE, counts, department, person

PRECEDENCE = rules.load_precedence()
CAL = load_calendar()


def _submit(
    world: World, rows: list[list[str]], *, code: str = "health", persona: str = "health_liaison_wang"
) -> departments.BatchResult:
    table = departments.FeedTable("feed.csv", rows[0], [(n, r) for n, r in enumerate(rows[1:], 2)], "0" * 64)
    with world.session() as s:
        return departments.submit_batch(
            s, world.ctx(s, persona), department=code, kind="persons", table=table, precedence=PRECEDENCE
        )


# ---- agreements -------------------------------------------------------------------------------------------------


def test_an_agreement_file_in_toml_is_loaded_and_its_kinds_and_fields_checked(tmp_path: Path) -> None:
    good = tmp_path / "health.toml"
    good.write_text(
        'department = "health"\npurpose = "出生医学证明核对"\nvalid_from = 2026-01-01\nvalid_to = 2027-01-01\n'
        '[provides]\nperson = ["death_date"]\n[reads]\nperson = ["name", "sex"]\n',
        encoding="utf-8",
    )
    spec = rules.load_agreement_file(good, departments.known_fields())
    assert (spec.department, spec.provides, spec.reads["person"]) == (
        "health",
        {"person": ["death_date"]},
        ["name", "sex"],
    )
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "department": "health",
                "purpose": "x",
                "valid_from": "2026-01-01",
                "reads": {"person": ["religion"]},
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as exc:
        rules.load_agreement_file(bad, departments.known_fields())
    assert exc.value.code == "agreement.field_unknown"


def test_only_administrators_register_departments_and_agreements(world: World) -> None:
    with world.session() as s, pytest.raises(Forbidden):
        departments.add_department(
            s, world.ctx(s, "health_liaison_wang"), code="health", name_zh=None, name_en=None
        )
    department(world)
    with world.session() as s:
        [d] = departments.list_departments(s, world.ctx(s, "district_admin_chen"))
        assert (d["code"], d["name_zh"], d["agreements"][0]["in_force"]) == ("health", "卫生", True)
        actions = [a for (a,) in s.execute(select(AuditEntry.action))]
        assert "department.add" in actions and "department.agreement" in actions


# ---- reads cut to the agreement -----------------------------------------------------------------------------------


def test_a_liaison_reads_only_the_agreed_fields_and_the_audit_names_the_purpose(world: World) -> None:
    department(world)
    pid, _ = person(world, phone="13812345678", occupation="教师")
    with world.session() as s:
        snap = registry.read(s, world.ctx(s, "health_liaison_wang"), persons.PERSON, pid)
        assert snap.attributes() == {"name": "张伟", "sex": "1", "birth_date": dt.date(1990, 1, 1)}
        entry = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
        assert entry.action == "person.read" and HEALTH_PURPOSE in (entry.purpose or "")
        # Everyone else still reads everything.
        full = registry.read(s, world.ctx(s, "police_liu"), persons.PERSON, pid)
        assert full.cut is None and full.attributes()["occupation"] == "教师"


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"agreement": False}, "department.no_agreement"),
        ({"valid_from": "2025-01-01", "valid_to": "2026-01-01"}, "department.agreement_expired"),
        ({"aggregates_only": True}, "department.aggregates_only"),
        ({"reads": {"building": ["label"]}}, "department.kind_not_readable"),
    ],
)
def test_a_liaison_without_a_fitting_agreement_is_refused(
    world: World, setup: dict[str, object], code: str
) -> None:
    department(world, **setup)  # type: ignore[arg-type]
    pid, _ = person(world)
    with world.session() as s:
        with pytest.raises(Forbidden) as exc:
            registry.read(s, world.ctx(s, "health_liaison_wang"), persons.PERSON, pid)
        assert exc.value.code == code
        with pytest.raises(Forbidden):
            persons.search_persons(
                s,
                world.ctx(s, "health_liaison_wang"),
                name="张",
                id_number=None,
                phone=None,
                area_id=None,
                offset=0,
                limit=10,
            )


# ---- feeds in ---------------------------------------------------------------------------------------------------


def test_a_batch_fills_empty_values_queues_disagreements_applies_authoritative_deaths_and_keeps_provenance(
    world: World,
) -> None:
    department(world)
    a, a_id = person(world, occupation="工人")
    b, b_id = person(world, name="李娜", male=False, birth=dt.date(1950, 3, 4))
    result = _submit(
        world,
        [
            ["证件号码", "联系电话", "职业", "死亡日期"],
            [a_id.lower(), "13812345678", "教师", ""],
            [b_id, "", "", "2026-11-20"],
            ["11010519491231002X", "13900000000", "", ""],  # a valid ID nobody in the register holds
        ],
    )
    assert (result.rows, result.matched, result.unmatched_lines, result.applied) == (3, 2, [4], 2)
    with world.session() as s:
        row = history.open_row(s, persons.PERSON, a)
        assert row.phone == "+8613812345678" and row.occupation == "工人"
        assert (row.source_kind, row.source_ref) == ("department", f"batch:{result.batch_id}")
        [conflict] = s.execute(select(ExchangeConflict)).scalars()
        assert (conflict.object_id, conflict.field, conflict.register_value, conflict.department_value) == (
            a,
            "occupation",
            "工人",
            "教师",
        )
        assert (conflict.status, conflict.department, conflict.batch_id) == (
            "open",
            "health",
            result.batch_id,
        )
        # Health is authoritative for the death date: the person is retired at it.
        assert history.open_row(s, persons.PERSON, b) is None
        dead = history.latest_row(s, persons.PERSON, b)
        assert dead.valid_to == dt.date(2026, 11, 20) and dead.source_ref == f"batch:{result.batch_id}"
        [log] = s.execute(select(ExchangeLogEntry)).scalars()
        assert (log.direction, log.department, log.row_count, log.object_kinds) == (
            "in",
            "health",
            3,
            "person",
        )


def test_civil_affairs_is_authoritative_for_marital_status_but_not_for_occupation(world: World) -> None:
    department(world, "civil_affairs", provides={"person": ["marital_status", "occupation"]})
    pid, number = person(world, marital_status="10", occupation="工人")
    with world.session() as s:
        s.execute(update(persons.PERSON.entity).values(area_id=world.area("420704001001")))
    liaison = "civil_liaison"
    _liaison(world, liaison, "civil_affairs")
    result = _submit(
        world,
        [["id_number", "marital_status", "occupation"], [number, "20", "教师"]],
        code="civil_affairs",
        persona=liaison,
    )
    assert (result.applied, len(result.conflicts)) == (1, 1)
    with world.session() as s:
        row = history.open_row(s, persons.PERSON, pid)
        assert (row.marital_status, row.occupation) == ("20", "工人")


def _liaison(world: World, username: str, dept: str) -> None:
    from liangshi.access import service as access
    from liangshi.access.service import SYSTEM

    with world.session() as s:
        user = access.create_user(
            s,
            username=username,
            display_name=username,
            password="Test-password-1",
            role="department_liaison",
            area_code="420704",
            department=dept,
            actor=SYSTEM,
            now=world.clock.now(),
        )
        world.users[username] = user.id


def test_precedence_comes_from_a_toml_file_that_a_setting_can_replace(tmp_path: Path) -> None:
    assert PRECEDENCE.decide("person", "death_date", "health", None, dt.date(2026, 1, 1)) == "apply"
    assert PRECEDENCE.decide("person", "death_date", "justice", None, dt.date(2026, 1, 1)) == "conflict"
    assert PRECEDENCE.decide("person", "occupation", "health", "工人", "教师") == "conflict"
    assert PRECEDENCE.decide("person", "occupation", "health", None, "教师") == "apply"
    assert PRECEDENCE.decide("person", "occupation", "police", "工人", "教师") == "apply"
    own = tmp_path / "p.toml"
    own.write_text('fill_empty = false\n[authoritative.person]\noccupation = ["health"]\n', encoding="utf-8")
    custom = rules.load_precedence(own)
    assert custom.decide("person", "occupation", "health", "工人", "教师") == "apply"
    assert custom.decide("person", "phone", "health", None, "+8613812345678") == "conflict"


@pytest.mark.parametrize(
    ("rows", "code", "error"),
    [
        ([["证件号码", "死亡日期"], ["{id}", "2026-11-20"]], "nosuch", NotFound),
        ([["证件号码", "婚姻状况"], ["{id}", "20"]], "health", Forbidden),
        ([["证件号码", "宗教"], ["{id}", "x"]], "health", ValidationFailed),
        ([["姓名", "死亡日期"], ["张伟", "2026-11-20"]], "health", ValidationFailed),
        (
            [["证件号码", "联系电话"], ["{id}", "13812345678"], ["{id}", "not-a-phone"]],
            "health",
            ValidationFailed,
        ),
        (
            [["证件号码", "死亡日期"], ["{id}", "2026-11-20"], ["110105194912310022", ""]],
            "health",
            ValidationFailed,
        ),
    ],
    ids=[
        "unknown_department",
        "field_not_provided",
        "unknown_column",
        "missing_id_column",
        "bad_value",
        "bad_id",
    ],
)
def test_a_refused_batch_writes_nothing(
    world: World, rows: list[list[str]], code: str, error: type[Exception]
) -> None:
    # Under an all-or-nothing agreement a bad row refuses the batch, as a file-level problem does under any.
    department(world, all_or_nothing=True)
    _, number = person(world)
    before = counts(world)
    filled = [[c.replace("{id}", number) for c in r] for r in rows]
    with pytest.raises(error):
        _submit(world, filled, code=code)
    assert counts(world) == before


def test_a_batch_without_an_agreement_in_force_is_refused(world: World) -> None:
    department(world, valid_from="2025-01-01", valid_to="2026-06-01")
    _, number = person(world)
    before = counts(world)
    with pytest.raises(Forbidden) as exc:
        _submit(world, [["证件号码", "联系电话"], [number, "13812345678"]])
    assert exc.value.code == "department.agreement_expired" and counts(world) == before


def test_a_file_in_a_wrong_encoding_is_refused_before_anything_is_written(
    world: World, tmp_path: Path
) -> None:
    department(world)
    _, number = person(world)
    path = tmp_path / "feed.csv"
    path.write_bytes(f"证件号码,联系电话\n{number},13812345678\n".encode("utf-16"))
    before = counts(world)
    with pytest.raises(ValidationFailed) as exc:
        departments.table_from_file(path)
    assert exc.value.code == "file.encoding" and counts(world) == before


def test_a_liaison_sends_only_for_their_own_department(world: World) -> None:
    department(world)
    department(world, "justice", provides={"person": ["occupation"]})
    _, number = person(world)
    with pytest.raises(Forbidden) as exc:
        _submit(world, [["证件号码", "职业"], [number, "教师"]], code="justice")
    assert exc.value.code == "department.not_yours"


# ---- conflicts ----------------------------------------------------------------------------------------------------


def test_accepting_a_conflict_changes_the_register_with_the_batch_as_provenance_and_rejecting_keeps_it(
    world: World,
) -> None:
    department(world)
    a, a_id = person(world, occupation="工人")
    b, b_id = person(world, name="王芳", male=False, occupation="农民")
    result = _submit(world, [["证件号码", "职业"], [a_id, "教师"], [b_id, "医生"]])
    first, second = result.conflicts
    with world.session() as s:
        ctx = world.ctx(s, "station_admin_li")
        departments.decide_conflict(s, ctx, first, accept=True, reason="核实属实")
        departments.decide_conflict(s, ctx, second, accept=False, reason="入户核实仍为农民")
    with world.session() as s:
        row = history.open_row(s, persons.PERSON, a)
        assert (row.occupation, row.source_kind, row.source_ref) == (
            "教师",
            "department",
            f"batch:{result.batch_id}",
        )
        assert history.open_row(s, persons.PERSON, b).occupation == "农民"
        statuses = {c.id: (c.status, c.reason) for c in s.execute(select(ExchangeConflict)).scalars()}
        assert statuses == {first: ("accepted", "核实属实"), second: ("rejected", "入户核实仍为农民")}
        with pytest.raises(Conflict):
            departments.decide_conflict(
                s, world.ctx(s, "station_admin_li"), first, accept=False, reason="再次"
            )


def test_conflicts_outside_the_jurisdiction_are_not_found(world: World) -> None:
    department(world)
    _, number = person(world, occupation="工人")
    [cid] = _submit(world, [["证件号码", "职业"], [number, "教师"]]).conflicts
    with world.session() as s:
        ctx = world.ctx(s, "collector_zhou")
        with pytest.raises(Forbidden):
            departments.list_conflicts(s, ctx, status=None, department=None, offset=0, limit=10)
        s.execute(update(ExchangeConflict).values(area_id=world.area(OUTSIDE)))
        admin = world.ctx(s, "district_admin_chen")
        assert (
            departments.list_conflicts(s, admin, status="open", department=None, offset=0, limit=10)[1] == 0
        )
        with pytest.raises(NotFound):
            departments.decide_conflict(s, admin, cid, accept=True, reason="越权")


# ---- feedback -----------------------------------------------------------------------------------------------------


def test_feedback_flags_the_value_with_working_day_deadlines_and_is_listed_when_overdue(world: World) -> None:
    department(world)
    pid, _ = person(world)
    with world.session() as s:
        f = departments.file_feedback(
            s,
            world.ctx(s, "health_liaison_wang"),
            object_kind="person",
            object_id=pid,
            attribute="birth_date",
            reason="出生医学证明为1990-01-02",
            suggested_value="1990-01-02",
            calendar=CAL,
            decision_days=10,
        )
        # Filed on Friday 2026-11-27: pick-up by Tuesday, a decision within ten working days.
        assert (f.pickup_due, f.decision_due) == (dt.date(2026, 12, 1), dt.date(2026, 12, 11))
        [flag] = registry.open_flags(s, persons.PERSON, pid)
        assert flag.attribute == "birth_date" and flag.id == f.flag_id
        fid = f.id
    with world.session() as s:
        ctx = world.ctx(s, "police_liu")
        assert departments.list_feedback(s, ctx, overdue=True, offset=0, limit=10)[1] == 0
        later = dataclasses.replace(ctx, today=dt.date(2026, 12, 2))
        [item], _ = departments.list_feedback(s, later, overdue=True, offset=0, limit=10)
        assert departments.feedback_view(item, later.today)["overdue"] == ["pickup"]
        departments.pick_up_feedback(s, later, fid)
        assert departments.list_feedback(s, later, overdue=True, offset=0, limit=10)[1] == 0
        much_later = dataclasses.replace(ctx, today=dt.date(2026, 12, 14))
        [item], _ = departments.list_feedback(s, much_later, overdue=True, offset=0, limit=10)
        assert departments.feedback_view(item, much_later.today)["overdue"] == ["decision"]
        liaison = dataclasses.replace(world.ctx(s, "health_liaison_wang"), today=dt.date(2026, 12, 14))
        assert departments.list_feedback(s, liaison, overdue=True, offset=0, limit=10)[1] == 1


def test_deciding_feedback_confirms_or_corrects_the_value_and_resolves_the_flag(world: World) -> None:
    department(world, provides={"person": ["occupation"]}, reads={"person": ["name", "occupation"]})
    pid, _ = person(world, occupation="工人")
    with world.session() as s:
        fid = departments.file_feedback(
            s,
            world.ctx(s, "health_liaison_wang"),
            object_kind="person",
            object_id=pid,
            attribute="occupation",
            reason="单位记录为医生",
            suggested_value="医生",
            calendar=CAL,
            decision_days=10,
        ).id
    with world.session() as s:
        f = departments.decide_feedback(
            s, world.ctx(s, "police_liu"), fid, outcome="corrected", note="核实为医生", value="医生"
        )
        assert f.outcome == "corrected" and f.picked_up_at is not None
    with world.session() as s:
        row = history.latest_row(s, persons.PERSON, pid)
        assert (row.occupation, row.change, row.source_ref) == ("医生", "correct", f"feedback:{fid}")
        assert registry.open_flags(s, persons.PERSON, pid) == []
        resolved = s.execute(select(AttributeFlag)).scalar_one()
        assert resolved.resolution == "corrected: 核实为医生"


def test_feedback_only_on_fields_the_agreement_shares(world: World) -> None:
    department(world)
    pid, _ = person(world)
    before = counts(world)
    with world.session() as s, pytest.raises(Forbidden):
        departments.file_feedback(
            s,
            world.ctx(s, "health_liaison_wang"),
            object_kind="person",
            object_id=pid,
            attribute="marital_status",
            reason="?",
            suggested_value=None,
            calendar=CAL,
            decision_days=10,
        )
    assert counts(world) == before


# ---- feeds out ------------------------------------------------------------------------------------------------------


def test_changes_are_pulled_after_a_cursor_cut_to_the_agreement(world: World) -> None:
    department(world)
    a, _ = person(world, phone="13812345678")
    with world.session() as s:
        ctx = world.ctx(s, "health_liaison_wang")
        first = departments.pull_changes(s, ctx, department="health", cursor=None, limit=1)
        assert first["has_more"] is True and len(first["items"]) == 1
        rest = departments.pull_changes(s, ctx, department="health", cursor=first["next_cursor"], limit=100)
    items = first["items"] + rest["items"]
    assert {i["kind"] for i in items} == {"person", "document"}
    person_row = next(i for i in items if i["kind"] == "person")
    assert person_row["attributes"] == {"name": "张伟", "sex": "1", "birth_date": "1990-01-01"}
    doc_row = next(i for i in items if i["kind"] == "document")
    assert "*" in doc_row["attributes"]["number"]
    # A change after the last pull; a pull without a cursor resumes from there.
    with world.session() as s:
        ent = s.get(persons.PERSON.entity, a)
        registry.change(
            s,
            world.ctx(s, "police_liu"),
            persons.PERSON,
            a,
            {"name": "张伟伟"},
            expected_version=ent.version,
            effective=None,
            prov=history.Provenance(),
            reason="改名",
        )
    # The fixed clock records both at the same instant as the earlier rows: the order falls back on kind, row id.
    with world.session() as s:
        nxt = departments.pull_changes(
            s, world.ctx(s, "health_liaison_wang"), department="health", cursor=None, limit=100
        )
    # The change closes the old version at the change date and opens the new one: two rows, in record order.
    assert [(i["kind"], i["change"], i["attributes"].get("name")) for i in nxt["items"]] == [
        ("person", "close", "张伟"),
        ("person", "change", "张伟伟"),
    ]
    with world.session() as s:
        pulls = (
            s.execute(select(ExchangeLogEntry).where(ExchangeLogEntry.operation == "pull")).scalars().all()
        )
        assert [p.row_count for p in pulls] == [1, 1, 2]


def test_a_statistics_agreement_gets_aggregates_never_person_rows(world: World) -> None:
    department(world, "statistics", reads={"person": ["sex"]}, aggregates_only=True, purpose="人口统计")
    _liaison(world, "stats_liaison", "statistics")
    person(world)
    person(world, name="李娜", male=False)
    person(world, name="王强")
    with world.session() as s:
        ctx = world.ctx(s, "stats_liaison")
        [sheet] = departments.extract(s, ctx, department="statistics")
        assert sheet.header == ["kind", "area_code", "area_name", "category_field", "category", "count"]
        assert sorted((r[1], r[4], r[5]) for r in sheet.rows) == [
            ("420704001001", "1", 2),
            ("420704001001", "2", 1),
        ]
        with pytest.raises(Forbidden) as exc:
            departments.pull_changes(s, ctx, department="statistics", cursor=None, limit=10)
        assert exc.value.code == "department.aggregates_only"


def test_an_extract_is_the_current_state_cut_to_the_agreement(world: World) -> None:
    department(world)
    pid, _ = person(world, occupation="工人")
    with world.session() as s:
        sheets = departments.extract(s, world.ctx(s, "health_liaison_wang"), department="health")
    by = {sh.name: sh for sh in sheets}
    assert by["person"].header == ["id", "version", "birth_date", "name", "sex"]
    assert by["person"].rows == [[pid, 1, "1990-01-01", "张伟", "1"]]
    assert by["document"].header == ["id", "version", "doc_type", "number"]


# ---- exchange log --------------------------------------------------------------------------------------------------


def test_the_exchange_log_detects_an_altered_and_a_deleted_entry(world: World) -> None:
    department(world)
    _, number = person(world)
    _submit(world, [["证件号码", "联系电话"], [number, "13812345678"]])
    for _ in range(2):
        with world.session() as s:
            departments.extract(s, world.ctx(s, "health_liaison_wang"), department="health")
    with world.session() as s:
        ok = departments.verify_log(s, world.ctx(s, "auditor_sun"))
        assert (ok["ok"], ok["entries"]) == (True, 3)
        original = s.execute(select(ExchangeLogEntry.row_count).where(ExchangeLogEntry.seq == 2)).scalar_one()
        s.execute(update(ExchangeLogEntry).where(ExchangeLogEntry.seq == 2).values(row_count=999))
    with world.session() as s:
        bad = departments.verify_log(s, world.ctx(s, "city_admin_wang"))
        assert bad["ok"] is False and {"seq": 2, "problem": "altered"} in bad["problems"]
        s.execute(update(ExchangeLogEntry).where(ExchangeLogEntry.seq == 2).values(row_count=original))
    with world.session() as s:
        assert departments.verify_log(s, world.ctx(s, "city_admin_wang"))["ok"] is True
        s.execute(ExchangeLogEntry.__table__.delete().where(ExchangeLogEntry.seq == 2))
    with world.session() as s:
        gone = departments.verify_log(s, world.ctx(s, "city_admin_wang"))
        assert {"seq": 3, "problem": "missing", "missing_from": 2} in gone["problems"]
        with pytest.raises(Forbidden):
            departments.verify_log(s, world.ctx(s, "health_liaison_wang"))


def test_deadlines_count_working_days_with_holidays_and_make_up_days() -> None:
    # National Day 2026 (holidays_cn.csv): 1–7 October off, Saturday 10 October a make-up working day.
    assert rules.add_working_days(dt.date(2026, 9, 30), 1, CAL) == dt.date(2026, 10, 8)
    assert rules.add_working_days(dt.date(2026, 9, 30), 3, CAL) == dt.date(2026, 10, 10)
    assert rules.add_working_days(dt.date(2026, 11, 27), 2, CAL) == dt.date(2026, 12, 1)
    due = {"pickup_due": dt.date(2026, 12, 1), "decision_due": dt.date(2026, 12, 11)}
    assert rules.overdue(today=dt.date(2026, 12, 1), picked_up=False, decided=False, **due) == []
    assert rules.overdue(today=dt.date(2026, 12, 12), picked_up=False, decided=False, **due) == [
        "pickup",
        "decision",
    ]
    # valid_to is exclusive: an agreement ending on the 27th is no longer in force that day.
    assert rules.in_force(dt.date(2026, 1, 1), dt.date(2026, 11, 27), False, dt.date(2026, 11, 27)) is False
    assert rules.in_force(dt.date(2026, 1, 1), None, True, dt.date(2026, 11, 27)) is False


def test_records_no_document_matches_go_through_the_master_person_index(world: World) -> None:
    """A record whose number nobody holds joins the person it surely is (keeping their id), or waits for its
    community's claim (认领) and becomes a register person once claimed; sent again, it creates nobody twice.

    Issue 14 changed the second rule: this test asserted `created == 1` and a new person at once; the record
    now opens a claim (`claims == 1`, its row unmatched until then) and the person exists only after the claim."""
    from liangshi.mpi.models import PersonSourceRecord
    from liangshi.persons.models import Person

    provides = {"person": ["name", "sex", "birth_date", "phone", "occupation"]}
    department(world, provides=provides)
    with world.session() as s:  # registered by a collector from the door: no document yet
        known = persons.create_person(
            s,
            world.ctx(s, "police_liu"),
            PersonCreate(
                area_id=world.area(INSIDE),
                name="王芳",
                sex="2",
                birth_date=dt.date(1985, 4, 12),
                phone="13871234567",
                documents=[],
                valid_from=dt.date(2020, 1, 1),
            ),
        ).entity.id
    her_id = factories.make_id("420704", dt.date(1985, 4, 12), 22)
    newcomer = factories.make_id("420704", dt.date(1979, 9, 30), 35)
    rows = [
        ["证件号码", "姓名", "性别", "出生日期", "联系电话", "职业"],
        [her_id, "王芳", "女", "1985-04-12", "13871234567", "护士"],
        [newcomer, "刘强", "男", "1979-09-30", "13607100000", "司机"],
    ]
    with world.session() as s:
        before = s.execute(select(func.count()).select_from(Person)).scalar_one()
    first = _submit(world, rows)
    assert (first.linked, first.created, first.claims, first.queued, first.unmatched_lines) == (
        1,
        0,
        1,
        0,
        [3],
    )
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, known).occupation == "护士"
        assert s.execute(select(func.count()).select_from(Person)).scalar_one() == before
        assert sorted(s.execute(select(PersonSourceRecord.status)).scalars()) == ["claim", "linked"]
        ctx = world.ctx(s, "district_admin_chen")
        [waiting] = review.claim_desk(s, ctx)
        assert waiting.summary == "刘强"
        review.claim(s, ctx, waiting.id, "claimed")
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Person)).scalar_one() == before + 1
        sources = s.execute(select(PersonSourceRecord.person_id, PersonSourceRecord.status)).all()
        assert sorted(st for _, st in sources) == ["linked", "new"]
        assert (known, "linked") in {(p, st) for p, st in sources}
    again = _submit(world, rows)
    assert again.created == 0 and again.claims == 0 and again.unmatched_lines == []
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Person)).scalar_one() == before + 1
