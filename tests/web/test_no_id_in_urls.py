"""Issue 18: full ID numbers never travel in a URL (URLs land in server and proxy logs). Lookups go by POST;
a crawl of the pages finds no link carrying one; any URL that carries one is refused with 422 naming the field."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from fastapi.testclient import TestClient

from liangshi.common.idnumber import carries_id_number, compute_check_char
from liangshi.http.limits import _api_routes
from tests.web.conftest import Scene, csrf_of

# Links, form targets and htmx GETs in a page.
_URLS = re.compile(r"""(?:href|action|hx-get|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_ID_PARAM = re.compile(r"id_?num|idcard|id_?no\b|document", re.IGNORECASE)


def _links(html: str) -> list[str]:
    return [unescape(u) for u in _URLS.findall(html)]


def test_no_get_route_takes_a_document_number_parameter(app: Any) -> None:
    offenders = []
    for route in _api_routes(list(app.router.routes)):
        if "GET" not in (route.methods or ()):
            continue
        todo = [route.dependant]
        while todo:
            current = todo.pop()
            todo.extend(current.dependencies)
            for f in (*current.query_params, *current.path_params):
                if _ID_PARAM.search(f.alias):
                    offenders.append(f"{route.path} {f.alias}")
    assert offenders == []


def test_the_id_number_detector(scene: Scene) -> None:
    assert carries_id_number(scene.zhang_id)
    assert carries_id_number(f"张三 {scene.zhang_id.lower()}")
    assert carries_id_number("110105 19491231 002x")
    assert carries_id_number("110105491231002")  # the old 15-digit form
    assert not carries_id_number("420704001001001", old_form=False)  # a 15-digit area code
    assert not carries_id_number("张三 0312")
    assert not carries_id_number("13900000000")
    assert not carries_id_number(scene.zhang_id[:-1] + ("0" if scene.zhang_id[-1] != "0" else "1"))
    # A plate's standard address code (county code and a zero-padded number) whose last digit happens to be
    # the right check character is no ID number: it has no birth date.
    plate = next(c for c in (f"420704{n:012d}" for n in range(1, 100)) if compute_check_char(c[:17]) == c[17])
    assert not carries_id_number(plate)


def test_a_url_carrying_an_id_number_is_refused_naming_the_field(
    client: TestClient, login: Any, scene: Scene
) -> None:
    h = login("police_liu")
    r = client.get("/persons", params={"name": scene.zhang_id}, headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["data"]["errors"] == [
        {
            "field": "name",
            "code": "id_number_in_url",
            "message": r.json()["error"]["data"]["errors"][0]["message"],
        }
    ]
    en = client.get("/persons/search", params={"q": scene.zhang_id}, headers={**h, "Accept-Language": "en"})
    assert en.status_code == 422 and "may not travel in a URL" in en.json()["error"]["message"]
    r = client.get("/persons", params={"name": "张"}, headers=h)
    assert r.status_code == 200
    # A 15-digit area code is not an old ID number.
    assert client.get("/campaign/progress", params={"area": "420704001001001"}, headers=h).status_code != 422


def test_lookups_by_document_number_go_by_post(client: TestClient, login: Any, scene: Scene) -> None:
    h = login("police_liu")
    found = client.post("/persons/lookup", json={"id_number": scene.zhang_id}, headers=h)
    assert found.status_code == 200, found.text
    assert found.json()["person_id"] == scene.zhang
    page = client.post("/persons/find", json={"id_number": scene.zhang_id}, headers=h).json()
    assert [item["id"] for item in page["items"]] == [scene.zhang]
    assert scene.zhang_id not in str(page)  # masked
    assert client.get("/persons/lookup", headers=h).status_code == 422  # /persons/{object_id}: not a number
    spec = client.get("/openapi.json").json()["paths"]
    assert "get" not in spec["/persons/lookup"] and "post" in spec["/persons/lookup"]
    assert all(p["name"] != "id_number" for p in spec["/persons"]["get"]["parameters"])


def test_web_search_by_id_number_is_a_post_and_the_get_refuses_it(
    web_as: Callable[[str], TestClient], scene: Scene
) -> None:
    client = web_as("police_liu")
    form = client.get("/web/search")
    assert 'method="post" action="/web/search"' in form.text
    r = client.post("/web/search", data={"q": scene.zhang_id, "csrf_token": csrf_of(form.text)})
    assert r.status_code == 200
    assert f'/web/persons/{scene.zhang}"' in r.text
    # Only the search box echoes what was typed; the results show the number masked.
    assert r.text.count(scene.zhang_id) == r.text.count(f'value="{scene.zhang_id}"') == 1
    assert client.get("/web/search", params={"q": scene.zhang_id}).status_code == 422
    assert client.post("/web/search", data={"q": scene.zhang_id}).status_code == 403  # CSRF still holds


def test_a_crawl_of_the_pages_finds_no_link_with_an_id_number(
    web_as: Callable[[str], TestClient], scene: Scene
) -> None:
    client = web_as("police_liu")
    start = [
        "/web/",
        f"/web/persons/{scene.zhang}",
        f"/web/dwellings/{scene.place.dwelling_id}",
        "/web/search",
    ]
    seen: set[str] = set()
    todo = list(start)
    urls: list[str] = []
    while todo and len(seen) < 120:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        if r.status_code != 200 or "text/html" not in r.headers.get("content-type", ""):
            continue
        for link in _links(r.text):
            urls.append(link)
            parts = urlsplit(link)
            if parts.netloc or not parts.path.startswith("/web/") or parts.path.startswith("/web/static/"):
                continue
            if "logout" in parts.path or "lang" in parts.path:
                continue
            todo.append(link)
    assert len(seen) > 20
    assert f"/web/persons/{scene.zhang}" in seen
    offenders = []
    for link in urls:
        parts = urlsplit(link)
        values = [unquote(parts.path), *(v for _, v in parse_qsl(parts.query))]
        if any(carries_id_number(v) for v in values) or scene.zhang_id in unquote(link):
            offenders.append(link)
    assert offenders == []
