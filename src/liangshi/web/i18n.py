"""Gettext catalogues (Babel): Chinese by default, English on request; compiled from the .po files in memory."""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import Request

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LANGUAGES = ("zh_CN", "en")
DEFAULT = "zh_CN"
COOKIE = "ls_lang"
LABELS = {"zh_CN": "中文", "en": "English"}


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now (translated where it is shown)."""
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of a language, compiled from its .po file (no build step, works on a fresh clone)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def language(request: Request) -> str:
    """The page language: the `ls_lang` cookie when it names a known language, else Chinese."""
    value = request.cookies.get(COOKIE, "")
    return value if value in LANGUAGES else DEFAULT


def short(lang: str) -> str:
    """'zh' or 'en', as LiangshiError.message() expects."""
    return "en" if lang == "en" else "zh"
