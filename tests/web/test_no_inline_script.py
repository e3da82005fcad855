"""Issue 18: the CSP says script-src 'self', so no template or page may carry an inline script or handler."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "liangshi" / "web" / "templates"
# An event-handler attribute (onclick=, onsubmit= …) or htmx's inline handlers (hx-on:…, hx-on-…) and js: URLs.
HANDLER = re.compile(r"""<[^>]*\s(on[a-z]+|hx-on[:\-][\w:\-]*)\s*=""", re.IGNORECASE)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.IGNORECASE | re.DOTALL)


def _inline_scripts(html: str) -> list[str]:
    """Script elements with a body that a browser would run (JSON data islands are not scripts)."""
    found = []
    for attrs, body in SCRIPT.findall(html):
        if 'type="application/json"' in attrs or "type='application/json'" in attrs:
            continue
        if body.strip():
            found.append(body.strip()[:80])
    return found


def test_no_template_has_an_inline_handler_or_script() -> None:
    offenders: list[str] = []
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    for path in templates:
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(TEMPLATES))
        offenders += [f"{name}: {m.group(1)}=" for m in HANDLER.finditer(text)]
        offenders += [f"{name}: javascript: URL" for _ in JS_URL.finditer(text)]
        offenders += [f"{name}: <script>{body}" for body in _inline_scripts(text)]
    assert offenders == []


def test_the_grep_finds_what_it_must() -> None:
    assert HANDLER.search('<form id="f"\n  onsubmit="go()">')
    assert HANDLER.search('<button hx-on:click="x()">')
    assert not HANDLER.search('<p data-online="1">')
    assert _inline_scripts("<script>alert(1)</script>") == ["alert(1)"]
    assert _inline_scripts('<script type="application/json" id="d">{"a": 1}</script>') == []
    assert _inline_scripts('<script src="/web/static/x.js"></script>') == []


def test_the_policy_allows_only_our_own_scripts(client: TestClient) -> None:
    policy = client.get("/web/login").headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"


def test_pages_built_in_python_have_no_inline_script(app: Any) -> None:
    client = TestClient(app)
    for path in ("/", "/docs", "/docs/oauth2-redirect", "/web/login", "/web/nowhere"):
        r = client.get(path)
        assert r.status_code in (200, 404), path
        assert _inline_scripts(r.text) == [], path
        assert not HANDLER.search(r.text), path
    docs = client.get("/docs").text
    assert '<script src="/web/static/swagger-init.js">' in docs
    assert client.get("/web/static/swagger-init.js").status_code == 200
    assert client.get("/web/static/collect-pages.js").status_code == 200


def test_collector_pages_load_their_script_from_a_file(client: TestClient, web_as: Any) -> None:
    page = web_as("collector_zhang")
    area = page.get("/web/collect")
    assert area.status_code == 200
    assert '<script src="/web/static/collect-pages.js">' in area.text
    assert _inline_scripts(area.text) == []
