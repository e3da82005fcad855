"""The set-based batch path writes exactly what `registry.change` writes, one person at a time, would have written."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from liangshi import registry
from liangshi.audit.models import AuditEntry
from liangshi.departments import rules
from liangshi.departments import service as departments
from liangshi.departments.models import ExchangeConflict
from liangshi.departments.service import feeds_in
from liangshi.errors import Conflict, ValidationFailed
from liangshi.persons import service as persons
from liangshi.persons.models import Membership, PersonVersion
from liangshi.registry import Kind, PlannedChange, Provenance, history
from liangshi.residence.schemas import DeathIn
from liangshi.residence.service import RESIDENCE
from liangshi.schemas import ProvenanceIn
from tests import factories
from tests.conftest import INSIDE, World
from tests.departments.helpers import HEALTH_PURPOSE, counts, department, person
from tests.residence.test_register_deaths import reference_death

PRECEDENCE = rules.load_precedence()
# Columns that differ between two persons by construction (their ids, the writing transaction); everything else
# must be equal.
IDENTITY = {"row_id", "entity_id", "replaces_row_id", "corrects_row_id", "xact_id"}


def _submit(world: World, rows: list[list[str]], name: str = "feed.csv") -> departments.BatchResult:
    table = departments.FeedTable(name, rows[0], [(n, r) for n, r in enumerate(rows[1:], 2)], "0" * 64)
    with world.session() as s:
        return departments.submit_batch(
            s,
            world.ctx(s, "health_liaison_wang"),
            department="health",
            kind="persons",
            table=table,
            precedence=PRECEDENCE,
        )


def _history(world: World, person_id: int) -> list[dict[str, Any]]:
    """A person's version rows in record order, ids replaced by positions in that order."""
    with world.session() as s:
        rows = history.history(s, persons.PERSON, person_id)
        position = {r.row_id: i for i, r in enumerate(rows)}
        out = []
        for r in rows:
            values = {
                c.name: getattr(r, c.name) for c in PersonVersion.__table__.columns if c.name not in IDENTITY
            }
            values["replaces"] = position.get(r.replaces_row_id) if r.replaces_row_id else None
            values["corrects"] = position.get(r.corrects_row_id) if r.corrects_row_id else None
            out.append(values)
        return out


def _version(world: World, person_id: int) -> int:
    with world.session() as s:
        entity = s.get(persons.PERSON.entity, person_id)
        assert entity is not None
        return int(entity.version)


def test_change_many_writes_the_rows_of_change_field_by_field(world: World) -> None:
    one, _ = person(world, occupation="工人")
    other, _ = person(world, occupation="工人")
    prov = Provenance("department", "batch:7", "document", "health feed.csv")
    steps = [{"phone": "+8613812345678", "occupation": "教师"}, {"phone": "+8613900000000"}]
    for changes in steps:  # the second step starts on the day the first opened: no closed copy
        with world.session() as s:
            ctx = world.ctx(s, "police_liu")
            version = s.get(persons.PERSON.entity, one)
            registry.change(
                s,
                ctx,
                persons.PERSON,
                one,
                dict(changes),
                expected_version=version.version,
                effective=ctx.today,
                prov=prov,
                reason="部门数据",
            )
        with world.session() as s:
            ctx = world.ctx(s, "police_liu")
            [current] = [
                r for r in history.current_rows(s, persons.PERSON, [other])[other] if r["valid_to"] is None
            ]
            versions = history.change_many(
                s,
                persons.PERSON,
                [
                    PlannedChange(
                        other, current["entity_county_code"], current["entity_version"], current, changes
                    )
                ],
                effective=ctx.today,
                prov=prov,
                actor_id=ctx.actor.user_id,
                now=ctx.now,
                reason="部门数据",
            )
            assert versions == {other: current["entity_version"] + 1}
    expected = _history(world, one)
    assert [r["change"] for r in expected] == ["create", "close", "change", "change"]
    assert _history(world, other) == expected
    assert _version(world, other) == _version(world, one) == 3


