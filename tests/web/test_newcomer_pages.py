"""What a newcomer meets first: /docs works offline (Swagger UI vendored from npm), the site has an icon."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]


def test_api_docs_load_swagger_ui_from_the_vendored_static_files(app: Any) -> None:
    client = TestClient(app)
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text) + re.findall(r"url: '([^']+)'", page.text)
    # Nothing from a CDN: every script and style is ours.
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
    for asset in (
        "/web/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/web/static/vendor/swagger-ui/swagger-ui.css",
    ):
        assert asset in sources
        assert client.get(asset).status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"] == "liangshi 两实"
    assert client.get("/docs/oauth2-redirect").status_code == 200


def test_swagger_ui_is_pinned_in_package_json_and_copied_by_make_assets() -> None:
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"\d+\.\d+\.\d+", package["dependencies"]["swagger-ui-dist"])
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "node_modules/swagger-ui-dist/swagger-ui-bundle.js" in makefile


def test_the_site_has_an_icon(app: Any, web_as: Any) -> None:
    client = TestClient(app)
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.content.startswith(b"<svg")
    page = web_as("collector_zhang").get("/web/")
    assert '<link rel="icon" href="/web/static/favicon.svg"' in page.text
    assert client.get("/web/static/favicon.svg").status_code == 200
