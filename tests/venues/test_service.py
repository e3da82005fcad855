"""Venue stays through the service: matching, flags, check-outs, duplicates, follow-ups, retention."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from liangshi.access.service import SYSTEM
from liangshi.audit import service as audit
from liangshi.audit.models import AuditEntry
from liangshi.errors import Conflict, Forbidden, NotFound, Unauthenticated
from liangshi.venues import service as venues
from liangshi.venues.schemas import VenuePatch
from tests import factories
from tests.conftest import INSIDE, NOW, World
from tests.venues.helpers import D, H, check_in, check_out, counts, key, person, plate, post, stays, venue


def test_a_check_in_is_matched_to_the_person_holding_the_document(world: World) -> None:
    pid, number = person(world, "张伟")
    vid = venue(world)
    result = post(world, vid, [check_in("A1", number)])
    assert result["accepted"] == 1
    [item] = result["items"]
    assert (item["stay_ref"], item["status"], item["person_id"], item["flags"]) == ("A1", "accepted", pid, [])
    stored = stays(world)["A1"]
    assert (stored.person_id, stored.unknown_person, stored.foreign, stored.late_report) == (
        pid,
        False,
        False,
        False,
    )
    assert stored.received_at == NOW
    assert stored.county_code == "420704" and stored.area_id == world.area(INSIDE)


def test_a_guest_nobody_in_the_registry_holds_is_flagged_unknown(world: World) -> None:
    vid = venue(world)
    result = post(world, vid, [check_in("A1", factories.make_id(seq=777))])
    [item] = result["items"]
    assert (item["status"], item["person_id"], item["flags"]) == ("accepted", None, ["unknown"])
    assert stays(world)["A1"].unknown_person is True


def test_a_fifteen_digit_id_is_upgraded_before_matching(world: World) -> None:
    number18 = factories.make_id("420704", dt.date(1965, 3, 4), 123)
    pid, _ = person(world, "李明", number18)
    number15 = number18[:6] + number18[8:17]
    [item] = post(world, venue(world), [check_in("A1", number15, name="李明")])["items"]
    assert item["person_id"] == pid


def test_a_foreign_guest_reported_more_than_24_hours_after_check_in_is_flagged_late(world: World) -> None:
    vid = venue(world)
    passport = {"doc_type": "passport", "country": "USA"}
    result = post(
        world,
        vid,
        [
            check_in("LATE", "X1234567", at=NOW - 25 * H, name="John Smith", **passport),
            check_in("ONTIME", "X7654321", at=NOW - 23 * H, name="Jane Smith", **passport),
            check_in("HK", "H12345678", at=NOW - 30 * H, name="陈大文", doc_type="hk_mo_travel_permit"),
            check_in("LOCAL", factories.make_id(seq=555), at=NOW - 30 * H),
            check_in("CHN", "E12345678", at=NOW - 30 * H, name="王五", doc_type="passport", country="CHN"),
        ],
    )
    flags = {i["stay_ref"]: i["flags"] for i in result["items"]}
    assert flags == {
        "LATE": ["unknown", "foreign", "late_foreign_report"],
        "ONTIME": ["unknown", "foreign"],
        "HK": ["unknown", "foreign", "late_foreign_report"],
        "LOCAL": ["unknown"],
        "CHN": ["unknown"],
    }
    stored = stays(world)
    assert stored["LATE"].late_report and stored["LATE"].foreign
    assert not stored["LOCAL"].late_report and stored["LOCAL"].received_at == NOW


def test_a_check_out_without_a_check_in_is_rejected_and_writes_nothing(world: World) -> None:
    vid = venue(world)
    k = key(world, vid)
    before = counts(world)
    [item] = post(world, vid, [check_out("NOPE")], venue_key=k)["items"]
    assert (item["status"], item["code"]) == ("rejected", "stay.checkout_without_checkin")
    assert counts(world) == before


def test_check_outs_close_stays_from_earlier_batches_and_from_the_same_batch(world: World) -> None:
    vid = venue(world)
    k = key(world, vid)
    post(world, vid, [check_in("OLD", factories.make_id(seq=11), at=NOW - 3 * D)], venue_key=k)
    result = post(
        world,
        vid,
        [
            check_out("OLD", NOW - 2 * H),
            check_in("NEW", factories.make_id(seq=13), at=NOW - 5 * H),
            check_out("NEW", NOW - 4 * H),
            check_out("NEW", NOW - 3 * H),
            check_in("BACK", factories.make_id(seq=15), at=NOW - 2 * H),
            check_out("BACK", NOW - 3 * H),
        ],
        venue_key=k,
    )
    assert [(i["stay_ref"], i["status"], i["code"]) for i in result["items"]] == [
        ("OLD", "accepted", None),
        ("NEW", "accepted", None),
        ("NEW", "accepted", None),
        ("NEW", "duplicate", None),
        ("BACK", "accepted", None),
        ("BACK", "rejected", "stay.checkout_before_checkin"),
    ]
    stored = stays(world)
    assert stored["OLD"].check_out_at == NOW - 2 * H
    assert stored["NEW"].check_out_at == NOW - 4 * H
    assert stored["BACK"].check_out_at is None


def test_the_same_stay_checked_in_twice_is_a_duplicate(world: World) -> None:
    vid = venue(world)
    k = key(world, vid)
    number = factories.make_id(seq=21)
    first = post(world, vid, [check_in("A1", number), check_in("A1", number)], venue_key=k)
    assert [i["status"] for i in first["items"]] == ["accepted", "duplicate"]
    again = post(world, vid, [check_in("A1", number)], venue_key=k)
    assert [i["status"] for i in again["items"]] == ["duplicate"]
    assert len(stays(world)) == 1


def test_items_with_a_bad_document_or_name_are_rejected_alone(world: World) -> None:
    vid = venue(world)
    good = factories.make_id(seq=31)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    result = post(
        world,
        vid,
        [
            check_in("OK", good),
            check_in("BADID", bad_check),
            check_in("NOCOUNTRY", "X1234567", doc_type="passport", name="John"),
            check_in("BADNAME", factories.make_id(seq=33), name="张@伟"),
            check_in("FUTURE", factories.make_id(seq=35), at=NOW + 2 * H),
            {"stay_ref": "NOGUEST", "event": "check_in", "at": NOW.isoformat()},
        ],
    )
    codes = {i["stay_ref"]: (i["status"], i["code"]) for i in result["items"]}
    assert codes["OK"] == ("accepted", None)
    assert codes["BADID"][0] == "rejected" and codes["BADID"][1].startswith("id_number.")
    assert codes["NOCOUNTRY"] == ("rejected", "document.country_required")
    assert codes["BADNAME"] == ("rejected", "name.invalid")
    assert codes["FUTURE"] == ("rejected", "stay.time_in_future")
    assert codes["NOGUEST"] == ("rejected", "stay.guest_required")
    assert set(stays(world)) == {"OK"}


def test_one_audit_entry_per_accepted_stay_by_the_venue_actor(world: World) -> None:
    pid, number = person(world)
    vid = venue(world)
    with world.session() as s:
        before = s.execute(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())).scalars().first() or 0
    post(world, vid, [check_in("A1", number), check_in("A2", factories.make_id(seq=41)), check_out("NONE")])
    with world.session() as s:
        entries = list(s.execute(select(AuditEntry).where(AuditEntry.seq > before)).scalars())
        assert audit.verify(s).ok
    stay_entries = [e for e in entries if e.action.startswith("stay.")]
    assert [(e.action, e.actor_name, e.subject_person_id) for e in stay_entries] == [
        ("stay.check_in", f"venue:{vid}", pid),
        ("stay.check_in", f"venue:{vid}", None),
    ]


def test_venue_keys_authenticate_only_their_own_open_venue(world: World) -> None:
    vid, other = venue(world), venue(world, name="南浦宾馆")
    k, other_key = key(world, vid), key(world, other)
    with world.session() as s:
        with pytest.raises(Unauthenticated):
            venues.venue_context(s, "vk_nonsense", vid, now=NOW, today=NOW.date())
        with pytest.raises(Forbidden):
            venues.venue_context(s, other_key, vid, now=NOW, today=NOW.date())
        with pytest.raises(NotFound):
            venues.venue_context(s, k, 999_999, now=NOW, today=NOW.date())
        ctx, _ = venues.venue_context(s, k, vid, now=NOW, today=NOW.date())
        assert (ctx.actor.username, ctx.actor.area_id, ctx.actor.user_id) == (
            f"venue:{vid}",
            world.area(INSIDE),
            None,
        )
    key_id = _key_id(world, vid)
    with world.session() as s:
        venues.revoke_key(s, world.ctx(s, "station_admin_li"), vid, key_id)
    with world.session() as s, pytest.raises(Unauthenticated):
        venues.venue_context(s, k, vid, now=NOW, today=NOW.date())


def _key_id(world: World, venue_id: int) -> int:
    with world.session() as s:
        return int(venues.list_keys(s, world.ctx(s, "station_admin_li"), venue_id)[0]["key_id"])


def test_a_closed_venue_cannot_post_stays(world: World) -> None:
    vid = venue(world)
    k = key(world, vid)
    with world.session() as s:
        venues_ctx = world.ctx(s, "station_admin_li")
        from liangshi import registry

        registry.change(
            s,
            venues_ctx,
            venues.VENUE,
            vid,
            {"status": "closed"},
            expected_version=1,
            effective=None,
            prov=VenuePatch(expected_version=1).provenance.to_domain("station_admin_li"),
            reason="停业",
        )
    with world.session() as s, pytest.raises(Conflict) as exc:
        venues.venue_context(s, k, vid, now=NOW, today=NOW.date())
    assert exc.value.code == "venue.closed"


# ---- follow-ups ----------------------------------------------------------------------------------------------


def test_followups_list_long_staying_guests_without_a_residence(world: World) -> None:
    resident_pid, resident_number = person(world, "常住者")
    with world.session() as s:
        p = factories.place(
            s,
            world.ctx(s, "district_admin_chen"),
            area_id=world.area(INSIDE),
            district_id=world.area("420704"),
        )
        factories.arrival(
            s,
            world.ctx(s, "police_liu"),
            person_id=resident_pid,
            dwelling_id=p.dwelling_id,
            arrived=dt.date(2026, 1, 1),
        )
    visitor_pid, visitor_number = person(world, "访客甲")
    here = venue(world)
    elsewhere = venue(world, address_id=plate(world, "420704001002"), name="南浦宾馆")
    cafe = venue(world, kind="cafe", name="星空网吧")
    unknown = factories.make_id(seq=61)
    short = factories.make_id(seq=63)
    post(
        world,
        here,
        [
            {**check_in("R1", resident_number, at=NOW - 12 * D, name="常住者")},
            check_out("R1", NOW - 1 * D),
            check_in("V1", visitor_number, at=NOW - 6 * D, name="访客甲"),
            check_out("V1", NOW - 2 * D),
            check_in("U1", unknown, at=NOW - 40 * D, name="无名氏"),
            check_in("S1", short, at=NOW - 3 * D, name="短住者"),
            check_out("S1", NOW - 1 * D),
        ],
    )
    # The visitor also stayed 5 nights in a hotel of another community (counted city-wide), and in a café.
    post(
        world,
        elsewhere,
        [check_in("V2", visitor_number, at=NOW - 12 * D, name="访客甲"), check_out("V2", NOW - 7 * D)],
    )
    post(world, cafe, [check_in("C1", short, at=NOW - 20 * D, name="短住者"), check_out("C1", NOW - 1 * D)])
    with world.session() as s:
        result = venues.followups(s, world.ctx(s, "police_liu"), world.area(INSIDE), 7)
    listed = {g["name"]: g for g in result["guests"]}
    assert set(listed) == {"访客甲", "无名氏"}
    assert listed["访客甲"]["person_id"] == visitor_pid and listed["访客甲"]["nights"] == 9
    assert listed["无名氏"]["unknown_person"] is True and listed["无名氏"]["nights"] == 30
    assert "*" in listed["访客甲"]["document"]["number"]
    assert listed["访客甲"]["venue_name"] == "滨湖宾馆"
    with world.session() as s:
        reads = list(
            s.execute(select(AuditEntry).where(AuditEntry.action == "venue.followup_read")).scalars()
        )
    assert sorted((e.subject_person_id or 0) for e in reads) == sorted([visitor_pid, 0])
    with world.session() as s:
        result = venues.followups(s, world.ctx(s, "police_liu"), world.area(INSIDE), 10)
    assert [g["name"] for g in result["guests"]] == ["无名氏"]


# ---- retention -----------------------------------------------------------------------------------------------


def test_purge_deletes_only_stays_past_their_kinds_retention_and_is_audited(world: World) -> None:
    hotel, cafe = venue(world), venue(world, kind="cafe", name="星空网吧")
    post(
        world,
        hotel,
        [
            check_in("H-OLD", factories.make_id(seq=71), at=NOW - 800 * D),
            check_out("H-OLD", NOW - 799 * D),
            check_in("H-RECENT", factories.make_id(seq=73), at=NOW - 100 * D),
        ],
    )
    post(
        world,
        cafe,
        [
            check_in("C-OLD", factories.make_id(seq=75), at=NOW - 90 * D),
            check_out("C-OLD", NOW - 90 * D + H),
            check_in("C-RECENT", factories.make_id(seq=77), at=NOW - 10 * D),
        ],
    )
    with world.session() as s:
        dry = venues.purge(s, SYSTEM, now=NOW, retention_days={"hotel": 730, "cafe": 60}, dry_run=True)
    assert (dry["kinds"]["hotel"]["stays"], dry["kinds"]["cafe"]["stays"]) == (1, 1)
    assert len(stays(world)) == 4
    with world.session() as s:
        done = venues.purge(s, SYSTEM, now=NOW, retention_days={"hotel": 730, "cafe": 60}, dry_run=False)
    assert set(stays(world)) == {"H-RECENT", "C-RECENT"}
    with world.session() as s:
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "venues.purge")).scalars()
        assert '"stays": 1' in entry.detail and done["kinds"]["hotel"]["cutoff"][:10] in entry.detail
