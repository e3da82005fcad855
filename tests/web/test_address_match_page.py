"""The web page for batch address matching: upload a column, download xlsx; a bad file gets a message."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from tests.addresses.test_matching import _street_with_plates
from tests.conftest import World
from tests.web.conftest import csrf_of


def test_upload_a_column_and_download_the_matches(web_as, world: World) -> None:  # type: ignore[no-untyped-def]
    _, plates = _street_with_plates(world, ["12"], name="花园路")
    client = web_as("police_liu")
    form = client.get("/web/addresses/match")
    assert form.status_code == 200 and 'data-testid="match-form"' in form.text
    assert "地址匹配" in form.text
    token = csrf_of(form.text)
    r = client.post(
        "/web/addresses/match",
        data={"csrf_token": token},
        files={"file": ("addresses.txt", "地址\n鄂城区花圆路12号\n".encode(), "text/plain")},
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][0] == "鄂城区花圆路12号" and rows[1][1] == "门牌" and rows[1][4] == plates["12"]
    bad = client.post(
        "/web/addresses/match",
        data={"csrf_token": token},
        files={"file": ("empty.txt", b"", "text/plain")},
    )
    assert bad.status_code == 422 and 'data-testid="match-error"' in bad.text and "文件中没有地址" in bad.text
    refused = client.post("/web/addresses/match", files={"file": ("a.txt", b"x", "text/plain")})
    assert refused.status_code == 403
