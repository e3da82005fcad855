"""Every message of the web pages has a Chinese translation; the English catalogue loads."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

from liangshi.web import i18n

WEB = Path(i18n.__file__).parent


def _extracted() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found = extract_from_dir(
        str(WEB),
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords=keywords,
    )
    ids: set[str] = set()
    for _filename, _lineno, message, _comments, _context in found:
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_page_message_has_a_chinese_translation() -> None:
    zh = i18n.translations("zh_CN")
    ids = _extracted()
    assert len(ids) > 10
    untranslated = sorted(m for m in ids if zh.gettext(m) == m)
    assert untranslated == [], "run `make messages` and translate these in zh_CN/messages.po"


def test_english_catalogue_falls_back_to_the_english_message() -> None:
    assert i18n.translations("en").gettext("Log in") == "Log in"
    assert i18n.translations("zh_CN").gettext("Log in") == "登录"


def test_every_comparison_level_of_the_record_linkage_has_a_label() -> None:
    from liangshi.linkage.compare import COMPARISONS
    from liangshi.web.labels import LEVELS

    levels = {level.name for comparison in COMPARISONS for level in comparison.levels}
    assert levels - set(LEVELS) == set()
    zh = i18n.translations("zh_CN")
    for name in levels:
        assert zh.gettext(LEVELS[name]) != LEVELS[name], name  # shown in Chinese on the review page
