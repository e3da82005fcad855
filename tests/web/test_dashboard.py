"""The dashboard page: numbers with numerator and denominator, drill-down links, xlsx, scope and roles."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.conftest import World
from tests.kpis.helpers import EXPECTED, FROM, TO, A, build

Web = Callable[[str], TestClient]
PERIOD = {"from": FROM.isoformat(), "to": TO.isoformat()}


def _row(html: str, key: str) -> tuple[int, int]:
    row = html.split(f'data-kpi="{key}"')[1].split("</tr>")[0]
    num = re.search(r'data-testid="numerator">([\d,]+)<', row)
    den = re.search(r'data-testid="denominator">([\d,]+)<', row)
    assert num and den
    return int(num[1].replace(",", "")), int(den[1].replace(",", ""))


def test_the_dashboard_shows_each_rate_with_numerator_and_denominator(world: World, web_as: Web) -> None:
    build(world)
    r = web_as("station_admin_li").get("/web/dashboard", params={"area": A, **PERIOD})
    assert r.status_code == 200
    for key in ("plate_installation", "rental_registration", "floating_timeliness", "venue_realtime"):
        assert _row(r.text, key) == EXPECTED[A][key]
    assert "门楼牌编制安装率" in r.text and "统计看板" in r.text
    assert "/web/static/vendor/echarts.min.js" in r.text


def test_the_dashboard_drills_down_from_the_subdistrict_to_its_communities(world: World, web_as: Web) -> None:
    build(world)
    client = web_as("station_admin_li")
    r = client.get("/web/dashboard", params=PERIOD)  # default: the station's own area
    assert r.status_code == 200
    links = re.findall(r'<a href="([^"]+)" data-testid="drill-link">([^<]+)</a>', r.text)
    names = [name for _, name in links]
    assert "滨湖社区" in names and "南浦社区" in names
    target = next(href for href, name in links if name == "滨湖社区").replace("&amp;", "&")
    child = client.get(target)
    assert child.status_code == 200
    assert _row(child.text, "rental_registration") == EXPECTED[A]["rental_registration"]
    assert 'data-testid="drill"' not in child.text  # a community has no areas below


def test_the_xlsx_download_follows_the_page_language(world: World, web_as: Web) -> None:
    build(world)
    client = web_as("station_admin_li")
    r = client.get("/web/dashboard.xlsx", params={"area": "420704001", **PERIOD})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert len(wb.sheetnames) == 2
    assert wb[wb.sheetnames[0]]["A1"].value == "区划代码"
    client.cookies.set("ls_lang", "en")
    en = load_workbook(io.BytesIO(client.get("/web/dashboard.xlsx", params={"area": A, **PERIOD}).content))
    assert en[en.sheetnames[0]]["A1"].value == "Area code"


def test_the_dashboard_is_scoped_and_refused_to_roles_without_kpi_read(world: World, web_as: Web) -> None:
    build(world)
    collector = web_as("collector_zhang")
    assert collector.get("/web/dashboard", params={"area": "420704001"}).status_code == 404
    assert collector.get("/web/dashboard", params={"area": "420704001002"}).status_code == 404
    assert collector.get("/web/dashboard").status_code == 200
    assert web_as("auditor_sun").get("/web/dashboard").status_code == 403
    assert "/web/dashboard" not in web_as("auditor_sun").get("/web/").text


def test_the_dashboard_in_english(world: World, web_as: Web) -> None:
    build(world)
    client = web_as("station_admin_li")
    client.cookies.set("ls_lang", "en")
    r = client.get("/web/dashboard", params={"area": A, **PERIOD})
    assert "Door-plate installation rate" in r.text and "Numerator" in r.text


def test_each_number_opens_the_objects_behind_it(world: World, web_as: Web) -> None:
    build(world)
    web = web_as("station_admin_li")
    r = web.get("/web/dashboard", params={"area": A, **PERIOD})
    assert r.status_code == 200
    row = r.text.split('data-kpi="floating_timeliness"')[1].split("</tr>")[0]
    links = dict(re.findall(r'href="(/web/kpis/floating_timeliness\?[^"]+part=(\w+))"', row))
    assert set(links.values()) == {"numerator", "denominator", "missing"}
    for href, part in links.items():
        page = web.get(href.replace("&amp;", "&"))
        assert page.status_code == 200, page.text
        total = int(re.search(r'data-testid="total">([\d,]+)<', page.text)[1])  # type: ignore[index]
        assert total == {"numerator": 3, "denominator": 5, "missing": 2}[part], part
        assert page.text.count('data-kind="residence"') == total
    missing = web.get("/web/kpis/floating_timeliness", params={"area": A, **PERIOD, "part": "missing"}).text
    assert "缺口（待整改）" in missing and "*" in missing
    assert not re.search(r"\d{17}[\dX]", missing)  # ID numbers masked
    assert web.get("/web/kpis/nope", params={"area": A, **PERIOD}).status_code == 422
    web.cookies.set("ls_lang", "en")
    english = web.get("/web/kpis/venue_realtime", params={"area": A, **PERIOD, "part": "missing"})
    assert (
        english.status_code == 200
        and "Missing (to fix)" in english.text
        and 'data-kind="stay"' in english.text
    )
    assert web.get("/web/kpis/nope", params={"area": A, **PERIOD}).status_code == 422
    assert (
        web_as("collector_zhang")
        .get("/web/kpis/plate_installation", params={"area": "420704001002"})
        .status_code
        == 404
    )


def test_a_number_links_its_objects_only_for_a_role_that_may_read_them(world: World, web_as: Web) -> None:
    # A housing officer reads rentals but not venue stays: the venue rate's numbers are shown, not linked.
    build(world)
    web = web_as("housing_officer_he")
    r = web.get("/web/dashboard", params={"area": A, **PERIOD})
    assert r.status_code == 200
    venue = r.text.split('data-kpi="venue_realtime"')[1].split("</tr>")[0]
    assert "/web/kpis/venue_realtime" not in venue
    assert _row(r.text, "venue_realtime") == EXPECTED[A]["venue_realtime"]
    rental = r.text.split('data-kpi="rental_registration"')[1].split("</tr>")[0]
    assert "/web/kpis/rental_registration" in rental
    refused = web.get("/web/kpis/venue_realtime", params={"area": A, **PERIOD, "part": "numerator"})
    assert refused.status_code == 403
