"""Issue 18: under `script-src 'self'` the pages still work in Chromium, and the browser reports no blocked script."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.web.conftest import DESK, MOBILE, Scene, browser_login


def _watch(page: Any) -> list[str]:
    """Messages of the browser about anything the policy refused."""
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: (
            blocked.append(m.text) if "Content Security Policy" in m.text or "Refused to" in m.text else None
        ),
    )
    return blocked


def test_the_visit_form_and_the_search_run_without_inline_script(
    open_page: Callable[..., Any], scene: Scene
) -> None:
    page = open_page(MOBILE)
    blocked = _watch(page)
    browser_login(page, "collector_zhang")
    page.goto("/web/collect")
    page.wait_for_selector("h1")
    page.goto(f"/web/collect/dwellings/{scene.place.dwelling_id}")
    page.wait_for_selector("#visit-form")
    # The once-only submit from collect-pages.js: the button is disabled as the form goes.
    page.evaluate(
        "document.getElementById('visit-form').addEventListener('submit', e => e.preventDefault(), {once: true})"
    )
    page.dispatch_event("#visit-form", "submit")
    assert page.eval_on_selector("#visit-form button[type=submit]", "b => b.disabled") is True
    page.goto("/web/search")
    page.fill("input[name=q]", scene.zhang_id)
    page.click("form[role=search] button")
    page.wait_for_selector("#results")
    assert scene.zhang_id not in page.url
    assert blocked == []


def test_the_api_explorer_starts_from_its_file(open_page: Callable[..., Any]) -> None:
    page = open_page(DESK)
    blocked = _watch(page)
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .info", timeout=30_000)
    assert "liangshi" in (page.text_content(".swagger-ui .info") or "")
    assert blocked == []
