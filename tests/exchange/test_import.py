"""Bulk import: formats, validation per row, idempotency, crash safety, batches and error reports."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from liangshi.access.service import SYSTEM
from liangshi.areas.models import Area
from liangshi.errors import ValidationFailed
from liangshi.exchange import formats, loaders, service
from liangshi.exchange.models import ImportBatch
from liangshi.persons.models import Document, Person, PersonVersion
from liangshi.residence.models import Residence
from liangshi.residence.service import where_lives_by_document
from tests.conftest import INSIDE, OUTSIDE, World
from tests.factories import make_id

ORDER = ("areas", "streets", "plates", "buildings", "dwellings", "persons", "households", "residences")


def _write_csv(path: Path, header: list[str], rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _import(world: World, kind: str, path: Path, **kw: Any) -> service.ImportResult:
    return service.import_file(
        world.sessions,
        kind=kind,
        path=path,
        source=kw.pop("source", None),
        actor=kw.pop("actor", SYSTEM),
        clock=world.clock,
        **kw,
    )


def _count(world: World, model: Any) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _load_templates(world: World, tmp_path: Path) -> None:
    for kind in ORDER:
        path = tmp_path / f"{kind}.csv"
        service.write_template(kind, path)
        result = _import(world, kind, path)
        assert not result.errors, (kind, result.errors)


def test_every_template_imports_in_order_into_a_consistent_register(world: World, tmp_path: Path) -> None:
    _load_templates(world, tmp_path)
    with world.session() as s:
        found = where_lives_by_document(s, world.ctx(s, "police_liu"), "11010519491231002X")
    assert found["name"] == "张丽"
    assert found["current"][0]["address"]["text"].endswith("滨湖南路28-3号3栋2单元501室")
    assert found["current"][0]["category"] == "floating"


def test_reimporting_the_same_files_changes_nothing(world: World, tmp_path: Path) -> None:
    _load_templates(world, tmp_path)
    before = (_count(world, Person), _count(world, Residence), _count(world, PersonVersion))
    for kind in ORDER:
        result = _import(world, kind, tmp_path / f"{kind}.csv")
        assert result.loaded == 0 and result.existing == 1 and not result.errors, kind
    assert (_count(world, Person), _count(world, Residence), _count(world, PersonVersion)) == before


def _person_rows(n: int, start: int = 1) -> list[list[Any]]:
    rows = []
    for i in range(start, start + n):
        number = make_id("420704", dt.date(1980, 1, 1 + i % 28), seq=(i % 499) * 2 + 1)
        rows.append([number, "男", f"测试{chr(0x4E00 + i % 200)}", INSIDE])
    return rows


def test_gb18030_file_with_chinese_headers(world: World, tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "p.csv", ["证件号码", "性别", "姓名", "管辖社区"], _person_rows(5), "gb18030"
    )
    result = _import(world, "persons", path, source="health")
    assert (result.loaded, len(result.errors)) == (5, 0)
    with world.session() as s:
        prov = s.execute(select(PersonVersion.source_kind, PersonVersion.source_ref)).first()
    assert tuple(prov) == ("department", "health")


def test_xlsx_file(world: World, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["id_number", "sex", "name", "community_code", "birth_date"])
    for number, sex, name, community in _person_rows(3):
        ws.append([number, sex, name, community, None])
    path = tmp_path / "p.xlsx"
    wb.save(path)
    assert _import(world, "persons", path).loaded == 3


def test_bad_rows_are_reported_with_line_field_and_reason_and_good_rows_load(
    world: World, tmp_path: Path
) -> None:
    good = _person_rows(2)
    bad_check = [make_id(seq=7)[:-1] + ("0" if make_id(seq=7)[-1] != "0" else "1"), "男", "王五", INSIDE]
    wrong_sex = [make_id(seq=9), "女", "赵六", INSIDE]
    bad_name = [make_id(seq=11), "男", "<script>", INSIDE]
    outside = [make_id(seq=13), "男", "钱七", "420102001001"]
    path = _write_csv(
        tmp_path / "p.csv",
        ["id_number", "sex", "name", "community_code"],
        [good[0], bad_check, wrong_sex, bad_name, outside, good[1]],
    )
    result = _import(world, "persons", path, actor=_actor(world, "collector_zhang"))
    assert result.loaded == 2
    errors = {(e.line, e.field, e.code) for e in result.errors}
    assert errors == {
        (3, "id_number", "id_number.checksum"),
        (4, "sex", "person.sex_mismatch"),
        (5, "name", "name.invalid"),
        (6, "community_code", "area.not_found"),
    }
    report = tmp_path / "errors.csv"
    service.write_error_report(result.errors, report)
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "line,field,code,message,message_en" and len(lines) == 5


@pytest.mark.no_unit_today
def test_a_row_born_after_the_import_clock_today_is_refused_and_one_born_today_loads(
    world: World, tmp_path: Path
) -> None:
    """The import's clock says 2026-11-27 (the real date is later): 2026-11-30 is in the future."""
    path = _write_csv(
        tmp_path / "p.csv",
        ["id_number", "doc_type", "country", "sex", "name", "community_code", "birth_date"],
        [
            ["E12345678", "passport", "CHN", "女", "王芳", INSIDE, "2026-11-30"],
            ["E12345679", "passport", "CHN", "女", "李娜", INSIDE, "2026-11-27"],
            [make_id("420704", dt.date(2026, 11, 27), seq=1), "", "", "男", "张小军", INSIDE, "2026-11-27"],
        ],
    )
    result = _import(world, "persons", path)
    assert [(e.line, e.field, e.code) for e in result.errors] == [(2, "birth_date", "date.out_of_range")]
    assert result.loaded == 2
    with world.session() as s:
        births = set(s.execute(select(PersonVersion.birth_date)).scalars())
    assert births == {dt.date(2026, 11, 27)}


