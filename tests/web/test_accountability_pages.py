"""The collector scores page: each collector's defects, rates and score, the 奖惩 lists, the xlsx."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from liangshi.inspections import rules
from tests.conftest import World
from tests.inspections.test_accountability import FROM, TO, _inspected
from tests.inspections.test_service import TOWNSHIP
from tests.web.conftest import csrf_of


def test_the_scores_page_lists_collectors_and_the_penalty_read_from_the_interval(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    _inspected(world)
    web = web_as("inspector_zhao")
    assert 'href="/web/accountability"' in web.get("/web/").text
    period = {"area": TOWNSHIP, "from": FROM.isoformat(), "to": TO.isoformat()}
    r = web.get("/web/accountability", params=period)
    assert r.status_code == 200 and "采集员考核" in r.text
    row = r.text.split('data-collector="collector_zhang"')[1].split("</tr>")[0]
    assert "2/3" in row and "处罚" in row and "按区间下限" in row
    book = web.get("/web/accountability.xlsx", params=period)
    assert book.status_code == 200
    assert load_workbook(io.BytesIO(book.content)).active.cell(3, 3).value == "录入记录"


def test_a_collector_may_not_see_the_scores(web_as: Callable[[str], TestClient]) -> None:
    r = web_as("collector_zhang").get("/web/accountability")
    assert r.status_code == 403


def _sheet_form(web: TestClient, sheet: str) -> dict[str, str]:
    page = web.get(
        "/web/accountability", params={"area": TOWNSHIP, "from": FROM.isoformat(), "to": TO.isoformat()}
    )
    return {
        "csrf_token": csrf_of(page.text),
        "area": TOWNSHIP,
        "from": FROM.isoformat(),
        "to": TO.isoformat(),
        "sheet": sheet,
    }


def _score_of(html: str, collector: str) -> str:
    row = html.split(f'data-collector="{collector}"')[1].split("</tr>")[0]
    return row.split('<td class="num">')[-1].split("</td>")[0]


def test_the_scoring_sheet_is_shown_edited_and_scores_the_report_on_the_page(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    _inspected(world)
    web = web_as("inspector_zhao")
    period = {"area": TOWNSHIP, "from": FROM.isoformat(), "to": TO.isoformat()}
    shown = web.get("/web/accountability", params=period).text
    assert 'name="sheet"' in shown and "[quality]" in shown and "inspection_defect = -5.0" in shown
    default = _score_of(shown, "collector_zhang")
    sheet = rules.sheet_toml(rules.scoring_sheet())
    edited = sheet.replace('name = "默认评分表"', 'name = "严格评分表"').replace(
        "inspection_defect = -5.0", "inspection_defect = -50.0"
    )
    r = web.post("/web/accountability", data=_sheet_form(web, edited))
    assert r.status_code == 200 and "严格评分表" in r.text and "inspection_defect = -50.0" in r.text
    assert float(_score_of(r.text, "collector_zhang")) == float(default) - 2 * 45
    book = web.post("/web/accountability.xlsx", data=_sheet_form(web, edited))
    assert book.status_code == 200
    assert "严格评分表" in str(load_workbook(io.BytesIO(book.content)).active.cell(1, 1).value)
    # Used for that report only: the page is on the default sheet again.
    again = web.get("/web/accountability", params=period).text
    assert "默认评分表" in again and _score_of(again, "collector_zhang") == default


def test_a_bad_scoring_sheet_is_refused_naming_the_item_and_the_report_stays_on_the_default(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    _inspected(world)
    web = web_as("inspector_zhao")
    default = _score_of(
        web.get(
            "/web/accountability", params={"area": TOWNSHIP, "from": FROM.isoformat(), "to": TO.isoformat()}
        ).text,
        "collector_zhang",
    )
    for bad, why in [
        ("[quality]\nbogus = 1\n", "quality.bogus"),
        ("[penalty]\ndefect_rate = 3\n", "penalty.defect_rate"),
        ("[quality\n", "评分表不正确"),
        ('[volume]\nrecord = "many"\n', "volume.record"),
    ]:
        r = web.post("/web/accountability", data=_sheet_form(web, bad))
        assert r.status_code == 422, bad
        error = r.text.split('data-testid="sheet-error"')[1].split("</p>")[0]
        assert "评分表不正确" in error and why in error
        assert "默认评分表" in r.text and _score_of(r.text, "collector_zhang") == default
        assert bad.split("\n")[0] in r.text  # the text typed is kept to correct it
        xlsx = web.post("/web/accountability.xlsx", data=_sheet_form(web, bad))
        assert xlsx.status_code == 422 and "text/html" in xlsx.headers["content-type"]


def test_the_sheet_is_in_english_on_the_english_page(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    web = web_as("inspector_zhao")
    web.get("/web/lang", params={"lang": "en", "next": "/web/accountability"})
    r = web.post("/web/accountability", data=_sheet_form(web, "[quality]\nbogus = 1\n"))
    assert r.status_code == 422 and "Malformed scoring sheet: unknown item quality.bogus" in r.text
    assert "Score on this sheet" in r.text


def test_a_collector_may_not_score_on_a_sheet(web_as: Callable[[str], TestClient]) -> None:
    web = web_as("collector_zhang")
    home = web.get("/web/")
    data = {"csrf_token": csrf_of(home.text), "area": TOWNSHIP, "sheet": "[quality]\nfinding = 1\n"}
    assert web.post("/web/accountability", data=data).status_code == 403
