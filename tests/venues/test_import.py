"""Importing venues and their stays: checked like the API, rejected rows reported, re-imports change nothing."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from liangshi import registry
from liangshi.access.service import SYSTEM
from liangshi.addresses.models import StreetVersion
from liangshi.audit.models import AuditEntry
from liangshi.errors import Forbidden
from liangshi.exchange import formats, loaders, service
from liangshi.exchange.models import ImportBatch
from liangshi.venues import service as venues
from liangshi.venues.models import Stay, Venue, VenueVersion
from liangshi.venues.schemas import VenuePatch
from tests import factories
from tests.conftest import INSIDE, NOW, World
from tests.venues.helpers import person, plate

CORE = ("areas", "streets", "plates", "buildings", "dwellings", "persons", "households", "residences")
STAYS_ZH = [c.zh for c in formats.KINDS["stays"]]


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _import(world: World, kind: str, path: Path, actor: Any = SYSTEM) -> service.ImportResult:
    return service.import_file(
        world.sessions, kind=kind, path=path, source=None, actor=actor, clock=world.clock
    )


def _count(world: World, model: Any) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def _errors(result: service.ImportResult) -> dict[int, tuple[str, str]]:
    return {e.line: (e.field, e.code) for e in result.errors}


def _street_of(world: World, address_id: int) -> tuple[str, str]:
    """(street name, plate number) of a test plate."""
    from liangshi.addresses.models import Address

    with world.session() as s:
        street_id = s.get(Address, address_id).street_id  # type: ignore[union-attr]
        name = s.execute(select(StreetVersion.name).where(StreetVersion.entity_id == street_id)).scalar_one()
    return str(name), "12"


def _venue_file(world: World, tmp_path: Path, rows: list[list[str]], name: str = "venues.csv") -> Path:
    header = [c.zh for c in formats.KINDS["venues"]]
    return _write(tmp_path / name, header, rows)


def _one_venue(world: World, tmp_path: Path, kind: str = "旅店", name: str = "滨湖宾馆") -> tuple[int, Path]:
    """A venue imported on a fresh plate; returns its id and the file."""
    address_id = plate(world)
    street, number = _street_of(world, address_id)
    path = _venue_file(world, tmp_path, [[INSIDE, street, number, kind, name, "鄂特旅2026-001", "营业"]])
    result = _import(world, "venues", path)
    assert (result.loaded, result.errors) == (1, [])
    with world.session() as s:
        vid = s.execute(select(Venue.id).where(Venue.address_id == address_id)).scalar_one()
    return int(vid), path


# ---- the kinds are registered like every other kind ------------------------------------------------------------


def test_every_kind_has_columns_an_example_for_every_column_and_a_loader() -> None:
    assert set(formats.KINDS) == set(loaders.LOADERS)
    for kind in ("venues", "stays"):
        assert set(formats.EXAMPLES[kind]) == {c.key for c in formats.KINDS[kind]}


def test_the_import_commands_help_lists_every_kind_with_a_loader() -> None:
    from typer.testing import CliRunner

    from liangshi.cli.main import app

    result = CliRunner().invoke(app, ["import", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    for kind in loaders.LOADERS:
        assert kind in result.output, kind


def test_the_templates_import_after_the_core_templates_and_a_reimport_changes_nothing(
    world: World, tmp_path: Path
) -> None:
    for kind in CORE:
        path = tmp_path / f"{kind}.csv"
        service.write_template(kind, path)
        assert not _import(world, kind, path).errors, kind
    for kind in ("venues", "stays"):
        service.write_template(kind, tmp_path / f"{kind}.csv", chinese=True)
    venue_result = _import(world, "venues", tmp_path / "venues.csv")
    stay_result = _import(world, "stays", tmp_path / "stays.csv")
    assert (venue_result.loaded, venue_result.errors, stay_result.loaded, stay_result.errors) == (
        1,
        [],
        1,
        [],
    )
    with world.session() as s:
        stay = s.execute(select(Stay)).scalar_one()
        venue = s.execute(select(VenueVersion)).scalar_one()
        batch = s.get(ImportBatch, stay_result.batch_id)
        audited = s.execute(select(AuditEntry).where(AuditEntry.action == "stay.create")).scalar_one()
    assert (venue.name, venue.licence_number, venue.status) == ("滨湖宾馆", "鄂特旅2026-001", "open")
    assert (venue.source_kind, venue.source_ref) == ("import", f"batch:{venue_result.batch_id}")
    assert venue.document_ref.startswith("venues.csv sha256:")
    assert stay.venue_id == venue.entity_id and stay.stay_ref == "R20260301-0042"
    assert stay.person_id is not None and not stay.unknown_person  # 张丽 of the persons template
    assert stay.received_at == dt.datetime(2026, 3, 1, 13, 31, 12, tzinfo=dt.UTC)  # reported_at, China time
    assert stay.check_out_at == dt.datetime(2026, 3, 3, 3, 5, tzinfo=dt.UTC)
    assert batch is not None and (batch.kind, batch.status, batch.rows_loaded) == ("stays", "done", 1)
    assert json.loads(audited.detail)["ids"] == [stay.id] and audited.subject_person_id is None
    assert json.loads(audited.detail)["persons"] == [stay.person_id]
    before = (
        _count(world, Venue),
        _count(world, VenueVersion),
        _count(world, Stay),
        _count(world, AuditEntry),
    )
    again_venues = _import(world, "venues", tmp_path / "venues.csv")
    again_stays = _import(world, "stays", tmp_path / "stays.csv")
    assert (again_venues.loaded, again_venues.existing, again_stays.loaded, again_stays.existing) == (
        0,
        1,
        0,
        1,
    )
    after = (
        _count(world, Venue),
        _count(world, VenueVersion),
        _count(world, Stay),
        _count(world, AuditEntry),
    )
    # Only the batches' own start and finish entries are new.
    assert after[:3] == before[:3] and after[3] == before[3] + 4


# ---- venues ----------------------------------------------------------------------------------------------------


def test_venue_rows_are_checked_like_a_venue_registered_through_the_api(world: World, tmp_path: Path) -> None:
    _one_venue(world, tmp_path)
    taken = plate(world)
    street, number = _street_of(world, taken)
    path = _venue_file(
        world,
        tmp_path,
        [
            [INSIDE, street, number, "hotel", "滨湖宾馆", "", ""],  # 2: the name of another venue here
            [INSIDE, street, number, "casino", "滨湖赌场", "", ""],  # 3: not a venue kind
            [INSIDE, street, "999", "cafe", "滨湖网吧", "", ""],  # 4: no such plate
            [
                INSIDE,
                street,
                number,
                "网吧",
                "滨湖网吧",
                "",
                "停业",
            ],  # 5: fine, Chinese names of kind and status
            [INSIDE, street, number, "cafe", "滨湖网吧", "", "open"],  # 6: the same venue again
            ["420102001001", street, number, "cafe", "大智网吧", "", ""],  # 7: outside the jurisdiction
        ],
        "bad.csv",
    )
    with world.session() as s:
        actor = world.actor(s, "station_admin_li")
    result = _import(world, "venues", path, actor=actor)
    assert _errors(result) == {
        2: ("name", "venue.name_taken"),
        3: ("venue_kind", "literal_error"),
        4: ("number", "plate.not_found"),
        7: ("community_code", "area.not_found"),
    }
    assert (result.loaded, result.existing) == (1, 1)
    with world.session() as s:
        rows = s.execute(
            select(Venue.venue_kind, VenueVersion.status).join(Venue, Venue.id == VenueVersion.entity_id)
        )
        assert sorted(rows) == [("cafe", "closed"), ("hotel", "open")]


def test_a_community_officer_cannot_import_venues_or_stays(world: World, tmp_path: Path) -> None:
    _, number = person(world, "张伟")
    _one_venue(world, tmp_path)
    address_id = plate(world)
    street, plate_number = _street_of(world, address_id)
    with world.session() as s:
        officer = world.actor(s, "police_liu")
    venue_path = _venue_file(
        world, tmp_path, [[INSIDE, street, plate_number, "cafe", "新网吧", "", ""]], "v2.csv"
    )
    stays_path = _write(
        tmp_path / "stays.csv",
        STAYS_ZH[:7],
        [["滨湖宾馆", INSIDE, "", number, "张伟", "2026-11-26 20:00", ""]],
    )
    # Refused as a whole before anything is written (issue 12): no batch, no venue, no stay.
    batches, venues_before = _count(world, ImportBatch), _count(world, Venue)
    with pytest.raises(Forbidden) as venue_refusal:
        _import(world, "venues", venue_path, actor=officer)
    assert venue_refusal.value.code == "import.forbidden" and venue_refusal.value.data["missing"] == [
        "venue.write"
    ]
    with pytest.raises(Forbidden) as stay_refusal:
        _import(world, "stays", stays_path, actor=officer)
    assert stay_refusal.value.code == "import.forbidden" and stay_refusal.value.data["missing"] == [
        "venue.write"
    ]
    assert _count(world, Stay) == 0
    assert (_count(world, ImportBatch), _count(world, Venue)) == (batches, venues_before)


# ---- stays -----------------------------------------------------------------------------------------------------


def test_stays_are_matched_flagged_and_counted_as_the_api_counts_them(world: World, tmp_path: Path) -> None:
    pid, number = person(world, "张伟")
    _one_venue(world, tmp_path)
    _one_venue(world, tmp_path, "网吧", "滨湖网吧")
    stranger = factories.make_id(seq=777)
    # A café's file says 上机时间 / 下机时间; columns in any order, English and Chinese names mixed.
    header = ["上机时间", "下机时间", "venue", "社区代码", "证件类型", "证件号码", "姓名", "国籍", "上报时间"]
    rows = [
        [
            "2026-11-26 20:00:00",
            "2026-11-26 23:30",
            "滨湖网吧",
            INSIDE,
            "",
            number,
            "张伟",
            "",
            "2026-11-26 20:00:40",
        ],
        ["2026/11/25 9:15", "", "滨湖宾馆", INSIDE, "resident_id", stranger, "李四", "", ""],
        [
            "2026年11月20日 10时00分",
            "",
            "滨湖宾馆",
            INSIDE,
            "passport",
            "E12345678",
            "John Smith",
            "USA",
            "2026-11-22 10:00",
        ],
    ]
    result = _import(world, "stays", _write(tmp_path / "stays.csv", header, rows))
    assert (result.loaded, result.errors) == (3, [])
    with world.session() as s:
        stored = {st.doc_number: st for st in s.execute(select(Stay)).scalars()}
    mine, unknown, foreign = stored[number], stored[stranger], stored["E12345678"]
    assert (mine.person_id, mine.unknown_person, mine.foreign, mine.late_report) == (pid, False, False, False)
    assert mine.check_in_at == dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
    assert mine.check_out_at == dt.datetime(2026, 11, 26, 15, 30, tzinfo=dt.UTC)
    assert mine.received_at == dt.datetime(2026, 11, 26, 12, 0, 40, tzinfo=dt.UTC)
    assert (unknown.person_id, unknown.unknown_person, unknown.received_at) == (None, True, NOW)
    # A foreign guest reported two days after the check-in: flagged late, as a late post would be.
    assert (foreign.foreign, foreign.late_report, foreign.doc_country) == (True, True, "USA")
    with world.session() as s:
        counts = venues.stay_counts(
            s,
            [world.area(INSIDE)],
            dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            dt.datetime(2026, 11, 28, tzinfo=dt.UTC),
            dt.timedelta(hours=24),
        )
    # Verified and on time: only 张伟's (the stranger is unknown, the foreign guest's report was late).
    assert counts == {world.area(INSIDE): (1, 3)}


def test_rejected_stay_rows_name_their_line_field_and_code(world: World, tmp_path: Path) -> None:
    _, number = person(world, "张伟")
    _one_venue(world, tmp_path)
    good = ["滨湖宾馆", INSIDE, "", number, "张伟", "2026-11-26 20:00", "2026-11-27 08:00", "", ""]

    def row(**change: str) -> list[str]:
        keys = [c.key for c in formats.KINDS["stays"]][:9]
        out = dict(zip(keys, good, strict=True))
        out.update(change)
        return [out[k] for k in keys]

    rows = [
        row(),  # 2: fine
        row(venue="无名旅社"),  # 3
        row(id_number="420704199001010000"),  # 4: bad check character
        row(doc_type="passport", id_number="E12345678", name="John Smith"),  # 5: passport without country
        row(name="张@伟"),  # 6
        row(check_in="2026-12-01 08:00", check_out=""),  # 7: in the future
        row(check_out="2026-11-26 19:00"),  # 8: leaves before arriving
        row(reported_at="2026-11-26 10:00"),  # 9: reported before the check-in
        row(check_in="yesterday"),  # 10
        row(check_in=""),  # 11
        row(community_code="420102001001"),  # 12: a venue of that name elsewhere
        row(),  # 13: line 2 again
    ]
    result = _import(world, "stays", _write(tmp_path / "stays.csv", STAYS_ZH[:9], rows))
    errors = _errors(result)
    assert errors.pop(4)[0] == "id_number"
    assert errors == {
        3: ("venue", "venue.not_found"),
        5: ("country", "document.country_required"),
        6: ("name", "name.invalid"),
        7: ("check_in", "stay.time_in_future"),
        8: ("check_out", "stay.checkout_before_checkin"),
        9: ("reported_at", "stay.reported_before_checkin"),
        10: ("check_in", "datetime.invalid"),
        11: ("check_in", "stay.check_in_required"),
        12: ("venue", "venue.not_found"),
    }
    assert (result.loaded, result.existing) == (1, 1)
    assert all(e.message_zh and e.message_en for e in result.errors)
    report = tmp_path / "errors.csv"
    service.write_error_report(result.errors, report)
    with report.open(encoding="utf-8-sig") as fh:
        lines = list(csv.DictReader(fh))
    assert [int(r["line"]) for r in lines] == sorted(_errors(result))
    with world.session() as s:
        batch = s.get(ImportBatch, result.batch_id)
    assert batch is not None and (
        batch.rows_total,
        batch.rows_loaded,
        batch.rows_existing,
        batch.rows_rejected,
    ) == (
        12,
        1,
        1,
        10,
    )


def test_a_later_file_adds_the_check_out_of_a_known_stay_and_a_closed_venue_takes_no_stays(
    world: World, tmp_path: Path
) -> None:
    _, number = person(world, "张伟")
    vid, _ = _one_venue(world, tmp_path)
    first = _write(
        tmp_path / "a.csv", STAYS_ZH[:7], [["滨湖宾馆", INSIDE, "", number, "张伟", "2026-11-26 20:00", ""]]
    )
    second = _write(
        tmp_path / "b.csv",
        STAYS_ZH[:7],
        [["滨湖宾馆", INSIDE, "", number, "张伟", "2026-11-26 20:00", "2026-11-27 08:00"]],
    )
    assert _import(world, "stays", first).loaded == 1
    assert _import(world, "stays", second).loaded == 1  # the check-out
    assert (_import(world, "stays", second).existing, _import(world, "stays", first).existing) == (1, 1)
    with world.session() as s:
        [stay] = s.execute(select(Stay)).scalars()
        assert stay.check_out_at == dt.datetime(2026, 11, 27, 0, 0, tzinfo=dt.UTC)
    with world.session() as s:
        registry.change(
            s,
            world.ctx(s, "station_admin_li"),
            venues.VENUE,
            vid,
            {"status": "closed"},
            expected_version=1,
            effective=None,
            prov=VenuePatch(expected_version=1).provenance.to_domain("station_admin_li"),
            reason="停业",
        )
    late = _write(
        tmp_path / "c.csv", STAYS_ZH[:7], [["滨湖宾馆", INSIDE, "", number, "张伟", "2026-11-27 09:00", ""]]
    )
    assert _errors(_import(world, "stays", late)) == {2: ("venue", "venue.closed")}


@pytest.mark.parametrize(
    "value", ["2026-03-01 21:30", "2026/3/1 21:30:00", "2026年3月1日 21时30分", "2026-03-01T13:30:00Z"]
)
def test_times_are_read_in_the_forms_venues_write_them(value: str) -> None:
    moment = formats.parse_datetime(value, "check_in")
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 3, 1, 13, 30, tzinfo=dt.UTC)


def test_an_imported_stay_is_in_the_guests_access_log(world: World, tmp_path: Path) -> None:
    from liangshi.persons import service as persons

    pid, number = person(world, "张伟")
    _one_venue(world, tmp_path)
    header = ["入住时间", "退房时间", "场所名称", "社区代码", "证件类型", "证件号码", "姓名"]
    rows = [["2026-11-26 20:00", "", "滨湖宾馆", INSIDE, "resident_id", number, "张伟"]]
    result = _import(world, "stays", _write(tmp_path / "stays.csv", header, rows))
    assert (result.loaded, result.errors) == (1, [])
    with world.session() as s:
        stay_id = s.execute(select(Stay.id).where(Stay.person_id == pid)).scalar_one()
        entries, _ = persons.access_log(s, world.ctx(s, "station_admin_li"), pid, limit=100, offset=0)
        imported = [e for e in entries if e["action"] == "stay.create"]
        assert len(imported) == 1  # the chunk's one entry, which lists the stay
        chunk = s.execute(select(AuditEntry).where(AuditEntry.seq == imported[0]["seq"])).scalar_one()
    assert imported[0]["import_batch"] == result.batch_id and imported[0]["object_kind"] == "stay"
    assert stay_id in json.loads(chunk.detail)["ids"]
