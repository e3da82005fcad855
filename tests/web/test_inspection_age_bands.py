"""Issue 16 in the web app: the server-rendered inspection form takes the persons per age band, as the offline
app sends them, and the plan has a page of the coverage by community × housing type × age band."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from liangshi.inspections import service
from liangshi.inspections.models import InspectionResult, InspectionResultBand
from liangshi.inspections.schemas import PlanCreate
from tests.conftest import INSIDE, OUTSIDE, World
from tests.inspections.test_service import TOWNSHIP, _households
from tests.web.conftest import csrf_of

Web = Callable[[str], TestClient]
# Two registered persons, both found (one aged 0–17, one 35–59), and one adult living there unregistered.
COUNTS = {
    "persons_registered": "2",
    "persons_present": "2",
    "main_right": "2",
    "general_right": "2",
    "count_matches": "yes",
    "persons_missed": "1",
}
BANDS = {
    "band__0-17__persons_registered": "1",
    "band__0-17__persons_present": "1",
    "band__35-59__persons_registered": "1",
    "band__35-59__persons_present": "1",
    "band__18-34__persons_missed": "1",
}


def _plan(world: World) -> tuple[int, int]:
    """A plan over the township and the first household of its sample."""
    _households(world, INSIDE, 4)
    with world.session() as session:
        ctx = world.ctx(session, "inspector_zhao")
        plan = service.create_plan(
            session, ctx, PlanCreate(area_id=world.area(TOWNSHIP), name="年龄段抽查", margin=0.3, seed=5)
        )
        household = service.sample_of(session, ctx, plan.id)[0].household_id
        return plan.id, household


def _counts(world: World) -> tuple[int, int]:
    with world.session() as session:
        return (
            session.execute(select(func.count(InspectionResult.id))).scalar_one(),
            session.execute(select(func.count()).select_from(InspectionResultBand)).scalar_one(),
        )


def test_the_result_form_takes_age_bands_and_the_coverage_page_shows_them(world: World, web_as: Web) -> None:
    plan_id, household = _plan(world)
    client = web_as("inspector_zhao")
    empty = client.get(f"/web/inspections/{plan_id}/coverage")
    assert empty.status_code == 200 and 'data-testid="coverage-none"' in empty.text
    assert "NaN" not in empty.text and "0/0" not in empty.text
    link = f"/web/inspections/{plan_id}/households/{household}"
    form = client.get(link)
    assert form.status_code == 200 and 'data-testid="bands"' in form.text
    assert "0–17岁" in form.text or "0-17" in form.text
    done = client.post(link, data={"csrf_token": csrf_of(form.text), **COUNTS, **BANDS})
    assert done.status_code == 303, done.text
    with world.session() as session:
        stored = {
            (b.age_band, b.persons_registered, b.persons_present, b.persons_missed)
            for b in session.execute(select(InspectionResultBand)).scalars()
        }
    assert stored == {("0-17", 1, 1, 0), ("35-59", 1, 1, 0), ("18-34", 0, 0, 1)}
    plan_page = client.get(f"/web/inspections/{plan_id}")
    assert f'href="/web/inspections/{plan_id}/coverage"' in plan_page.text
    page = client.get(f"/web/inspections/{plan_id}/coverage")
    assert page.status_code == 200 and 'data-testid="strata"' in page.text
    assert 'data-testid="total-missed"' in page.text and "NaN" not in page.text
    with world.session() as session:
        report = service.coverage_by_age(session, world.ctx(session, "inspector_zhao"), plan_id)
    # One row per post-stratum the service reports, the three bands of this household among them.
    assert page.text.count("data-stratum=") == len(report["strata"])
    for band in ("0-17", "18-34", "35-59"):
        assert f'/{band}"' in page.text
    assert "{:,.1f}".format(report["missed"]) in page.text


def test_bad_age_bands_are_refused_in_the_form_and_nothing_is_stored(world: World, web_as: Web) -> None:
    plan_id, household = _plan(world)
    client = web_as("inspector_zhao")
    link = f"/web/inspections/{plan_id}/households/{household}"
    token = csrf_of(client.get(link).text)
    cases = [
        {**BANDS, "band__0-17__persons_registered": "2"},  # the bands add up to 3 registered, not 2
        {**BANDS, "band__0-17__persons_present": "-1"},
        {**BANDS, "band__0-17__persons_present": "12345"},  # five digits
        {**BANDS, "band__200-300__persons_registered": "1"},  # no such band
    ]
    for bands in cases:
        r = client.post(link, data={"csrf_token": token, **COUNTS, **bands})
        assert r.status_code == 422, (bands, r.status_code)
        assert 'data-testid="form-error"' in r.text or "form-error" in r.text
    assert _counts(world) == (0, 0)


def test_the_coverage_page_keeps_to_the_roles_and_the_jurisdiction(world: World, web_as: Web) -> None:
    plan_id, _ = _plan(world)
    assert web_as("collector_zhang").get(f"/web/inspections/{plan_id}/coverage").status_code == 403
    assert web_as("inspector_zhao").get("/web/inspections/999999/coverage").status_code == 404


def test_a_plan_out_of_the_jurisdiction_is_not_found_and_its_form_writes_nothing(
    world: World, web_as: Web
) -> None:
    households = _households(world, OUTSIDE, 3)  # a community in nobody's jurisdiction
    with world.session() as session:
        ctx = world.ctx(session, None)
        plan = service.create_plan(
            session, ctx, PlanCreate(area_id=world.area(OUTSIDE[:9]), name="辖区外", margin=0.3)
        )
        household = service.sample_of(session, ctx, plan.id)[0].household_id
    assert household in households
    client = web_as("inspector_zhao")
    link = f"/web/inspections/{plan.id}/households/{household}"
    home = client.get("/web/inspections")
    assert client.get(link).status_code == 404
    assert client.get(f"/web/inspections/{plan.id}/coverage").status_code == 404
    posted = client.post(link, data={"csrf_token": csrf_of(home.text), **COUNTS, **BANDS})
    assert posted.status_code == 404
    with world.session() as session:
        assert session.execute(select(func.count(InspectionResult.id))).scalar_one() == 0
        assert session.execute(select(func.count(InspectionResultBand.id))).scalar_one() == 0
