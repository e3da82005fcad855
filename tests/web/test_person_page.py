"""The person page: codes by their names, the household and relationship to the head, 人走注销 in place (which
also closes the tenancy), and the page as of a past date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.persons import service as persons
from liangshi.persons.schemas import PersonCreate
from liangshi.rentals import service as rentals
from liangshi.rentals.models import RentalTenant, RentalTenantVersion
from liangshi.rentals.schemas import TenantIn
from liangshi.residence.models import Residence, ResidenceVersion
from tests import factories
from tests.conftest import INSIDE, World
from tests.web.conftest import Scene, csrf_of


def _coded_person(world: World, scene: Scene) -> int:
    """刘芳: every coded item filled, in 张三's household as his wife, living in his dwelling."""
    with world.session() as s:
        ctx = world.ctx(s)
        snap = persons.create_person(
            s,
            ctx,
            PersonCreate.model_validate(
                {
                    "area_id": world.area(INSIDE),
                    "name": "刘芳",
                    "sex": "2",
                    "birth_date": "1988-06-01",
                    "ethnicity": "01",
                    "hukou_region": "420115",
                    "education": "41",
                    "marital_status": "20",
                    "valid_from": "2020-01-01",
                }
            ),
        )
        pid = int(snap.entity.id)
        factories.household(
            s,
            ctx,
            area_id=world.area(INSIDE),
            dwelling_id=scene.place.dwelling_id,
            members=[(scene.zhang, "02"), (pid, "12")],
        )
        return pid


