"""The menu's sections (issue 17): every entry lies in exactly one section or in the bar, and a role's menu holds
the same entries as before the sections, a section with one entry for a role being that entry's own link."""

from __future__ import annotations

import importlib
from collections import Counter

import pytest

from liangshi.access.rules import Actor
from liangshi.web import app as web_app
from liangshi.web.nav import NAV, SECTIONS, TOP_LEVEL, MenuGroup, NavItem, menu_for, nav_for
from tests.conftest import PERSONAS

for _name in web_app.PAGE_MODULES:
    importlib.import_module(_name)


def _actor(persona: str) -> Actor:
    role, _, department = PERSONAS[persona]
    return Actor(
        user_id=None,
        username=persona,
        role=role,
        area_id=0,
        area_path="/",
        county_code="420704",
        department=department,
    )


def test_every_entry_has_one_place() -> None:
    placed = Counter([*TOP_LEVEL, *(p for s in SECTIONS for p in s.paths)])
    assert {p for p, n in placed.items() if n > 1} == set()
    assert {i.path for i in NAV} == set(placed)  # nothing left over, nothing stale


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_a_role_s_menu_holds_its_entries_once_in_sections(persona: str) -> None:
    actor = _actor(persona)
    menu = menu_for(actor)
    flat = [i for e in menu for i in (e.items if isinstance(e, MenuGroup) else (e,))]
    assert sorted(i.path for i in flat) == sorted(i.path for i in nav_for(actor))
    assert isinstance(menu[0], NavItem) and menu[0].path == "/web/"
    assert all(len(e.items) >= 2 for e in menu if isinstance(e, MenuGroup))
    assert len(menu) <= 10  # a few sections, not 31 entries in a row


def test_the_station_administrator_s_thirty_entries_fit_in_nine() -> None:
    menu = menu_for(_actor("station_admin_li"))
    assert len(nav_for(_actor("station_admin_li"))) >= 30
    assert [e.key if isinstance(e, MenuGroup) else e.path for e in menu] == [
        "/web/",
        "/web/collect",
        "/web/search",
        "work",
        "people",
        "places",
        "review",
        "stats",
        "inspect",
        "/web/access-log",
    ]
