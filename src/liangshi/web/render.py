"""Templates (one Jinja2 environment per language, with the i18n extension), redirects and flash messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from liangshi import __version__
from liangshi.audit import service as audit
from liangshi.clock import CHINA_TZ
from liangshi.web import i18n, labels
from liangshi.web.i18n import N_
from liangshi.web.nav import menu_for, nav_for
from liangshi.web.session import FLASH_COOKIE, Page

TEMPLATES = Path(__file__).parent / "templates"

# Flash messages are passed by key through a cookie, so only these texts can ever be shown.
FLASHES: dict[str, str] = {
    "logged_out": N_("You have logged out."),
    "language": N_("Language changed."),
}


def register_flash(key: str, message: str) -> None:
    """Add a flash message (call at module level of a pages module, with an N_() message)."""
    FLASHES[key] = message


@dataclass
class Templates:
    """The page environments, one per language (built by `mount`, not at import time)."""

    envs: dict[str, Environment]

    @classmethod
    def build(cls) -> Templates:
        """Load every language's catalogue and template environment."""
        envs = {}
        for lang in i18n.LANGUAGES:
            env = Environment(
                loader=FileSystemLoader(TEMPLATES),
                autoescape=select_autoescape(["html"]),
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
            env.globals.update(
                version=__version__, languages=i18n.LABELS, labels=labels.ALL, china_tz=CHINA_TZ
            )
            # Audit actions carry their own Chinese and English labels (audit.actions), not gettext ones.
            env.globals["action_label"] = partial(audit.label, lang=i18n.short(lang))
            # Coded values (民族, 文化程度, 婚姻状况, 户籍地区划, 国籍) by their names, never the bare code.
            env.globals["code_name"] = partial(_code_name, lang=lang)
            envs[lang] = env
        return cls(envs)

    def compile_all(self) -> int:
        """Compile every page template of every language now (a server does it at start, in the background, so
        that no user's first request of a page pays its compilation); the number compiled."""
        n = 0
        for env in self.envs.values():
            for name in env.list_templates(extensions=["html"]):
                env.get_template(name)
                n += 1
        return n


def _code_name(field: str, value: object, *, lang: str) -> str:
    return labels.code_name(field, value, lang)


def _flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    level, _, key = raw.partition(":")
    if key not in FLASHES or level not in ("ok", "warn", "error"):
        return None
    return level, FLASHES[key]


def render(
    request: Request,
    template: str,
    p: Page | None = None,
    *,
    status: int = 200,
    lang: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a page template for the logged-in user (or an anonymous page when `p` is None)."""
    language = p.lang if p is not None else (lang or i18n.language(request))
    env = request.app.state.web_templates.envs[language]
    values: dict[str, Any] = {
        "request": request,
        "lang": language,
        "path": request.url.path,
        "query": request.url.query,
        "flash": _flash(request),
        "nav": menu_for(p.ctx.actor) if p is not None else [],  # the bar: entries and sections
        "nav_items": nav_for(p.ctx.actor)
        if p is not None
        else [],  # every entry, flat (the home page's tiles)
        "page": None,
        "user": None,
    }
    if p is not None:
        values.update(p.template_context())
    values.update(context)
    html = env.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    if values["flash"] is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, *, flash: str | None = None, level: str = "ok", htmx: bool = False) -> Response:
    """303 See Other after a POST (or HX-Redirect for htmx), optionally with a flash message key."""
    if flash is not None and flash not in FLASHES:
        raise KeyError(f"unregistered flash message {flash!r}")
    if htmx:
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if flash is not None:
        response.set_cookie(FLASH_COOKIE, f"{level}:{flash}", path="/", httponly=True, samesite="lax")
    return response


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (answer with a fragment)."""
    return request.headers.get("hx-request") == "true"


def local_path(value: str | None, default: str = "/web/") -> str:
    """A redirect target that stays on this site (open-redirect guard)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def login_url(request: Request) -> str:
    """The login page that comes back to this page afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/web/login?next=" + quote(target, safe="")


def to_json(value: Any) -> str:
    """JSON for a data attribute or a script tag (escaped by Jinja where used)."""
    return json.dumps(value, ensure_ascii=False, default=str)
