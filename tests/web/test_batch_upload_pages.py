"""Sending a department batch from the web (issue 15): the form offers only the departments one may send for,
the result shows the counts and every refused row with all its problems, the recent batches are listed; bad
input is a clear message on the page and stores nothing; other roles get 403."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import select

from liangshi.clock import Clock
from liangshi.config import Settings
from liangshi.departments.models import DepartmentBatch
from liangshi.http.app import create_app
from liangshi.persons import service as persons
from liangshi.registry import history
from tests.conftest import World
from tests.departments.helpers import counts, csv_bytes, department, person, refused_batches
from tests.departments.test_feed_dwellings import _housing, _place, _statuses
from tests.web.conftest import csrf_of, form_login

PROVIDES = {"person": ["name", "sex", "birth_date", "phone", "occupation", "ethnicity"]}
HEADER = ["证件号码", "职业", "出生日期", "联系电话", "民族"]


def _send(
    client: TestClient,
    content: bytes | None,
    *,
    name: str = "health.csv",
    kind: str = "persons",
    department_code: str = "health",
    token: str | None = None,
) -> object:
    form = client.get("/web/batches")
    data = {"csrf_token": token if token is not None else csrf_of(form.text), "department": department_code}
    data["kind"] = kind
    files = {"file": (name, content or b"", "application/octet-stream")}
    return client.post("/web/batches", data=data, files=files)


def _cells(html: str, testid: str) -> dict[str, str]:
    block = html.split(f'data-testid="{testid}"', 1)[1].split("</dl>", 1)[0]
    return dict(re.findall(r'data-count="(\w+)">(\d+)<', block))


def _refused_rows(html: str) -> dict[int, set[tuple[str, str]]]:
    found: dict[int, set[tuple[str, str]]] = {}
    for line, field, code in re.findall(
        r'data-line="(\d+)" data-field="([\w.]+)" data-code="([\w.]+)"', html
    ):
        found.setdefault(int(line), set()).add((field, code))
    return found


def test_a_liaison_sends_a_file_and_sees_every_refused_row_with_all_its_problems(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    department(world, provides=PROVIDES)
    good_id, good = person(world, occupation=None)
    bad_id, bad = person(world, name="李娜", male=False, occupation=None)
    liaison = web_as("health_liaison_wang")
    home = liaison.get("/web/")
    assert 'href="/web/batches"' in home.text  # the menu entry
    form = liaison.get("/web/batches")
    assert form.status_code == 200 and 'data-testid="batch-form"' in form.text
    assert re.findall(r'<option value="(\w+)"', form.text) == [
        "health",
        "persons",
        "dwellings",
        "births",
        "areas",
        "streets",
        "corrections",
    ]
    assert "人员信息" in form.text and "房屋状态" in form.text and "出生登记" in form.text
    content = csv_bytes(
        [
            HEADER,
            [good, "护士", "", "", ""],
            # Three problems on one row, all reported together.
            [bad, "医生", "1991-02-03", "not-a-phone", "99"],
            ["110105194912310022", "教师", "", "", ""],  # a wrong check character
        ],
        "gb18030",
    )
    r = _send(liaison, content)
    assert r.status_code == 200, r.text  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert 'data-status="accepted"' in html
    assert _cells(html, "batch-counts") == {"rows": "3", "accepted": "1", "refused": "2"}
    rows = _refused_rows(html)
    assert set(rows) == {3, 4}
    assert {f for f, _ in rows[3]} == {"phone", "birth_date", "ethnicity"}
    assert ("birth_date", "person.birth_date_mismatch") in rows[3]
    assert [f for f, _ in rows[4]] == ["id_number"]
    assert html.count('rowspan="3"') == 1  # line 3's problems together under one line cell
    with world.session() as s:
        [batch] = s.execute(select(DepartmentBatch)).scalars()
        assert (batch.rows_total, batch.rows_rejected, batch.file_name) == (1, 2, "health.csv")
        assert history.open_row(s, persons.PERSON, good_id).occupation == "护士"
        assert history.open_row(s, persons.PERSON, bad_id).occupation is None
    assert f"批次 {batch.id} 已接收" in html
    recent = html.split('data-testid="recent-batches"', 1)[1]
    assert f'data-batch="{batch.id}"' in recent and "health.csv" in recent
    # The list stays on the page afterwards.
    again = liaison.get("/web/batches")
    assert f'data-batch="{batch.id}"' in again.text


def test_the_result_page_speaks_english_on_request(world: World, web_as: Callable[[str], TestClient]) -> None:
    department(world, provides=PROVIDES)
    _, bad = person(world, occupation=None)
    liaison = web_as("health_liaison_wang")
    liaison.cookies.set("ls_lang", "en")
    r = _send(
        liaison,
        csv_bytes(
            [
                HEADER,
                [bad, "医生", "", "not-a-phone", ""],
                [bad[:-1] + ("1" if bad[-1] == "0" else "0"), "", "", "", ""],
            ]
        ),
    )
    html = r.text  # type: ignore[attr-defined]
    assert "Rows refused" in html and "Person records" in html
    assert "拒收" not in html


def test_an_all_or_nothing_agreement_refuses_the_batch_on_the_page_and_stores_nothing(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    department(world, provides=PROVIDES, all_or_nothing=True)
    _, good = person(world, occupation=None)
    _, bad = person(world, name="李娜", male=False, occupation=None)
    liaison = web_as("health_liaison_wang")
    liaison.get("/web/batches")
    before = counts(world)
    content = csv_bytes([HEADER, [good, "护士", "", "", ""], [bad, "医生", "1991-02-03", "not-a-phone", ""]])
    r = _send(liaison, content)
    assert r.status_code == 422  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert 'data-status="refused"' in html and "未保存任何内容" in html
    assert _cells(html, "batch-counts") == {"rows": "2", "accepted": "0", "refused": "1"}
    rows = _refused_rows(html)
    assert set(rows) == {3} and {f for f, _ in rows[3]} == {"birth_date", "phone"}
    assert ("birth_date", "person.birth_date_mismatch") in rows[3]
    assert counts(world) == before


def test_bad_input_is_a_clear_message_on_the_page_and_stores_nothing(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    department(world, provides=PROVIDES)
    department(world, "justice", provides=PROVIDES)
    _, number = person(world, occupation=None)
    good = csv_bytes([HEADER, [number, "护士", "", "", ""]])
    liaison = web_as("health_liaison_wang")
    form = liaison.get("/web/batches")
    assert re.findall(r'<option value="(\w+)"', form.text)[0] == "health"  # not justice
    token = csrf_of(form.text)
    before = counts(world)
    cases = [
        ({"content": None, "name": ""}, 422, "file.required", "请上传文件"),  # the browser's empty file input
        ({"content": b"", "name": "empty.csv"}, 422, "file.empty", "文件为空"),
        ({"content": good, "kind": "venues"}, 422, "department.kind_unsupported", "部门数据不支持该类型"),
        (
            {"content": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "name": "photo.png"},
            422,
            "file.type_unsupported",
            "文件类型不受支持",
        ),
        (
            {"content": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "name": "photo.csv"},
            422,
            "file.type_unsupported",
            "文件类型不受支持",
        ),
        (
            {"content": b"PK\x03\x04 broken", "name": "health.xlsx"},
            422,
            "file.unreadable",
            "不是有效的XLSX工作簿",
        ),
        (
            {"content": good, "department_code": "justice"},
            403,
            "department.not_yours",
            "只能代表本部门交换数据",
        ),
        ({"content": good, "department_code": "nosuch"}, 404, "department.unknown", "未登记的部门"),
        ({"content": csv_bytes([["姓名"], ["张三"]])}, 422, "import.columns_missing", "缺少必需的列"),
    ]
    for args, status, code, text in cases:
        r = _send(liaison, token=token, **args)  # type: ignore[arg-type]
        assert r.status_code == status, (args, r.status_code)  # type: ignore[attr-defined]
        html = r.text  # type: ignore[attr-defined]
        assert 'data-testid="batch-error"' in html, args
        assert f'data-code="{code}' in html and text in html, (args, html[:200])
        assert 'data-testid="batch-form"' in html  # the form again, to fix and resend
        assert counts(world) == before, args
    with world.session() as s:
        assert s.execute(select(DepartmentBatch).where(DepartmentBatch.status == "accepted")).first() is None
    # The batches refused for their file (422) are kept with their report, nothing applied; the refusals of the
    # department (403, 404) are not batches of the liaison's.
    kept = [(args.get("kind", "persons"), code) for args, status, code, _ in cases if status == 422]
    assert [(k, c) for _, k, c in refused_batches(world)] == kept
    assert {d for d, _, _ in refused_batches(world)} == {"health"}
    recent = liaison.get("/web/batches").text.split('data-testid="recent-batches"', 1)[1]
    assert recent.count('data-batch-status="refused"') == len(kept) and "file.type_unsupported" in recent


def test_an_upload_over_the_size_limit_is_refused_with_a_page_and_stores_nothing(
    world: World, engine: object, clock: Clock
) -> None:
    department(world, provides=PROVIDES)
    app = create_app(Settings(database_url="sqlite://", max_body_bytes=20_000), clock=clock, engine=engine)  # type: ignore[arg-type]
    liaison = TestClient(app, follow_redirects=False)
    assert form_login(liaison, "health_liaison_wang").status_code == 303
    form = liaison.get("/web/batches")
    assert "不超过 0.02 MB" in form.text
    before = counts(world)
    r = _send(liaison, b"x" * 30_000, token=csrf_of(form.text))
    assert r.status_code == 413  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert 'data-code="request.too_large"' in html and "上传内容过大" in html
    liaison.cookies.set("ls_lang", "en")
    r = _send(liaison, b"x" * 30_000, token=csrf_of(form.text))
    assert "The upload is too large (at most 0.02 MB)" in r.text  # type: ignore[attr-defined]
    assert counts(world) == before


def test_an_xlsx_file_is_accepted_like_a_csv(world: World, web_as: Callable[[str], TestClient]) -> None:
    department(world, provides=PROVIDES)
    pid, number = person(world, occupation=None)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["证件号码", "职业"])
    sheet.append([number, "教师"])
    buffer = io.BytesIO()
    book.save(buffer)
    r = _send(web_as("health_liaison_wang"), buffer.getvalue(), name="卫健.xlsx")
    assert r.status_code == 200 and 'data-status="accepted"' in r.text  # type: ignore[attr-defined]
    assert _cells(r.text, "batch-counts") == {"rows": "1", "accepted": "1", "refused": "0"}  # type: ignore[attr-defined]
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, pid).occupation == "教师"


def test_an_administrator_sends_for_any_department_with_an_agreement_and_others_get_403(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    department(world, provides=PROVIDES)
    department(world, "justice", agreement=False)
    pid, number = person(world, occupation=None)
    admin = web_as("city_admin_wang")
    listed = admin.get("/web/departments")
    assert 'href="/web/batches?department=health"' in listed.text
    assert "send-batch-justice" not in listed.text  # no agreement in force: nothing to send under
    form = admin.get("/web/batches?department=health")
    assert re.findall(r'<option value="(\w+)"', form.text)[0] == "health"
    assert 'value="justice"' not in form.text
    r = _send(admin, csv_bytes([["证件号码", "职业"], [number, "教师"]]))
    assert r.status_code == 200 and 'data-status="accepted"' in r.text  # type: ignore[attr-defined]
    with world.session() as s:
        assert history.open_row(s, persons.PERSON, pid).occupation == "教师"
    before = counts(world)
    for username in (
        "collector_zhang",
        "station_admin_li",
        "police_liu",
        "auditor_sun",
        "housing_officer_he",
    ):
        other = web_as(username)
        assert 'href="/web/batches"' not in other.get("/web/").text
        page = other.get("/web/batches")
        assert page.status_code == 403, username
        token = csrf_of(other.get("/web/").text)
        r = other.post(
            "/web/batches",
            data={"csrf_token": token, "department": "health", "kind": "persons"},
            files={"file": ("health.csv", csv_bytes([["证件号码", "职业"], [number, "医生"]]), "text/csv")},
        )
        assert r.status_code == 403, username
    assert counts(world) == before


def test_a_post_without_the_csrf_token_is_refused_and_stores_nothing(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    department(world, provides=PROVIDES)
    _, number = person(world, occupation=None)
    liaison = web_as("health_liaison_wang")
    before = counts(world)
    r = _send(liaison, csv_bytes([["证件号码", "职业"], [number, "教师"]]), token="forged")
    assert r.status_code == 403  # type: ignore[attr-defined]
    assert counts(world) == before


def test_a_housing_liaison_sends_dwelling_statuses_from_the_web(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    _housing(world)
    code, dwelling = _place(world)
    liaison = web_as("housing_liaison_qian")
    form = liaison.get("/web/batches")
    assert re.findall(r'<option value="(\w+)"', form.text)[0] == "housing"
    content = csv_bytes([["标准地址编码", "房号", "房屋状态"], [code, "501", "出租"], [code, "777", "空置"]])
    r = _send(liaison, content, name="fang.csv", kind="dwellings", department_code="housing")
    assert r.status_code == 200 and 'data-status="accepted"' in r.text  # type: ignore[attr-defined]
    html = r.text  # type: ignore[attr-defined]
    assert _cells(html, "batch-counts") == {"rows": "2", "accepted": "1", "refused": "1"}
    assert _refused_rows(html) == {3: {("room", "department.dwelling_not_found")}}
    assert "房屋状态" in html.split('data-testid="recent-batches"', 1)[1]
    assert _statuses(world, dwelling)[-1] == "rented"


def test_without_an_agreement_in_force_the_page_offers_nothing_and_a_post_is_refused(
    world: World, web_as: Callable[[str], TestClient]
) -> None:
    department(world, provides=PROVIDES, valid_from="2025-01-01", valid_to="2026-01-01")
    _, number = person(world, occupation=None)
    liaison = web_as("health_liaison_wang")
    liaison.cookies.set("ls_lang", "en")
    form = liaison.get("/web/batches")
    assert form.status_code == 200 and 'data-testid="no-sender"' in form.text
    assert 'data-testid="batch-form"' not in form.text
    before = counts(world)
    r = _send(liaison, csv_bytes([["证件号码", "职业"], [number, "教师"]]), token=csrf_of(form.text))
    assert r.status_code == 403  # type: ignore[attr-defined]
    assert 'data-code="department.agreement_expired"' in r.text  # type: ignore[attr-defined]
    assert counts(world) == before
