"""Issue 17: the crawl of every page as every demo role, at 1280 px and at 375 px, in Debian's Chromium.

For each persona, the pages of its menu and one page of each kind of object (person, dwelling, building grid,
street, area, household, venue, campaign, rentals, change sets…) are opened, and one page of every further kind
linked from them. On each page: no server error; no English words left in the Chinese page; no bare code where a
name exists (民族 01, 文化程度 41…); every link on the page opens for that role (no 403, no 404, no 5xx); at
375 px nothing scrolls sideways; axe-core (vendored from the npm registry by `npm ci`, never fetched from the
internet) reports no `serious` or `critical` violation.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from liangshi.campaign import organisation, rules
from liangshi.campaign import service as collection
from liangshi.campaign.schemas import PersonAtDwelling
from liangshi.common.types import validation_context
from tests import factories
from tests.conftest import INSIDE, PERSONAS, World
from tests.venues.helpers import venue
from tests.web.conftest import DESK, MOBILE, Scene, browser_login

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# At most this many pages rendered per persona (menu and seeds first, then one per further kind of page).
MAX_PAGES = 40

# Links the crawl does not follow: they act (log out, switch language) or are the page's own files.
_NOT_FOLLOWED = re.compile(r"^/web/(logout|lang)\b|^/web/collect/(sw\.js|manifest\.webmanifest)$")
# Downloads: their status is checked, they are not rendered.
_DOWNLOAD = re.compile(r"\.(xlsx|pdf|csv|json|webmanifest|js)$")

# English words that are Chinese usage in the register's pages: names of formats, standards and products.
# "Leaflet" is the map library's name in the map's attribution corner.
_LATIN_OK = {
    "PDF",
    "Excel",
    "xlsx",
    "CSV",
    "TOTP",
    "API",
    "AQL",
    "GB",
    "JSON",
    "TOML",
    "PWA",
    "URL",
    "SQL",
    "Leaflet",
}
# Phrases that stay English inside a Chinese sentence, each with its reason.
_LATIN_PHRASES = {
    "liangshi collect sync": "the CLI command to type (collect/app.html tells the collector to run it)",
}
# Logins are shown as they are typed (the personas' and the kernel's own actor, `system`).
_LOGINS = set(PERSONAS) | {"system"}
_WORD = re.compile(r"[A-Za-z]{3,}")

# The labels of coded attributes: the value beside them must be the code's name, never the bare code.
_CODED_LABELS = [
    "民族",
    "国籍",
    "文化程度",
    "婚姻状况",
    "户籍地区划",
    "户籍地",
    "政治面貌",
    "兵役状况",
    "宗教信仰",
]

# Explicit allow-list of axe-core findings that are not fixed yet: (rule id, URL pattern) -> the reason.
# Empty: every serious or critical finding of the crawl is fixed in the templates or the CSS.
AXE_ALLOWED: dict[tuple[str, str], str] = {}


def _axe_source() -> str:
    if not AXE.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{AXE} is missing: run `npm ci` (make assets) — axe-core is a devDependency")
        pytest.skip(f"{AXE} is missing: run `npm ci` to vendor axe-core from the npm registry")
    return AXE.read_text(encoding="utf-8")


def kind_of(path: str) -> str:
    """The kind of a page: its path with every number replaced (one page of each kind is rendered)."""
    return re.sub(r"/\d+", "/{id}", urlsplit(path).path)


@pytest.fixture
def seeds(world: World, scene: Scene) -> list[str]:
    """One object of each kind on top of the page-test scene; the URLs of their pages."""
    with world.session() as session:
        ctx = world.ctx(session)
        household = factories.household(
            session,
            ctx,
            area_id=world.area(INSIDE),
            dwelling_id=scene.place.dwelling_id,
            members=[(scene.zhang, "01")],
        )
        spec = rules.parse_campaign(
            {"name": "2026年两实采集", "area": "420704001", "starts_on": "2026-11-01", "pilots": [INSIDE]}
        )
        campaign = organisation.create_campaign(session, world.ctx(session, "station_admin_li"), spec).id
        proposal = PersonAtDwelling.model_validate(
            {
                "name": "林一",
                "id_number": factories.make_id("420704", dt.date(1992, 9, 9), seq=81),
                "arrival_date": "2026-11-01",
                "category": "floating",
            },
            context=validation_context(dt.date(2026, 11, 27)),
        )
        change_set = collection.add_person_at_dwelling(
            session, world.ctx(session, "collector_zhang"), scene.place.dwelling_id, proposal
        ).id
    hotel = venue(world, address_id=scene.place.address_id, name="滨湖宾馆")
    p = scene.place
    return [
        f"/web/persons/{scene.zhang}",
        f"/web/persons/{scene.zhang}/permits",
        f"/web/dwellings/{p.dwelling_id}",
        f"/web/collect/dwellings/{p.dwelling_id}",
        f"/web/buildings/{p.building_id}/grid",
        f"/web/collect/buildings/{p.building_id}",
        f"/web/streets/{p.street_id}",
        f"/web/areas/{p.area_id}",
        f"/web/areas/{p.area_id}/map",
        f"/web/households/{household}",
        f"/web/venues/{hotel}",
        f"/web/campaigns/{campaign}",
        "/web/rentals",
        "/web/changesets",
        f"/web/changesets/{change_set}",
        "/web/search?q=张三",
    ]


_PAGE_FACTS = """(coded) => {
  // Text marked as another language (the language switch's "English") or as code is not Chinese text.
  let text = document.body.innerText;
  for (const el of document.querySelectorAll('[lang]:not([lang^=zh]):not(html), code, kbd, samp')) {
    text = text.split(el.innerText).join(' ');
  }
  const raw = [];
  for (const dt of document.querySelectorAll('dt')) {
    const dd = dt.nextElementSibling;
    if (!dd || !coded.includes(dt.textContent.trim())) continue;
    const first = (dd.innerText.split('\\n')[0] || '').trim();
    if (/^[0-9A-Z]{1,6}$/.test(first)) raw.push(dt.textContent.trim() + ' ' + first);
  }
  for (const table of document.querySelectorAll('table')) {
    const heads = Array.from(table.querySelectorAll('thead th')).map(th => th.textContent.trim());
    heads.forEach((h, i) => {
      if (!coded.includes(h)) return;
      for (const row of table.querySelectorAll('tbody tr')) {
        const cell = row.children[i];
        const v = cell ? cell.textContent.trim() : '';
        if (/^[0-9A-Z]{1,6}$/.test(v)) raw.push(h + ' ' + v);
      }
    });
  }
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));
  const who = document.querySelector('[data-testid=who]');
  return {text, raw, links, who: who ? who.textContent : '',
          lang: document.documentElement.lang,
          overflow: document.documentElement.scrollWidth - window.innerWidth};
}"""

# Every menu entry must be reachable and visible at 375 px: after opening the menu (its button, when shown), each
# entry lies inside the viewport's width and is not cut off by a box around it that clips or scrolls (the old
# one-line menu scrolled inside itself with a hidden scrollbar: the entries past the edge could not be seen).
_MENU_HIDDEN = """() => {
  const toggle = document.querySelector('.menu-toggle');
  if (toggle && toggle.offsetParent !== null && toggle.getAttribute('aria-expanded') !== 'true') toggle.click();
  const out = [];
  for (const a of document.querySelectorAll('nav.menu a[href]')) {
    const r = a.getBoundingClientRect();
    const name = a.textContent.trim();
    if (r.width === 0 || r.height === 0) { out.push(name + ': not shown'); continue; }
    if (r.left < -0.5 || r.right > window.innerWidth + 0.5) { out.push(name + ': outside the viewport'); continue; }
    for (let box = a.parentElement; box && box !== document.body; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const b = box.getBoundingClientRect();
      if (r.left < b.left - 0.5 || r.right > b.right + 0.5 || r.top < b.top - 0.5 || r.bottom > b.bottom + 0.5) {
        out.push(name + ': cut off by its menu box'); break;
      }
    }
  }
  return out;
}"""

_RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary.split('\\n')[1])}));
}"""


