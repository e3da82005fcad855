"""KPIs as use cases: exact numerators and denominators on a hand-built registry, roll-up, scope, periods."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from liangshi.errors import Forbidden, NotFound, ValidationFailed
from liangshi.kpis import rules, service
from liangshi.residence import calendar
from tests.conftest import World
from tests.kpis.helpers import EXPECTED, FROM, TO, A, B, C, build, summed

D = dt.date


def _values(report: service.Report, code: str) -> dict[str, tuple[int, int, float | None]]:
    node = next(n for n in report.nodes.values() if n.code == code)
    return {k["key"]: (k["numerator"], k["denominator"], k["rate"]) for k in report.kpis(node.id)}


def _compute(world: World, persona: str, area: str | None) -> service.Report:
    with world.session() as s:
        return service.compute(s, world.ctx(s, persona), area_code=area, date_from=FROM, date_to=TO)


def test_every_kpi_of_each_community_has_the_hand_counted_numerator_and_denominator(world: World) -> None:
    build(world)
    report = _compute(world, "district_admin_chen", "420704")
    for code, expected in EXPECTED.items():
        got = _values(report, code)
        for key, (num, den) in expected.items():
            assert got[key][:2] == (num, den), (code, key)
            assert got[key][2] == rules.rate(num, den)


def test_parents_show_the_sum_of_their_communities_and_drill_down_lists_the_children(world: World) -> None:
    build(world)
    report = _compute(world, "district_admin_chen", "420704")
    subdistrict = _values(report, "420704001")
    district = _values(report, "420704")
    for key in rules.BY_KEY:
        assert subdistrict[key][:2] == summed([A, B], key), key
        assert district[key][:2] == summed([A, B, C], key), key
    assert district["plate_installation"] == (4, 6, round(4 / 6, 6))
    assert subdistrict["floating_timeliness"] == (3, 5, 0.6)
    data = report.to_json()
    assert data["area"]["code"] == "420704"
    children = {c["area"]["code"]: c for c in data["children"]}
    assert {"420704001", "420704002"} <= set(children)
    kpis = {k["key"]: k for k in children["420704001"]["kpis"]}
    assert (kpis["rental_registration"]["numerator"], kpis["rental_registration"]["denominator"]) == (2, 3)
    assert kpis["rental_registration"]["target"] == 1.0
    assert kpis["rental_registration"]["area_code"] == "420704001"
    assert (kpis["rental_registration"]["from"], kpis["rental_registration"]["to"]) == (FROM, TO)


def test_a_rate_with_nothing_counted_is_none_not_zero(world: World) -> None:
    build(world)
    got = _values(_compute(world, "district_admin_chen", B), B)
    assert got["venue_realtime"] == (0, 0, None)
    assert got["floating_timeliness"] == (0, 0, None)
    assert got["category_lodging"] == (1, 1, 1.0)


def test_counts_by_category_have_no_target_and_share_one_denominator(world: World) -> None:
    build(world)
    report = _compute(world, "district_admin_chen", A)
    kpis = {k["key"]: k for k in report.kpis(report.root.id)}
    categories = [kpis[key] for key in rules.CATEGORY_KEYS]
    assert all(k["target"] is None and k["is_count"] for k in categories)
    assert {k["denominator"] for k in categories} == {5}
    assert sum(k["numerator"] for k in categories) == 5


def test_a_collector_sees_their_community_by_default_and_nothing_above_or_beside_it(world: World) -> None:
    build(world)
    report = _compute(world, "collector_zhang", None)
    assert report.root.code == A
    assert _values(report, A)["plate_installation"][:2] == EXPECTED[A]["plate_installation"]
    assert set(n.code for n in report.nodes.values()) == {A}
    for area in ("420704001", B, "420102001001"):
        with pytest.raises(NotFound):
            _compute(world, "collector_zhang", area)


def test_roles_without_kpi_read_are_refused(world: World) -> None:
    for persona in ("auditor_sun", "health_liaison_wang"):
        with pytest.raises(Forbidden):
            _compute(world, persona, A)


def test_a_reversed_or_endless_period_is_refused(world: World) -> None:
    with world.session() as s:
        ctx = world.ctx(s, "district_admin_chen")
        with pytest.raises(ValidationFailed) as exc:
            service.compute(s, ctx, area_code=A, date_from=D(2026, 11, 2), date_to=D(2026, 11, 1))
        assert exc.value.code == "kpi.period_reversed"
        with pytest.raises(ValidationFailed) as exc:
            service.compute(s, ctx, area_code=A, date_from=D(2000, 1, 1), date_to=D(2026, 11, 1))
        assert exc.value.code == "kpi.period_too_long"


def test_an_unknown_area_code_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        _compute(world, "city_admin_wang", "999999")


def test_a_period_without_the_arrivals_counts_none_of_them(world: World) -> None:
    build(world)
    with world.session() as s:
        report = service.compute(
            s, world.ctx(s, "district_admin_chen"), area_code=A, date_from=D(2026, 11, 4), date_to=TO
        )
    got = _values(report, A)
    # Every arrival (2 and 3 November) lies before the period.
    assert got["floating_registration"][:2] == (0, 0)
    # f1 (11-10) and f2 (11-12) departed in it; f5 (10-15) did not.
    assert got["floating_deregistration"][:2] == (1, 2)
    # Stock KPIs do not depend on the start of the period.
    assert got["plate_installation"][:2] == EXPECTED[A]["plate_installation"]


def test_registration_in_time_counts_working_days_with_the_holiday_calendar() -> None:
    cal = calendar.load_calendar()
    monday = D(2026, 11, 2)
    assert rules.registered_in_time(monday, monday, cal)
    assert rules.registered_in_time(monday, D(2026, 11, 5), cal)  # 3 working days
    assert not rules.registered_in_time(monday, D(2026, 11, 6), cal)  # 4
    assert not rules.registered_in_time(monday, None, cal)
    # Over National Day (1–7 October are holidays): 30 Sep → 9 Oct is 2 working days, not 7.
    assert rules.registered_in_time(D(2026, 9, 30), D(2026, 10, 9), cal)
    assert not rules.registered_in_time(
        D(2026, 9, 30), D(2026, 10, 9), calendar.HolidayCalendar(frozenset(), frozenset())
    )


def test_the_registration_deadline_is_the_last_day_before_the_fourth_working_day() -> None:
    cal = calendar.load_calendar()
    assert rules.registration_deadline(D(2026, 11, 2), cal) == D(2026, 11, 5)  # Monday → Thursday
    assert rules.registration_deadline(D(2026, 11, 6), cal) == D(2026, 11, 11)  # Friday → Wednesday
    # 10 October 2026 is a make-up working Saturday: 8, 9, 10 October, and 12 October would be the fourth.
    assert rules.registration_deadline(D(2026, 9, 30), cal) == D(2026, 10, 11)
    deadlines = rules.registration_deadlines(D(2026, 11, 1), D(2026, 11, 30), cal)
    assert len(deadlines) == 30
    for arrival, deadline in deadlines.items():
        assert rules.registered_in_time(arrival, deadline, cal)
        assert not rules.registered_in_time(arrival, deadline + dt.timedelta(days=1), cal)


def test_rate_is_rounded_and_none_without_denominator() -> None:
    assert rules.rate(2, 3) == 0.666667
    assert rules.rate(0, 0) is None
    assert rules.rate(0, 4) == 0.0


def test_the_workbook_has_one_sheet_per_level_with_chinese_or_english_headers(world: World) -> None:
    build(world)
    report = _compute(world, "district_admin_chen", "420704001")
    zh = load_workbook(io.BytesIO(service.workbook(report, "zh")))
    assert len(zh.sheetnames) == 2  # the subdistrict, its communities
    assert "街道" in zh.sheetnames[0] and "社区" in zh.sheetnames[1]
    top = zh[zh.sheetnames[0]]
    assert [c.value for c in top[1]] == list(service.HEADERS["zh"])
    rows = {(r[0], r[3]): r for r in top.iter_rows(min_row=2, values_only=True)}
    row = rows[("420704001", "出租房屋登记率")]
    assert (row[4], row[5], row[7]) == (2, 3, 1.0)
    assert row[6] == pytest.approx(2 / 3, abs=1e-6)
    communities = zh[zh.sheetnames[1]]
    codes = {r[0] for r in communities.iter_rows(min_row=2, values_only=True)}
    assert {A, B} <= codes
    assert communities.max_row - 1 == len(codes) * len(rules.KPIS)
    en = load_workbook(io.BytesIO(service.workbook(report, "en")))
    first = en[en.sheetnames[0]]
    assert [c.value for c in first[1]] == list(service.HEADERS["en"])
    assert "Rental registration rate" in {r[3] for r in first.iter_rows(min_row=2, values_only=True)}


def test_a_cached_city_report_answers_the_areas_below_it_within_their_scope(world: World) -> None:
    build(world)
    now = [0.0]
    cache = service.ReportCache(300, clock=lambda: now[0])

    def cached(persona: str, area: str | None) -> service.Report:
        with world.session() as s:
            return service.compute_cached(
                s, world.ctx(s, persona), cache, area_code=area, date_from=FROM, date_to=TO
            )

    city = cached("city_admin_wang", "420700")
    community = cached("collector_zhang", None)
    assert community.root.code == A and set(n.code for n in community.nodes.values()) == {A}
    assert community.computed_at == city.computed_at  # narrowed from the city's report, not counted again
    assert _values(community, A)["plate_installation"][:2] == EXPECTED[A]["plate_installation"]
    assert community.root.depth == 0
    # The jurisdiction is checked before the cache: the city report does not leak to a collector.
    with pytest.raises(NotFound):
        cached("collector_zhang", "420704")
    # After the lifetime the counts are taken again.
    now[0] = 301.0
    fresh = cached("collector_zhang", None)
    assert fresh is not community and fresh.root.code == A


def test_a_warmed_report_answers_the_default_dashboard_without_counting_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(world)
    start, end = service.default_period(None, None, world.clock.today())
    with world.session() as s:
        expected = service.compute(
            s, world.ctx(s, "collector_zhang"), area_code=None, date_from=start, date_to=end
        )
    cache = service.ReportCache(300)
    counted = service.warm(world.sessions, cache, world.clock)
    assert "420000" in counted  # the province is the top area of the test gazetteer

    def no_counting(*args: object, **kwargs: object) -> None:
        raise AssertionError("the dashboard counted afresh instead of using the warmed report")

    monkeypatch.setattr(service, "compute", no_counting)
    with world.session() as s:
        report = service.compute_cached(
            s, world.ctx(s, "collector_zhang"), cache, area_code=None, date_from=start, date_to=end
        )
        assert report.root.code == A
        assert _values(report, A) == _values(expected, A)
        # The jurisdiction is still checked first: the warmed province report does not leak to a collector.
        with pytest.raises(NotFound):
            service.compute_cached(
                s, world.ctx(s, "collector_zhang"), cache, area_code="420704", date_from=start, date_to=end
            )