def test_change_many_refuses_a_stale_version_and_a_retired_entity(world: World) -> None:
    pid, _ = person(world)
    with world.session() as s:
        [current] = history.current_rows(s, persons.PERSON, [pid])[pid]
    item = PlannedChange(
        pid, current["entity_county_code"], current["entity_version"] - 1, current, {"phone": "x"}
    )
    before = counts(world)
    with pytest.raises(Conflict) as exc, world.session() as s:
        ctx = world.ctx(s)
        history.change_many(
            s, persons.PERSON, [item], effective=ctx.today, prov=Provenance(), actor_id=None, now=ctx.now
        )
    assert exc.value.code == "version.stale" and exc.value.data["id"] == pid
    assert counts(world) == before and _version(world, pid) == current["entity_version"]
    closed = PlannedChange(
        pid, "420704", current["entity_version"], {**current, "valid_to": dt.date(2026, 1, 1)}, {}
    )
    with pytest.raises(Conflict) as exc, world.session() as s:
        ctx = world.ctx(s)
        history.change_many(
            s, persons.PERSON, [closed], effective=ctx.today, prov=Provenance(), actor_id=None, now=ctx.now
        )
    assert exc.value.code == "person.retired"


def test_a_batch_writes_what_registry_change_writes_for_the_same_values(world: World) -> None:
    department(world)
    fed, fed_id = person(world, occupation=None)
    by_hand, _ = person(world, occupation=None)
    result = _submit(world, [["证件号码", "联系电话", "职业"], [fed_id, "13812345678", "护士"]])
    assert (result.matched, result.applied, result.conflicts) == (1, 2, [])
    reason = f"部门数据 health 批次 {result.batch_id}"
    with world.session() as s:
        liaison = world.ctx(s, "health_liaison_wang")
        writer = feeds_in._feed_writer(liaison, f"{reason}: {HEALTH_PURPOSE}")
        registry.change(
            s,
            writer,
            persons.PERSON,
            by_hand,
            {"phone": "+8613812345678", "occupation": "护士"},
            expected_version=s.get(persons.PERSON.entity, by_hand).version,
            effective=writer.today,
            prov=Provenance(
                "department", f"batch:{result.batch_id}", "document", f"health feed.csv sha256:{'0' * 16}"
            ),
            reason=reason,
            check=persons.person_check(s, writer),
        )
    rows = _history(world, fed)
    assert [(r["change"], r["source_kind"], r["source_ref"]) for r in rows] == [
        ("create", "collector", "police_liu"),
        ("close", "collector", "police_liu"),
        ("change", "department", f"batch:{result.batch_id}"),
    ]
    assert rows[1]["valid_to"] == rows[2]["valid_from"] == dt.date(2026, 11, 27)
    assert _history(world, by_hand) == rows
    assert _version(world, fed) == _version(world, by_hand) == 2
    with world.session() as s:
        audit = {
            e.object_id: (e.action, e.subject_person_id == e.object_id, e.detail, e.purpose, e.actor_name)
            for e in s.execute(select(AuditEntry).where(AuditEntry.action == "person.change")).scalars()
        }
    assert audit[fed] == audit[by_hand]


def test_the_same_person_twice_in_a_batch_sees_what_the_first_row_wrote(world: World) -> None:
    department(world)
    pid, number = person(world, occupation=None)
    result = _submit(
        world,
        [["证件号码", "联系电话", "职业"], [number, "13812345678", "护士"], [number, "13900000000", "护士"]],
    )
    assert (result.matched, result.applied, result.same) == (2, 2, 1)
    with world.session() as s:
        [conflict] = s.execute(select(ExchangeConflict)).scalars()
        assert (conflict.line, conflict.field, conflict.register_value, conflict.department_value) == (
            3,
            "phone",
            "+8613812345678",
            "+8613900000000",
        )
        assert history.open_row(s, persons.PERSON, pid).phone == "+8613812345678"
    assert _version(world, pid) == 2