def test_person_page_shows_every_code_by_its_name(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    pid = _coded_person(world, scene)
    page = web_as("police_liu").get(f"/web/persons/{pid}")
    assert page.status_code == 200
    text = page.text
    assert 'data-testid="value-ethnicity" title="01">汉<' in text
    assert 'data-testid="value-education" title="41">中等专科毕业<' in text
    assert 'data-testid="value-marital_status" title="20">已婚<' in text
    assert 'data-testid="value-hukou_region" title="420115">湖北省武汉市江夏区<' in text
    assert 'data-testid="value-nationality" title="CHN">中国<' in text
    english = web_as("police_liu")
    english.get("/web/lang", params={"lang": "en", "next": "/web/"})
    en = english.get(f"/web/persons/{pid}").text
    assert ">China<" in en and "汉 (01)" in en


def test_person_page_shows_the_household_and_each_relationship_to_the_head(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    pid = _coded_person(world, scene)
    text = web_as("police_liu").get(f"/web/persons/{pid}").text
    assert 'data-testid="relationship">妻<' in text
    assert f'<a href="/web/persons/{scene.zhang}">张三</a>' in text and "<td>户主</td>" in text


def test_an_officer_deregisters_a_departure_from_the_person_page_and_the_tenancy_closes(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    with world.session() as s:
        rental_id = rentals.open_rental_of(s, scene.place.dwelling_id)
        assert rental_id is not None
        version = rentals.rental_of_dwelling(s, world.ctx(s), scene.place.dwelling_id)
        assert version is not None
        rentals.attach_tenant(
            s,
            world.ctx(s, "police_liu"),
            rental_id,
            TenantIn(expected_version=int(version.entity.version), person_id=scene.zhang),
        )
    client = web_as("police_liu")
    page = client.get(f"/web/persons/{scene.zhang}")
    assert 'data-testid="deregister"' in page.text
    with world.session() as s:
        res = (
            s.execute(
                select(Residence).where(Residence.person_id == scene.zhang).order_by(Residence.id.desc())
            )
            .scalars()
            .first()
        )
        assert res is not None
        rid, version_no = res.id, res.version
    done = client.post(
        f"/web/persons/{scene.zhang}/residences/{rid}/departure",
        data={
            "csrf_token": csrf_of(page.text),
            "expected_version": str(version_no),
            "departure_date": "2026-11-20",
            "reason": "left_city",
            "destination": "武汉",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == f"/web/persons/{scene.zhang}"
    after = client.get(f"/web/persons/{scene.zhang}").text
    assert "暂无现住址登记。" in after and "人走注销已登记" in after
    assert 'data-testid="deregister"' not in after
    with world.session() as s:
        v = ResidenceVersion
        assert s.execute(
            select(v.departure_date).where(
                v.entity_id == rid, v.superseded_at.is_(None), v.change == "retire"
            )
        ).scalar_one() == dt.date(2026, 11, 20)
        tv = RentalTenantVersion
        ended = s.execute(
            select(tv.valid_to)
            .join(RentalTenant, RentalTenant.id == tv.entity_id)
            .where(RentalTenant.person_id == scene.zhang, tv.superseded_at.is_(None))
        ).scalar_one()
        assert ended == dt.date(2026, 11, 20)


def test_a_bad_departure_shows_the_error_in_place_and_writes_nothing(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("police_liu")
    page = client.get(f"/web/persons/{scene.zhang}")
    with world.session() as s:
        res = s.execute(select(Residence).where(Residence.person_id == scene.zhang)).scalars().first()
        assert res is not None
        rid, version_no = res.id, res.version
    bad = client.post(
        f"/web/persons/{scene.zhang}/residences/{rid}/departure",
        data={
            "csrf_token": csrf_of(page.text),
            "expected_version": str(version_no),
            "departure_date": "2026-01-01",  # before the arrival on 2026-03-01
            "reason": "left_city",
        },
    )
    assert bad.status_code == 422
    assert 'data-testid="form-error"' in bad.text and "离开日期不能早于来住日期" in bad.text
    with world.session() as s:
        assert (
            s.execute(
                select(ResidenceVersion.row_id).where(
                    ResidenceVersion.entity_id == rid, ResidenceVersion.change == "retire"
                )
            ).first()
            is None
        )


def test_a_departure_posted_for_another_persons_residence_is_refused(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("police_liu")
    page = client.get(f"/web/persons/{scene.li}")
    with world.session() as s:
        res = s.execute(select(Residence).where(Residence.person_id == scene.zhang)).scalars().first()
        assert res is not None
        rid, version_no = res.id, res.version
    wrong = client.post(
        f"/web/persons/{scene.li}/residences/{rid}/departure",
        data={
            "csrf_token": csrf_of(page.text),
            "expected_version": str(version_no),
            "departure_date": "2026-11-20",
            "reason": "left_city",
        },
    )
    assert wrong.status_code == 422 and "该居住登记不属于此人" in wrong.text


def test_the_person_page_as_of_a_past_date_shows_the_residence_of_that_day(
    web_as: Callable[[str], TestClient], scene: Scene
) -> None:
    client = web_as("police_liu")
    now = client.get(f"/web/persons/{scene.li}").text
    assert 'data-testid="current-residence"' not in now  # 李四 left on 2026-02-20
    then = client.get(f"/web/persons/{scene.li}", params={"on": "2025-12-01"})
    assert then.status_code == 200
    assert 'data-testid="current-residence"' in then.text and 'data-testid="as-of-badge"' in then.text
    assert 'data-testid="deregister"' not in then.text  # a past view is read-only
    assert client.get(f"/web/persons/{scene.li}", params={"on": "2025-13-45"}).status_code == 422


def test_dwelling_grid_and_map_pages_show_a_past_date(
    web_as: Callable[[str], TestClient], scene: Scene
) -> None:
    client = web_as("police_liu")
    dwelling = f"/web/dwellings/{scene.place.dwelling_id}"
    now = client.get(dwelling).text
    then_page = client.get(dwelling, params={"on": "2025-12-01"})
    assert then_page.status_code == 200, then_page.text[-2000:]
    then = then_page.text
    # 李四 lived there from 2025-05-01 to 2026-02-20; 张三 arrived on 2026-03-01.
    now_living = now.split('data-testid="occupants"')[1].split("</ul>")[0]
    then_living = then.split('data-testid="occupants"')[1].split("</ul>")[0]
    assert "张三" in now_living and "李四" not in now_living
    assert "李四" in then_living and "张三" not in then_living
    assert "2025-12-01 居住在此的人员" in then
    grid = client.get(f"/web/buildings/{scene.place.building_id}/grid", params={"on": "2025-12-01"})
    assert (
        grid.status_code == 200
        and 'data-testid="as-of-badge"' in grid.text
        and "截至 2025-12-01" in grid.text
    )
    area_map = client.get(f"/web/areas/{scene.place.area_id}/map", params={"on": "2025-12-01"})
    assert area_map.status_code == 200 and 'data-testid="as-of-badge"' in area_map.text
    assert client.get(dwelling, params={"on": "yesterday"}).status_code == 422


def test_a_departure_imported_without_deregistration_reads_departed_and_is_deregistered_in_place(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    from liangshi import registry
    from liangshi.registry import Provenance
    from liangshi.residence import service as residence

    with world.session() as s:
        res = (
            s.execute(
                select(Residence).where(Residence.person_id == scene.zhang).order_by(Residence.id.desc())
            )
            .scalars()
            .first()
        )
        assert res is not None
        rid = res.id
        # As the importer writes it: closed at its departure, no deregistration (issue 15's example).
        registry.retire(
            s,
            world.ctx(s, "police_liu"),
            residence.RESIDENCE,
            rid,
            expected_version=res.version,
            effective=dt.date(2026, 11, 10),
            prov=Provenance("department", "import", "document"),
            reason="import",
            changes={"departure_date": dt.date(2026, 11, 10)},
            permission="residence.write",
        )
        version_no = res.version
    client = web_as("police_liu")
    page = client.get(f"/web/persons/{scene.zhang}")
    # Not "deregistered" and not silently gone: departed, not deregistered — as the deregistration rate counts it.
    assert 'data-testid="departed-residence"' in page.text and "已离开未注销" in page.text
    assert 'value="2026-11-10"' in page.text and 'data-testid="deregister"' in page.text
    done = client.post(
        f"/web/persons/{scene.zhang}/residences/{rid}/departure",
        data={
            "csrf_token": csrf_of(page.text),
            "expected_version": str(version_no),
            "departure_date": "2026-11-10",
            "reason": "left_city",
            "destination": "武汉",
        },
    )
    assert done.status_code == 303, done.text
    after = client.get(f"/web/persons/{scene.zhang}").text
    assert 'data-testid="departed-residence"' not in after
    with world.session() as s:
        assert residence.residence_status(s, rid)[0] == "deregistered"


def test_a_landlords_rentals_are_paged_on_the_person_page_latest_first(
    web_as: Callable[[str], TestClient], world: World
) -> None:
    import re

    from tests.rentals.helpers import dwelling, file, person, place

    p = place(world)
    landlord = person(world, "钱多")
    rooms = [f"{floor}1{n}" for floor in range(1, 6) for n in range(1, 6)]  # 25 dwellings, 25 rentals
    for i, room in enumerate(rooms):
        file(
            world,
            dwelling(world, p.building_id, room),
            landlord,
            lease_start=dt.date(2026, 1, 1) + dt.timedelta(i),
        )
    client = web_as("police_liu")
    first = client.get(f"/web/persons/{landlord}")
    assert first.status_code == 200
    assert "作为出租人的出租房屋：第 1–20 条，共 25 条" in first.text
    # Latest lease first: rooms 211…515 on the first page, the five earliest (111…115) on the second.
    shown = set(re.findall(r"1单元(\d+)室", first.text))
    assert shown == set(rooms[5:]), shown
    assert f'href="/web/persons/{landlord}?let=20"' in first.text
    second = client.get(f"/web/persons/{landlord}?let=20")
    assert "第 21–25 条，共 25 条" in second.text
    assert set(re.findall(r"1单元(\d+)室", second.text)) == set(rooms[:5])
    assert f'href="/web/persons/{landlord}?let=0"' in second.text
    assert "?let=40" not in second.text
