"""The search page forgives: traditional characters, same-sound characters and pinyin typos find the person,
each result with where they live and their category."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import Scene


@pytest.mark.parametrize(("query", "match"), [("張三", "繁体字"), ("张叁", "同音"), ("zhangsna", "拼音")])
def test_search_forgives_and_shows_address_and_category(
    web_as: Callable[[str], TestClient], scene: Scene, query: str, match: str
) -> None:
    r = web_as("police_liu").get("/web/search", params={"q": query})
    assert r.status_code == 200
    row = r.text.split(f'<a href="/web/persons/{scene.zhang}">')[1].split("</tr>")[0]
    assert match in row
    assert "滨湖社区" in row and "501室" in row and "流动人口（市外来）" in row
    assert scene.zhang_id not in r.text  # still masked


def test_search_by_name_and_id_suffix(web_as: Callable[[str], TestClient], scene: Scene) -> None:
    client = web_as("police_liu")
    hit = client.get("/web/search", params={"q": f"张三 {scene.zhang_id[-4:]}"})
    assert f'/web/persons/{scene.zhang}"' in hit.text and "找到1人" in hit.text
    miss = client.get("/web/search", params={"q": "张三 0000"})
    assert "找到0人" in miss.text
