"""Rentals in the web: end the rental, file a new one with its tenant and agreement in one form, record an
agreement later; refused input is shown in place and writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.rentals import service as rentals
from liangshi.rentals.models import Rental, RentalTenant
from liangshi.rentals.schemas import RentalEnd
from tests.conftest import World
from tests.web.conftest import DESK, Scene, browser_login, csrf_of, screenshot


def _end_scene_rental(world: World, scene: Scene) -> None:
    with world.session() as s:
        snap = rentals.rental_of_dwelling(s, world.ctx(s), scene.place.dwelling_id)
        assert snap is not None
        rentals.end_rental(
            s,
            world.ctx(s, "police_liu"),
            snap.entity.id,
            RentalEnd.model_validate({"expected_version": snap.entity.version, "ended_on": "2026-11-01"}),
        )


def test_an_officer_ends_the_rental_from_the_dwelling_page(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    client = web_as("police_liu")
    page = client.get(f"/web/dwellings/{scene.place.dwelling_id}")
    assert 'data-testid="end-rental"' in page.text
    with world.session() as s:
        snap = rentals.rental_of_dwelling(s, world.ctx(s), scene.place.dwelling_id)
        assert snap is not None
        rid, version = snap.entity.id, snap.entity.version
    done = client.post(
        f"/web/rentals/{rid}/end",
        data={"csrf_token": csrf_of(page.text), "expected_version": str(version), "ended_on": "2026-11-20"},
    )
    assert done.status_code == 303
    after = client.get(f"/web/dwellings/{scene.place.dwelling_id}").text
    assert "租赁已终止" in after and 'data-testid="file-rental"' in after
    with world.session() as s:
        assert rentals.status_of(s, rid) == "ended"


def test_filing_a_rental_with_tenant_and_agreement_in_one_form(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    _end_scene_rental(world, scene)
    client = web_as("police_liu")
    form = client.get(f"/web/dwellings/{scene.place.dwelling_id}/rental/new")
    assert form.status_code == 200 and "张三" in form.text and "出租人证件号码" in form.text
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Rental)).scalar_one() == 1  # the ended one
    done = client.post(
        f"/web/dwellings/{scene.place.dwelling_id}/rental",
        data={
            "csrf_token": csrf_of(form.text),
            "landlord_id_number": scene.zhang_id,
            "lease_start": "2026-11-02",
            "filing_number": "BH-2026-777",
            "tenant": str(scene.zhang),
            "agreement_signer": "张三",
        },
    )
    assert done.status_code == 303, done.text[-1500:]
    page = client.get(f"/web/dwellings/{scene.place.dwelling_id}").text
    assert "出租房屋已登记" in page and "BH-2026-777" in page
    with world.session() as s:
        assert rentals.open_rental_of(s, scene.place.dwelling_id) is not None
        tenants = s.execute(select(RentalTenant.person_id).order_by(RentalTenant.id.desc())).scalars().first()
        assert tenants == scene.zhang


def test_an_unknown_landlord_is_shown_in_the_form_and_nothing_is_written(
    web_as: Callable[[str], TestClient], scene: Scene, world: World
) -> None:
    _end_scene_rental(world, scene)
    client = web_as("police_liu")
    form = client.get(f"/web/dwellings/{scene.place.dwelling_id}/rental/new")
    bad = client.post(
        f"/web/dwellings/{scene.place.dwelling_id}/rental",
        data={
            "csrf_token": csrf_of(form.text),
            "landlord_id_number": "110105194912310021",
            "lease_start": "2026-11-02",
        },
    )
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text
    assert "未找到该证件号码的出租人" in bad.text
    with world.session() as s:
        assert s.execute(select(func.count()).select_from(Rental)).scalar_one() == 1


def test_a_role_without_rental_write_gets_no_form(web_as: Callable[[str], TestClient], scene: Scene) -> None:
    client = web_as("inspector_zhao")
    page = client.get(f"/web/dwellings/{scene.place.dwelling_id}")
    assert page.status_code == 200 and 'data-testid="end-rental"' not in page.text
    assert client.get(f"/web/dwellings/{scene.place.dwelling_id}/rental/new").status_code == 403


def test_a_housing_officer_files_a_rental_with_its_agreement_in_at_most_eight_actions(
    open_page: Callable[..., Any], scene: Scene, world: World
) -> None:
    _end_scene_rental(world, scene)
    page = open_page(DESK)
    browser_login(page, "police_liu")
    page.goto(f"/web/dwellings/{scene.place.dwelling_id}")
    actions = 0

    def act(kind: str, selector: str, value: str | None = None) -> None:
        nonlocal actions
        actions += 1
        if kind == "click":
            page.click(selector)
        elif kind == "check":
            page.check(selector)
        else:
            page.fill(selector, value or "")

    act("click", "[data-testid=file-rental]")
    page.wait_for_selector("[data-testid=rental-form]")
    act("fill", "input[name=landlord_id_number]", scene.zhang_id)
    act("fill", "input[name=filing_number]", "BH-2026-888")
    act("check", f"input[name=tenant][value='{scene.zhang}']")
    act("fill", "input[name=agreement_signer]", "张三")
    screenshot(page, "rental-file")
    act("click", "[data-testid=rental-form] button[type=submit]")
    page.wait_for_selector(".flash")
    assert "出租房屋已登记" in (page.text_content(".flash") or "")
    assert actions <= 8, actions
    assert "BH-2026-888" in (page.text_content("[data-testid=rental]") or "")
    with world.session() as s:
        rid = rentals.open_rental_of(s, scene.place.dwelling_id)
        assert rid is not None
        snap = rentals.rental_of_dwelling(s, world.ctx(s), scene.place.dwelling_id)
        assert snap is not None and snap.attributes()["agreement_signer"] == "张三"
