"""Helpers for pages whose submissions are change sets: approve what awaits review through the desk pages."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of


def approve_all(web_as: Callable[[str], TestClient], *reviewers: str) -> list[int]:
    """Each reviewer in turn ticks every change set on their desk and approves them (station, then district);
    returns the ids approved at the last stage. Asserts each bulk approval succeeded item by item."""
    done: list[int] = []
    for reviewer in reviewers or ("station_admin_li", "district_admin_chen"):
        client = web_as(reviewer)
        desk = client.get("/web/changesets")
        assert desk.status_code == 200, desk.text
        ids = [int(i) for i in re.findall(r'name="ids" value="(\d+)"', desk.text)]
        if not ids:
            continue
        r = client.post("/web/changesets/approve", data={"csrf_token": csrf_of(desk.text), "ids": ids})
        assert r.status_code == 200, r.text
        assert 'data-ok="no"' not in r.text, r.text
        done = ids
    return done