def _actor(world: World, username: str) -> Any:
    with world.session() as s:
        return world.actor(s, username)


def test_missing_required_column_refuses_the_file_and_writes_nothing(world: World, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "p.csv", ["id_number", "name"], [[make_id(), "张三"]])
    with pytest.raises(ValidationFailed) as exc:
        _import(world, "persons", path)
    assert exc.value.code == "import.columns_missing"
    assert _count(world, ImportBatch) == 0 and _count(world, Person) == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "file.empty"), ("姓名\n张三\n".encode("utf-16"), "file.encoding")],
)
def test_empty_or_undecodable_files_are_refused(
    world: World, tmp_path: Path, content: bytes, code: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(content)
    with pytest.raises(ValidationFailed) as exc:
        _import(world, "persons", path)
    assert exc.value.code == code


def test_unknown_kind_is_refused(world: World, tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "x.csv", ["a"], [["b"]])
    with pytest.raises(ValidationFailed) as exc:
        _import(world, "spaceships", path)
    assert exc.value.code == "import.kind_unknown"


def test_a_crash_mid_import_loses_nothing_and_a_rerun_duplicates_nothing(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write_csv(tmp_path / "p.csv", ["id_number", "sex", "name", "community_code"], _person_rows(50))
    real = loaders.LOADERS["persons"]
    calls = {"n": 0}

    def crashing(job: Any, rows: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return real(job, rows)

    monkeypatch.setitem(loaders.LOADERS, "persons", crashing)
    with pytest.raises(KeyboardInterrupt):
        _import(world, "persons", path, chunk_size=10)
    assert _count(world, Person) == 20  # two whole chunks committed, the third rolled back
    monkeypatch.setitem(loaders.LOADERS, "persons", real)
    result = _import(world, "persons", path, chunk_size=10)
    assert (result.loaded, result.existing) == (30, 20)
    assert _count(world, Person) == 50 and _count(world, Document) == 50


def test_batch_records_source_hash_and_counts(world: World, tmp_path: Path) -> None:
    rows = [*_person_rows(3), [make_id(seq=21), "女", "孙八", INSIDE]]
    path = _write_csv(tmp_path / "p.csv", ["id_number", "sex", "name", "community_code"], rows)
    _import(world, "persons", path, source="justice")
    with world.session() as s:
        batch = s.execute(select(ImportBatch)).scalar_one()
    assert (batch.kind, batch.source, batch.status) == ("persons", "justice", "done")
    assert (batch.rows_total, batch.rows_loaded, batch.rows_rejected) == (4, 3, 1)
    assert len(batch.file_sha256) == 64


def test_template_has_a_header_and_one_example_row_in_either_language(tmp_path: Path) -> None:
    for kind in formats.KINDS:
        path = tmp_path / f"{kind}.xlsx"
        service.write_template(kind, path, chinese=True)
        rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
        assert list(rows[0]) == [c.zh for c in formats.KINDS[kind]]
        assert len(rows) == 2


def test_dates_and_codes_in_the_forms_departments_write(world: World, tmp_path: Path) -> None:
    number = make_id("420704", dt.date(1990, 1, 2), seq=31)
    path = _write_csv(
        tmp_path / "p.csv",
        ["id_number", "sex", "name", "community_code", "birth_date", "ethnicity"],
        [[number.lower(), "male", "周九", INSIDE, "1990年1月2日", "汉族"]],
    )
    result = _import(world, "persons", path)
    assert result.loaded == 1, result.errors
    with world.session() as s:
        row = s.execute(select(PersonVersion.birth_date, PersonVersion.ethnicity)).one()
    assert (row[0].isoformat(), row[1]) == ("1990-01-02", "01")


def test_kill_9_mid_import_then_rerun_loads_everything_once(
    world: World, db_url: str, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    path = _write_csv(
        tmp_path / "big.csv", ["id_number", "sex", "name", "community_code"], _person_rows(12_000)
    )
    env = {**os.environ, "LIANGSHI_DATABASE_URL": db_url}
    command = [sys.executable, "-m", "liangshi.cli.main", "import", "persons", str(path)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _count(world, Person) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _count(world, Person)
    assert partial % 2000 == 0  # only whole chunks ever land
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert _count(world, Person) == 12_000 and _count(world, Document) == 12_000
    assert f"existing {partial}" in rerun.stdout


def test_every_imported_person_and_document_is_in_one_audit_entry_of_its_chunk(
    world: World, tmp_path: Path
) -> None:
    import json

    from liangshi.audit import service as audit
    from liangshi.audit.models import AuditEntry

    path = _write_csv(tmp_path / "p.csv", ["id_number", "sex", "name", "community_code"], _person_rows(50))
    result = _import(world, "persons", path, chunk_size=20)
    assert result.loaded == 50
    with world.session() as s:
        persons = set(s.execute(select(Person.id)).scalars())
        documents = set(s.execute(select(Document.id)).scalars())
        entries = {
            action: [
                json.loads(d)
                for d in s.execute(select(AuditEntry.detail).where(AuditEntry.action == action)).scalars()
            ]
            for action in ("person.create", "document.create")
        }
        assert audit.verify(s).ok
    assert len(entries["person.create"]) == len(entries["document.create"]) == 3  # one per table per chunk
    person_ids = [i for e in entries["person.create"] for i in e["ids"]]
    document_ids = [i for e in entries["document.create"] for i in e["ids"]]
    assert sorted(person_ids) == sorted(persons) and sorted(document_ids) == sorted(documents)
    assert {p for e in entries["document.create"] for p in e["persons"]} == persons
    assert all(
        e["batch"] == result.batch_id and e["count"] == len(e["ids"]) for e in entries["person.create"]
    )


def _access_actions(world: World, person_id: int, persona: str = "station_admin_li") -> list[dict[str, Any]]:
    from liangshi.persons import service as persons

    with world.session() as s:
        entries, total = persons.access_log(s, world.ctx(s, persona), person_id, limit=100, offset=0)
    assert total == len(entries)
    return entries


def test_a_persons_access_log_shows_the_import_chunk_that_created_them_and_their_document(
    world: World, tmp_path: Path
) -> None:
    from liangshi.audit.models import AuditEntry
    from liangshi.exchange.models import ImportAuditEntry

    path = _write_csv(tmp_path / "p.csv", ["id_number", "sex", "name", "community_code"], _person_rows(50))
    # A department's file: the provenance names the department, not the batch; the log still finds the chunk.
    result = _import(world, "persons", path, source="health", chunk_size=20)
    assert result.loaded == 50
    with world.session() as s:
        ids = list(s.execute(select(Person.id).order_by(Person.id)).scalars())
        chunk_entries = {
            e.seq: e
            for e in s.execute(
                select(AuditEntry).where(AuditEntry.action.in_(["person.create", "document.create"]))
            )
            .scalars()
            .all()
        }
        # The write path is unchanged: still one entry per table per chunk, none naming a person, each indexed.
        assert len(chunk_entries) == 6
        assert all(e.subject_person_id is None for e in chunk_entries.values())
        indexed = s.execute(select(ImportAuditEntry)).scalars().all()
        assert {i.seq for i in indexed} == set(chunk_entries)
        assert {i.batch_id for i in indexed} == {result.batch_id}
    first, middle = ids[0], ids[25]  # chunk 1 and chunk 2
    for person_id in (first, middle):
        entries = _access_actions(world, person_id)
        assert sorted(e["action"] for e in entries) == ["document.create", "person.create"]
        for e in entries:
            listed = json.loads(chunk_entries[e["seq"]].detail)
            assert e["import_batch"] == result.batch_id and e["purpose"] == f"import batch {result.batch_id}"
            assert person_id in (listed["ids"] if e["action"] == "person.create" else listed["persons"])
    # Each person gets their own chunk's entries, not their neighbours'.
    assert {e["seq"] for e in _access_actions(world, first)}.isdisjoint(
        e["seq"] for e in _access_actions(world, middle)
    )


def test_the_access_log_of_an_imported_person_lists_their_imported_residence_and_membership(
    world: World, tmp_path: Path
) -> None:
    _load_templates(world, tmp_path)
    with world.session() as s:
        person_id = where_lives_by_document(s, world.ctx(s, "police_liu"), "11010519491231002X")["person_id"]
    actions = [e["action"] for e in _access_actions(world, person_id, "auditor_sun")]
    for created in ("person.create", "document.create", "membership.create", "residence.create"):
        assert actions.count(created) == 1, (created, actions)
    assert "person.where_lives" in actions  # the entries naming the person are still there


def test_import_entries_in_the_access_log_stay_scoped_and_the_lookup_is_audited(
    world: World, tmp_path: Path
) -> None:
    from liangshi.audit.models import AuditEntry
    from liangshi.errors import NotFound

    rows = _person_rows(3)
    rows[2][3] = OUTSIDE
    result = _import(
        world, "persons", _write_csv(tmp_path / "p.csv", ["id_number", "sex", "name", "community_code"], rows)
    )
    assert result.loaded == 3
    with world.session() as s:
        outside = s.execute(
            select(Person.id).join(Area, Area.id == Person.area_id).where(Area.code == OUTSIDE)
        ).scalar_one()
    with pytest.raises(NotFound):
        _access_actions(world, outside, "auditor_sun")
    inside = outside - 1
    assert len(_access_actions(world, inside, "auditor_sun")) == 2
    with world.session() as s:
        lookups = s.execute(
            select(AuditEntry.actor_name, AuditEntry.object_id).where(
                AuditEntry.action == "person.access_log"
            )
        ).all()
    assert lookups == [("auditor_sun", inside)]


def test_the_access_log_api_shows_the_import_and_masks_id_numbers_in_reasons(
    world: World, tmp_path: Path, client: Any, login: Any
) -> None:
    rows = _person_rows(2)
    result = _import(
        world, "persons", _write_csv(tmp_path / "p.csv", ["id_number", "sex", "name", "community_code"], rows)
    )
    with world.session() as s:
        pid = s.execute(select(Person.id).order_by(Person.id)).scalars().first()
    assert pid is not None
    reason = f"核对{rows[0][0]}是否本人"
    r = client.post(f"/persons/{pid}/unmask", json={"reason": reason}, headers=login("police_liu"))
    assert r.status_code == 200
    log = client.get(f"/persons/{pid}/access-log", headers=login("auditor_sun")).json()
    by_action = {e["action"]: e for e in log["entries"]}
    assert by_action["person.create"]["import_batch"] == result.batch_id
    assert by_action["document.create"]["actor"] == "system"
    unmask = by_action["person.unmask"]
    assert unmask["reason"] == f"核对{rows[0][0][:6]}********{rows[0][0][-4:]}是否本人"
    assert rows[0][0] not in str(log)