class Crawl:
    """What one persona's crawl found: every problem as a line, so one run reports all of them."""

    def __init__(self, persona: str, axe: str, seen: set[str]) -> None:
        self.persona = persona
        self.axe = axe
        self.problems: list[str] = []
        self.checked: dict[str, int] = {}
        self.seen = seen  # kinds of page already checked with axe and at 375 px, by any persona

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{self.persona} {where}: {what}")

    def english(self, path: str, text: str, who: str) -> None:
        for phrase in [who, *_LATIN_PHRASES]:
            text = text.replace(phrase, " ")
        for login in sorted(_LOGINS, key=len, reverse=True):
            text = text.replace(login, " ")
        words = {w for w in _WORD.findall(text) if w not in _LATIN_OK}
        if words:
            self.fail(path, f"English in the Chinese page: {sorted(words)[:12]}")

    def run_axe(self, page: Any, path: str, width: str) -> None:
        page.add_script_tag(content=self.axe)
        for v in page.evaluate(_RUN_AXE):
            if (v["id"], kind_of(path)) in AXE_ALLOWED:
                continue
            self.fail(
                f"{path} @{width}",
                f"axe {v['impact']} {v['id']} ({v['help']}): {json.dumps(v['nodes'], ensure_ascii=False)}",
            )


