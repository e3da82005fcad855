"""Every page template compiles at a server's start (`Templates.compile_all`), not on a user's first request."""

from __future__ import annotations

from liangshi.web import i18n
from liangshi.web.render import TEMPLATES, Templates


def test_compile_all_compiles_every_page_template_of_every_language_once() -> None:
    templates = Templates.build()
    pages = sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html"))
    assert len(pages) > 50
    assert templates.compile_all() == len(pages) * len(i18n.LANGUAGES)
    for env in templates.envs.values():
        cached = {key[1] for key in env.cache}  # type: ignore[union-attr]  # (loader ref, name) → compiled
        assert cached >= set(pages)
