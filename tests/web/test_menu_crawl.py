"""Every demo role's menu (issue 17): each entry opens for that role — no server error, no page the role may
not open, no link left untranslated in Chinese."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.conftest import PERSONAS
from tests.web.conftest import Scene

_MENU = re.compile(r'<nav class="menu"[^>]*>(.*?)</nav>', re.S)
_LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_every_menu_entry_opens_for_the_role(
    web_as: Callable[[str], TestClient], scene: Scene, persona: str
) -> None:
    client = web_as(persona)
    home = client.get("/web/")
    assert home.status_code == 200
    found = _MENU.search(home.text)
    assert found, "no menu"
    links = _LINK.findall(found.group(1))
    assert links and links[0][0] == "/web/"
    for href, label in links:
        assert not re.search(r"[A-Za-z]{3,}", label), (persona, href, label)  # Chinese pages, Chinese labels
        r = client.get(href, follow_redirects=True)
        assert r.status_code == 200, (persona, href, r.status_code)
