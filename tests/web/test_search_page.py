"""The search page forgives: traditional characters, same-sound characters and pinyin typos find the person,
each result with where they live and their category."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.addresses.test_matching import _dwelling, _street_with_plates
from tests.conftest import World
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


def test_an_address_search_names_the_level_the_match_reached(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    _, plates = _street_with_plates(world, ["28-3"], name="滨湖南路")
    _dwelling(world, plates["28-3"])  # 3栋 2单元 5层 501
    client = web_as("police_liu")
    shown = {}
    for text in ("鄂州市滨湖南路28-3号3栋2单元502室", "鄂州市滨湖南路28-3号3栋2单元501室"):
        r = client.get("/web/search", params={"q": text, "kind": "address"})
        assert r.status_code == 200
        shown[text] = r.text.split('data-testid="address-match-level">')[1].split("<")[0]
    assert list(shown.values()) == ["楼层", "房间"]
    client.cookies.set("ls_lang", "en")
    en = client.get("/web/search", params={"q": "鄂州市滨湖南路28-3号3栋2单元", "kind": "address"})
    assert 'data-testid="address-match-level">unit<' in en.text


def test_four_namesakes_are_told_apart_by_address_and_category(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    """Four 张伟 in four dwellings: the search shows all four together (NAMESAKES_FIRST), each with its own
    address and its category, then the names of the same sound."""
    import datetime as dt

    from liangshi.mpi import service as mpi
    from tests import factories
    from tests.conftest import INSIDE

    categories = ("resident", "floating", "separated", "lodging")
    with world.session() as s:
        ctx = world.ctx(s)
        inside, district = world.area(INSIDE), world.area("420704")
        ids = []
        for i, category in enumerate(categories):
            place = factories.place(s, ctx, area_id=inside, district_id=district, tag=f"伟{i}")
            pid = factories.person(s, ctx, area_id=inside, name="张伟", birth=dt.date(1970 + i, 1, 1))
            factories.arrival(
                s,
                ctx,
                person_id=pid,
                dwelling_id=place.dwelling_id,
                arrived=dt.date(2025, 1, 1),
                category=category,
            )
            ids.append(pid)
        factories.person(s, ctx, area_id=inside, name="张薇", birth=dt.date(1999, 1, 1))
    assert mpi.NAMESAKES_FIRST >= 4
    r = web_as("police_liu").get("/web/search", params={"q": "张伟"})
    assert r.status_code == 200
    rows = [r.text.split(f'<a href="/web/persons/{pid}">')[1].split("</tr>")[0] for pid in ids]
    homes = [row.split('data-testid="home">')[1].split("</td>")[0] for row in rows]
    assert len(set(homes)) == 4 and all("测试伟" in h for h in homes)
    for row, label in zip(
        rows, ("常住（户籍在本地）", "流动人口（市外来）", "人户分离（户籍在本市他处）", "寄住"), strict=True
    ):
        assert label in row, (label, row)
    assert r.text.index(f"/web/persons/{ids[-1]}") < r.text.index("张薇")