def test_a_batch_in_several_runs_gives_the_result_of_one(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    department(world)
    people = [person(world, occupation="工人" if i in (1, 3, 4) else None) for i in range(5)]
    monkeypatch.setattr(feeds_in, "CHUNK_ROWS", 2)
    dead = people[4][1]
    result = _submit(
        world,
        [["证件号码", "职业", "死亡日期"]]
        + [[number, "护士", "2026-11-20" if number == dead else ""] for _, number in people],
    )
    # Persons 1, 3 and 4 have an occupation: conflicts, in line order; the others are filled; person 4 died.
    assert (result.matched, result.applied) == (5, 3)
    with world.session() as s:
        queued = s.execute(select(ExchangeConflict).order_by(ExchangeConflict.id)).scalars().all()
        assert [c.id for c in queued] == result.conflicts
        assert [(c.object_id, c.line) for c in queued] == [
            (people[1][0], 3),
            (people[3][0], 5),
            (people[4][0], 6),
        ]
        for i in (0, 2):
            row = history.open_row(s, persons.PERSON, people[i][0])
            assert (row.occupation, row.source_ref) == ("护士", f"batch:{result.batch_id}")
        assert history.open_row(s, persons.PERSON, people[4][0]) is None
        died = history.latest_row(s, persons.PERSON, people[4][0])
        assert (died.change, died.valid_to, died.source_ref) == (
            "retire",
            dt.date(2026, 11, 20),
            f"batch:{result.batch_id}",
        )
        changed = s.execute(
            select(AuditEntry.object_id).where(AuditEntry.action == "person.change")
        ).scalars()
        assert sorted(changed) == sorted(people[i][0] for i in (0, 2))


def test_a_value_the_id_number_contradicts_refuses_the_whole_batch(world: World) -> None:
    department(world, provides={"person": ["birth_date", "occupation"]}, all_or_nothing=True)
    _, good = person(world, occupation=None)
    _, bad = person(world, occupation=None)
    before = counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _submit(world, [["证件号码", "职业", "出生日期"], [good, "护士", ""], [bad, "护士", "1991-02-03"]])
    assert exc.value.code == "department.batch_rows_invalid"
    assert exc.value.data["errors"][0]["line"] == 3
    assert exc.value.data["errors"][0]["code"] == "person.birth_date_mismatch"
    assert counts(world) == before


def test_a_person_changed_meanwhile_refuses_the_whole_batch(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    department(world)
    pid, number = person(world, occupation=None)
    read = history.current_rows

    def stale(*args: Any, **kwargs: Any) -> dict[int, list[dict[str, Any]]]:
        # As if someone changed the person between the batch's read and its write.
        found = read(*args, **kwargs)
        return {
            k: [{**r, "entity_version": r["entity_version"] - 1} for r in rows] for k, rows in found.items()
        }

    monkeypatch.setattr(history, "current_rows", stale)
    before = counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _submit(world, [["证件号码", "职业"], [number, "护士"]])
    assert exc.value.data["errors"][0]["code"] == "version.stale"
    assert counts(world) == before and _version(world, pid) == 1


# ---- deaths ------------------------------------------------------------------------------------------------------


def _living(world: World, tag: str, **attrs: Any) -> tuple[int, str, dict[str, int]]:
    """A person with a home, a lodging and a household (with a survivor); (person id, ID number, object ids)."""
    pid, number = person(world, **attrs)
    with world.session() as s:
        admin = world.ctx(s, "district_admin_chen")
        home, school = (
            factories.place(
                s, admin, area_id=world.area(INSIDE), district_id=world.area("420704"), tag=f"{tag}{n}"
            )
            for n in range(2)
        )
        ctx = world.ctx(s, "police_liu")
        ids = {
            f"residence/{category}": factories.arrival(
                s,
                ctx,
                person_id=pid,
                dwelling_id=place.dwelling_id,
                arrived=dt.date(2021, 5, 1),
                category=category,
            )
            for category, place in (("resident", home), ("lodging", school))
        }
        survivor = factories.person(s, ctx, area_id=world.area(INSIDE), name="王芳", male=False)
        ids["household"] = factories.household(
            s,
            ctx,
            area_id=world.area(INSIDE),
            dwelling_id=home.dwelling_id,
            members=[(pid, "02"), (survivor, "10")],
        )
    return pid, number, ids


def _rows_of(world: World, kind: Kind, entity_id: int) -> tuple[int, list[dict[str, Any]]]:
    """An object's lock counter and version rows, ids replaced by positions (as `_history`)."""
    with world.session() as s:
        rows = history.history(s, kind, entity_id)
        position = {r.row_id: i for i, r in enumerate(rows)}
        out = []
        for r in rows:
            values = {
                c.name: getattr(r, c.name) for c in kind.version.__table__.columns if c.name not in IDENTITY
            }
            values["replaces"] = position.get(r.replaces_row_id) if r.replaces_row_id else None
            values["corrects"] = position.get(r.corrects_row_id) if r.corrects_row_id else None
            values.pop("dwelling_id", None)
            out.append(values)
        entity = s.get(kind.entity, entity_id)
        return int(entity.version), out


def _memberships(world: World, person_id: int) -> list[int]:
    with world.session() as s:
        return list(
            s.execute(
                select(Membership.id).where(Membership.person_id == person_id).order_by(Membership.id)
            ).scalars()
        )


def test_a_batch_registers_its_deaths_as_the_death_use_case_did_one_by_one(world: World) -> None:
    department(world)
    fed, fed_id, fed_objects = _living(world, "甲", occupation=None)
    by_hand, _, hand_objects = _living(world, "乙", occupation=None)
    died, died_id = person(world, occupation=None)  # a death and nothing else
    died_by_hand, _ = person(world, occupation=None)
    seq = _last_seq(world)
    result = _submit(
        world,
        [
            ["证件号码", "联系电话", "死亡日期"],
            [fed_id, "13812345678", "2026-11-20"],
            [died_id, "", "2026-10-01"],
        ],
    )
    assert (result.matched, result.applied) == (2, 3)
    batch_audit = _audit_after(world, seq, {fed: "one", died: "two"}, fed_objects, _memberships(world, fed))

    reason = f"部门数据 health 批次 {result.batch_id}"
    prov = Provenance(
        "department", f"batch:{result.batch_id}", "document", f"health feed.csv sha256:{'0' * 16}"
    )
    seq = _last_seq(world)
    with world.session() as s:
        # The batch's per-row writes before the set-based path: the value through `registry.change`, then the
        # death use case as it was (the reference of tests/residence/test_register_deaths.py).
        writer = feeds_in._feed_writer(world.ctx(s, "health_liaison_wang"), f"{reason}: {HEALTH_PURPOSE}")
        registry.change(
            s,
            writer,
            persons.PERSON,
            by_hand,
            {"phone": "+8613812345678"},
            expected_version=1,
            effective=writer.today,
            prov=prov,
            reason=reason,
            check=persons.person_check(s, writer),
        )
        for pid, day in ((by_hand, dt.date(2026, 11, 20)), (died_by_hand, dt.date(2026, 10, 1))):
            reference_death(
                s,
                writer,
                pid,
                DeathIn(
                    expected_version=s.get(persons.PERSON.entity, pid).version,
                    death_date=day,
                    note=reason,
                    provenance=ProvenanceIn(
                        source_kind="department",
                        source_ref=prov.source_ref,
                        evidence="document",
                        document_ref=prov.document_ref,
                    ),
                ),
            )
    hand_audit = _audit_after(
        world, seq, {by_hand: "one", died_by_hand: "two"}, hand_objects, _memberships(world, by_hand)
    )
    assert [a for a in batch_audit if a[0] != "person.change"] == [
        a for a in hand_audit if a[0] != "person.change"
    ]
    assert [a[0] for a in batch_audit if a[0] != "person.change"] == [
        "person.retire",
        "person.death",
        "residence.retire",
        "residence.retire",
        "membership.retire",
        "person.retire",
        "person.death",
    ]
    for a, b in ((fed, by_hand), (died, died_by_hand)):
        assert _rows_of(world, persons.PERSON, a) == _rows_of(world, persons.PERSON, b)
    for name in ("residence/resident", "residence/lodging"):
        assert _rows_of(world, RESIDENCE, fed_objects[name]) == _rows_of(world, RESIDENCE, hand_objects[name])
    assert _rows_of(world, persons.HOUSEHOLD, fed_objects["household"]) == _rows_of(
        world, persons.HOUSEHOLD, hand_objects["household"]
    )
    for a, b in zip(_memberships(world, fed), _memberships(world, by_hand), strict=True):
        assert _rows_of(world, persons.MEMBERSHIP, a) == _rows_of(world, persons.MEMBERSHIP, b)
    version, rows = _rows_of(world, RESIDENCE, fed_objects["residence/resident"])
    assert (version, rows[-1]["change"], rows[-1]["deregistration_reason"], rows[-1]["source_ref"]) == (
        2,
        "retire",
        "died",
        f"batch:{result.batch_id}",
    )
    assert _version(world, fed) == 3  # the phone, then the death


def _last_seq(world: World) -> int:
    with world.session() as s:
        return int(s.execute(select(func.coalesce(func.max(AuditEntry.seq), 0))).scalar_one())


def _audit_after(
    world: World, seq: int, people: dict[int, str], objects: dict[str, int], memberships: list[int]
) -> list[tuple[Any, ...]]:
    """The audit entries about the persons after `seq`, ids replaced by names."""
    names: dict[tuple[str, int], str] = {("person", i): n for i, n in people.items()}
    names |= {(k.split("/")[0], i): k for k, i in objects.items()}
    names |= {("membership", m): f"membership/{n}" for n, m in enumerate(memberships)}
    with world.session() as s:
        entries = s.execute(
            select(AuditEntry)
            .where(AuditEntry.seq > seq, AuditEntry.subject_person_id.in_(list(people)))
            .order_by(AuditEntry.seq)
        ).scalars()
        out = []
        for e in entries:
            detail = json.loads(e.detail)
            for key, kind in (("residences", "residence"), ("memberships", "membership")):
                if key in detail:
                    detail[key] = [names[(kind, i)] for i in detail[key]]
            out.append(
                (
                    e.action,
                    names.get((e.object_kind or "", e.object_id or 0)),
                    people[e.subject_person_id or 0],
                    e.actor_name,
                    e.purpose,
                    e.at,
                    detail,
                )
            )
        return out


def test_a_death_refused_by_the_residence_lifecycle_refuses_the_batch_at_its_line(world: World) -> None:
    department(world)
    _, fine, _ = _living(world, "甲", occupation=None)
    _, early, objects = _living(world, "乙", occupation=None)
    before = counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _submit(
            world, [["证件号码", "职业", "死亡日期"], [fine, "护士", "2026-11-20"], [early, "", "2021-04-30"]]
        )
    [error] = exc.value.data["errors"]
    assert (error["line"], error["field"], error["code"]) == (
        3,
        "departure_date",
        "residence.departure_before_arrival",
    )
    assert counts(world) == before
    assert _rows_of(world, RESIDENCE, objects["residence/resident"])[0] == 1


def test_a_person_changed_meanwhile_refuses_a_batch_with_only_their_death(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    department(world)
    pid, number, _ = _living(world, "甲", occupation=None)
    read = history.current_rows

    def stale(*args: Any, **kwargs: Any) -> dict[int, list[dict[str, Any]]]:
        # As if someone changed the person between the batch's read and its write.
        found = read(*args, **kwargs)
        if args[1] is not persons.PERSON:
            return found
        return {
            k: [{**r, "entity_version": r["entity_version"] - 1} for r in rows] for k, rows in found.items()
        }

    monkeypatch.setattr(history, "current_rows", stale)
    monkeypatch.setattr(feeds_in.history, "current_rows", stale)
    before = counts(world)
    with pytest.raises(ValidationFailed) as exc:
        _submit(world, [["证件号码", "死亡日期"], [number, "2026-11-20"]])
    [error] = exc.value.data["errors"]
    assert (error["line"], error["code"]) == (2, "version.stale")
    assert counts(world) == before and _version(world, pid) == 1


def test_a_file_name_free_text_would_refuse_still_carries_the_deaths(world: World) -> None:
    department(world)
    pid, number, _ = _living(world, "甲", occupation=None)
    result = _submit(
        world, [["证件号码", "职业", "死亡日期"], [number, "护士", "2026-11-20"]], name="死亡--11月.csv"
    )
    assert result.applied == 2
    rows = _rows_of(world, persons.PERSON, pid)[1]
    assert [r["change"] for r in rows] == ["create", "close", "change", "retire"]
    # The value and the death carry the same provenance: the batch and its file.
    assert {r["document_ref"] for r in rows[2:]} == {f"health 死亡--11月.csv sha256:{'0' * 16}"}
