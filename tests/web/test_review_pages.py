"""The review pages: department conflicts, feedback, master person index reviews (TestClient, both databases)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from liangshi.departments.models import ExchangeConflict, Feedback
from liangshi.mpi.models import MatchReview
from liangshi.persons import service as persons
from liangshi.registry import history
from tests.conftest import World
from tests.web.conftest import csrf_of
from tests.web.review_data import NEIGHBOUR, OUTSIDE, conflict, fake_linkage, feedback, review

__all__ = ["fake_linkage"]
WebAs = Callable[[str], TestClient]


def _menu(client: TestClient) -> str:
    return client.get("/web/").text


# ---- conflicts ---------------------------------------------------------------------------------------------------


def test_conflicts_list_is_scoped_open_first_and_paged(web_as: WebAs, world: World) -> None:
    first, _ = conflict(world)
    second, _ = conflict(world, value="医生")
    outside, _ = conflict(world, area=OUTSIDE)
    with world.session() as s:
        s.get(ExchangeConflict, first).status = "rejected"  # type: ignore[union-attr]
    client = web_as("station_admin_li")
    html = client.get("/web/conflicts").text
    assert "数据冲突" in html and "共 2 条冲突" in html
    assert html.index(f'data-conflict="{second}"') < html.index(f'data-conflict="{first}"')
    assert f'data-conflict="{outside}"' not in html
    only_open = client.get("/web/conflicts?status=open").text
    assert f'data-conflict="{second}"' in only_open and f'data-conflict="{first}"' not in only_open
    assert f'data-conflict="{second}"' not in client.get("/web/conflicts?offset=20").text
    english = client.get("/web/lang?lang=en&next=/web/conflicts", follow_redirects=True).text
    assert "2 conflicts" in english and "Register value" in english


def test_conflict_side_by_side_and_accept_with_a_reason(web_as: WebAs, world: World) -> None:
    cid, pid = conflict(world)
    client = web_as("station_admin_li")
    page = client.get(f"/web/conflicts/{cid}")
    assert page.status_code == 200
    for text in ("职业", "工人", "教师", "卫生", "health-2026-11.csv", "孙七"):
        assert text in page.text
    token = csrf_of(page.text)
    blank = client.post(
        f"/web/conflicts/{cid}", data={"decision": "accept", "reason": " ", "csrf_token": token}
    )
    assert blank.status_code == 422 and 'data-testid="form-error"' in blank.text
    r = client.post(
        f"/web/conflicts/{cid}", data={"decision": "accept", "reason": "单位证明", "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"] == "/web/conflicts"
    listed = client.get("/web/conflicts").text
    assert "已采纳部门数据。" in listed
    with world.session() as s:
        c = s.get(ExchangeConflict, cid)
        assert c is not None and (c.status, c.reason) == ("accepted", "单位证明")
        assert history.open_row(s, persons.PERSON, pid).occupation == "教师"  # type: ignore[union-attr]
    again = client.post(
        f"/web/conflicts/{cid}", data={"decision": "reject", "reason": "x", "csrf_token": token}
    )
    assert again.status_code == 422 and "该冲突已处理" in again.text and "处理时间" in again.text


def test_conflict_reject_keeps_the_register(web_as: WebAs, world: World) -> None:
    cid, pid = conflict(world)
    client = web_as("station_admin_li")
    token = csrf_of(client.get(f"/web/conflicts/{cid}").text)
    r = client.post(
        f"/web/conflicts/{cid}", data={"decision": "reject", "reason": "核实无误", "csrf_token": token}
    )
    assert r.status_code == 303
    with world.session() as s:
        assert s.get(ExchangeConflict, cid).status == "rejected"  # type: ignore[union-attr]
        assert history.open_row(s, persons.PERSON, pid).occupation is None  # type: ignore[union-attr]


def test_conflict_refusals_csrf_scope_and_role(web_as: WebAs, world: World) -> None:
    cid, _ = conflict(world)
    outside, _ = conflict(world, area=OUTSIDE)
    admin = web_as("station_admin_li")
    token = csrf_of(admin.get(f"/web/conflicts/{cid}").text)
    no_token = admin.post(f"/web/conflicts/{cid}", data={"decision": "accept", "reason": "单位证明"})
    assert no_token.status_code == 403
    assert admin.get(f"/web/conflicts/{outside}").status_code == 404
    posted = admin.post(
        f"/web/conflicts/{outside}", data={"decision": "accept", "reason": "x", "csrf_token": token}
    )
    assert posted.status_code == 404
    police = web_as("police_liu")
    assert police.get("/web/conflicts").status_code == 403
    assert police.get(f"/web/conflicts/{cid}").status_code == 403
    assert 'href="/web/conflicts"' not in _menu(police)
    assert 'href="/web/conflicts"' in _menu(admin)
    with world.session() as s:
        assert {c.status for c in s.execute(select(ExchangeConflict)).scalars()} == {"open"}


# ---- feedback ----------------------------------------------------------------------------------------------------


def test_feedback_list_shows_deadlines_and_highlights_overdue(web_as: WebAs, world: World) -> None:
    fresh, _ = feedback(world)
    late, _ = feedback(world, days_ago=20)
    hidden, _ = feedback(world, area=NEIGHBOUR)
    client = web_as("police_liu")
    html = client.get("/web/feedback").text
    assert "存疑反馈" in html and "签收期限 2026-12-01" in html and "办结期限 2026-12-11" in html
    assert f'data-feedback="{fresh}"' in html and f'data-feedback="{hidden}"' not in html
    assert f'class="feedback overdue" data-feedback="{late}"' in html
    assert f'class="feedback" data-feedback="{fresh}"' in html
    overdue = client.get("/web/feedback?overdue=true").text
    assert f'data-feedback="{late}"' in overdue and f'data-feedback="{fresh}"' not in overdue


def test_feedback_pick_up_then_correct_with_the_right_value(web_as: WebAs, world: World) -> None:
    fid, pid = feedback(world)
    client = web_as("police_liu")
    token = csrf_of(client.get("/web/feedback").text)
    r = client.post(f"/web/feedback/{fid}/pickup", data={"csrf_token": token})
    assert r.status_code == 303 and "反馈已签收。" in client.get("/web/feedback").text
    missing = client.post(
        f"/web/feedback/{fid}/decide", data={"outcome": "corrected", "note": "核对户籍", "csrf_token": token}
    )
    assert missing.status_code == 422 and "更正须给出正确的值" in missing.text
    r = client.post(
        f"/web/feedback/{fid}/decide",
        data={"outcome": "corrected", "note": "核对户籍", "value": "周捌", "csrf_token": token},
    )
    assert r.status_code == 303
    with world.session() as s:
        f = s.get(Feedback, fid)
        assert f is not None and f.outcome == "corrected" and f.picked_up_at is not None
        assert history.open_row(s, persons.PERSON, pid).name == "周捌"  # type: ignore[union-attr]


def test_feedback_confirm_and_refusals(web_as: WebAs, world: World) -> None:
    fid, _ = feedback(world)
    hidden, _ = feedback(world, area=NEIGHBOUR)
    client = web_as("police_liu")
    token = csrf_of(client.get("/web/feedback").text)
    assert client.post(f"/web/feedback/{fid}/pickup").status_code == 403  # no CSRF token
    assert client.post(f"/web/feedback/{hidden}/pickup", data={"csrf_token": token}).status_code == 404
    r = client.post(
        f"/web/feedback/{fid}/decide", data={"outcome": "confirmed", "note": "核对无误", "csrf_token": token}
    )
    assert r.status_code == 303
    collector = web_as("collector_zhang")
    assert collector.get("/web/feedback").status_code == 403
    assert 'href="/web/feedback"' not in _menu(collector)
    assert 'href="/web/feedback"' in _menu(client)
    liaison = web_as("health_liaison_wang")
    own = liaison.get("/web/feedback").text  # a liaison sees the department's own feedback, without the forms
    assert f'data-feedback="{fid}"' in own and "/pickup" not in own
    ltoken = csrf_of(own)  # the logout form in the menu carries the session's token
    assert liaison.post(f"/web/feedback/{hidden}/pickup", data={"csrf_token": ltoken}).status_code == 403
    with world.session() as s:
        assert s.get(Feedback, hidden).picked_up_at is None  # type: ignore[union-attr]


# ---- match reviews -----------------------------------------------------------------------------------------------


def test_reviews_list_and_side_by_side(web_as: WebAs, world: World, fake_linkage: None) -> None:
    rid, pid = review(world)
    outside, _ = review(world, area=OUTSIDE, birth="1991-01-01")
    client = web_as("police_liu")
    html = client.get("/web/reviews").text
    assert "比对审核" in html and f'data-review="{rid}"' in html and f'data-review="{outside}"' not in html
    page = client.get(f"/web/reviews/{rid}").text
    assert "同一人的概率" in page and "赵六" in page and "完全相同" in page and "一方缺失" in page
    assert 'data-field="id_number"' in page and "+4.0" in page  # the name's weight in the stand-in engine
    with world.session() as s:
        [number] = [d.number for d in persons.current_documents(s, pid)]
    assert number not in page and number[:6] in page  # masked
    assert client.get(f"/web/reviews/{outside}").status_code == 404


def test_review_decided_same_with_a_reason(web_as: WebAs, world: World, fake_linkage: None) -> None:
    rid, _ = review(world)
    client = web_as("police_liu")
    token = csrf_of(client.get(f"/web/reviews/{rid}").text)
    blank = client.post(f"/web/reviews/{rid}", data={"decision": "same", "reason": "", "csrf_token": token})
    assert blank.status_code == 422 and 'data-field="reason"' in blank.text
    assert (
        client.post(f"/web/reviews/{rid}", data={"decision": "same", "reason": "电话核实"}).status_code == 403
    )
    r = client.post(
        f"/web/reviews/{rid}", data={"decision": "same", "reason": "电话核实", "csrf_token": token}
    )
    assert r.status_code == 303 and r.headers["location"] == "/web/reviews"
    assert "已认定：同一人。" in client.get("/web/reviews").text
    with world.session() as s:
        rv = s.get(MatchReview, rid)
        assert rv is not None and (rv.status, rv.reason) == ("linked", "电话核实")
    done = client.get(f"/web/reviews/{rid}").text
    assert "电话核实" in done and 'name="decision"' not in done


def test_review_refusals(web_as: WebAs, world: World, fake_linkage: None) -> None:
    rid, _ = review(world)
    outside, _ = review(world, area=OUTSIDE, birth="1991-01-01")
    police = web_as("police_liu")
    token = csrf_of(police.get(f"/web/reviews/{rid}").text)
    r = police.post(
        f"/web/reviews/{outside}", data={"decision": "distinct", "reason": "x", "csrf_token": token}
    )
    assert r.status_code == 404
    for username in ("collector_zhang", "inspector_zhao"):
        other = web_as(username)
        assert other.get("/web/reviews").status_code == 403
        assert other.get(f"/web/reviews/{rid}").status_code == 403
        assert 'href="/web/reviews"' not in _menu(other)
    assert 'href="/web/reviews"' in _menu(police)
    with world.session() as s:
        assert {r.status for r in s.execute(select(MatchReview)).scalars()} == {"pending"}