def _crawl_one(page: Any, crawl: Crawl, path: str) -> list[str]:
    """Render one page at 1280 px (and, for the first persona that opens a kind of page, run axe-core there
    and at 375 px); returns the links it holds."""
    page.set_viewport_size(DESK)
    response = page.goto(path)
    status = response.status if response else 0
    if status >= 500:
        crawl.fail(path, f"server error {status}")
        return []
    if status != 200:
        return []  # a seed object the role may not open (the menu and the links are checked to be 200)
    facts = page.evaluate(_PAGE_FACTS, _CODED_LABELS)
    if facts["lang"] != "zh-CN":
        crawl.fail(path, f"lang={facts['lang']!r}")
    crawl.english(path, facts["text"], facts["who"])
    if facts["raw"]:
        crawl.fail(path, f"raw codes: {facts['raw']}")
    links = [str(h) for h in facts["links"]]
    if kind_of(path) in crawl.seen:
        # The collector works on a phone: every page of theirs is checked at 375 px.
        if crawl.persona == "collector_zhang":
            _check_phone_width(page, crawl, path)
        return links
    crawl.seen.add(kind_of(path))
    crawl.run_axe(page, path, "1280")
    _check_phone_width(page, crawl, path)
    crawl.run_axe(page, path, "375")
    return links


def _check_phone_width(page: Any, crawl: Crawl, path: str) -> None:
    """Reload the page 375 px wide and fail if it scrolls sideways or a menu entry cannot be seen there."""
    page.set_viewport_size(MOBILE)
    page.goto(path)
    overflow = page.evaluate(_PAGE_FACTS, _CODED_LABELS)["overflow"]
    if overflow > 1:
        crawl.fail(path, f"scrolls sideways at 375 px by {overflow} px")
    hidden = page.evaluate(_MENU_HIDDEN)
    if hidden:
        crawl.fail(path, f"menu entries not reachable at 375 px: {hidden[:6]}")


def _internal(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/web") or _NOT_FOLLOWED.search(parts.path):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(scope="module")
def axe_source() -> Iterator[str]:
    yield _axe_source()


@pytest.fixture(scope="module")
def seen_kinds() -> set[str]:
    """Kinds of page already run through axe-core and the 375-px check (once per kind keeps the crawl short)."""
    return set()


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_every_page_as_every_role_at_desk_and_phone(
    browser: Any, live_server: str, seeds: list[str], persona: str, axe_source: str, seen_kinds: set[str]
) -> None:
    # bypass_csp: the page's CSP (script-src 'self', tested by test_browser_csp.py) would refuse the injected
    # axe-core script; nothing else of the page changes.
    context = browser.new_context(viewport=DESK, locale="zh-CN", base_url=live_server, bypass_csp=True)
    context.set_default_timeout(15_000)
    try:
        _crawl_persona(context.new_page(), seeds, Crawl(persona, axe_source, seen_kinds))
    finally:
        context.close()


def _crawl_persona(page: Any, seeds: list[str], crawl: Crawl) -> None:
    browser_login(page, crawl.persona)
    menu = [
        str(h)
        for h in page.eval_on_selector_all("nav.menu a[href]", "els => els.map(a => a.getAttribute('href'))")
    ]
    assert menu and menu[0] == "/web/", menu
    queue = [p for p in (_internal(h) for h in menu + seeds) if p]
    rendered: set[str] = set()
    links: list[str] = []
    while queue and len(rendered) < MAX_PAGES:
        path = queue.pop(0)
        kind = kind_of(path)
        if kind in rendered or _DOWNLOAD.search(urlsplit(path).path):
            if _DOWNLOAD.search(urlsplit(path).path):
                links.append(path)
            continue
        rendered.add(kind)
        found = [p for p in (_internal(h) for h in _crawl_one(page, crawl, path)) if p]
        links.extend(found)
        queue.extend(p for p in found if kind_of(p) not in rendered)
    # Every link seen on a rendered page opens for the role.
    for href in dict.fromkeys(links + [p for p in (_internal(h) for h in menu) if p]):
        if href in crawl.checked:
            continue
        r = page.context.request.get(href, max_redirects=5)
        crawl.checked[href] = r.status
        if r.status != 200:
            crawl.fail(href, f"linked, but answers {r.status} to the role")
    assert len(rendered) >= len(set(map(kind_of, menu))) // 2, rendered
    assert crawl.problems == [], "\n".join(crawl.problems)
