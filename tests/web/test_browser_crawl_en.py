"""Issue 17: the crawl in English. Every demo role switches the language (the header's "English" link) and opens
the same pages as tests/web/test_browser_crawl.py; no page may show Chinese text other than what the data holds:
names of people, places, streets, buildings, venues, campaigns and teams, what users typed (a reason, a note),
the standard address written the Chinese way (号, 单元, 室; the street's type 路, 街, 巷 …), and the names of the
national code tables, which have no English names and stay Chinese beside their code (labels.code_name).

A Chinese run on the page passes only when it can be cut, whole, into such data values (an address is area names
+ street name + plate number + building + unit + room, all from the data); anything else is untranslated text.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, get_args
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import String, Text, select

from liangshi.addresses.schemas import StreetType
from liangshi.common import codes
from liangshi.db import Base
from tests.conftest import PERSONAS, World
from tests.web.conftest import DESK, browser_login
from tests.web.test_browser_crawl import (  # noqa: F401 - seeds is a fixture used by name
    _DOWNLOAD,
    MAX_PAGES,
    _internal,
    kind_of,
    seeds,
)

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# The columns that hold data shown as it was recorded: names and labels, addresses, what users typed.
_DATA_COLUMN = re.compile(
    r"(name|label|address|destination|workplace|occupation|reason|note|comment|message|purpose|description|"
    r"title|summary|room|building|school|employer|basis)"
)
# The standard address's own notation (addresses.rules.render_plate_number, describe_dwelling): plate number
# 号 / 附 / 之一…之十 / 甲乙丙…, 单元 and 室 after the building.
# The street's type (路, 街, 巷 …) is the generic part of its Chinese name, shown untranslated (streets.STREET_TYPES).
_ADDRESS_NOTATION = {
    "号",
    "附",
    "之",
    "单元",
    "室",
    *"一二三四五六七八九十",
    *"甲乙丙丁戊己庚辛壬癸",
    *get_args(StreetType),
}

_PAGE_TEXT = """() => {
  // The language switch back to Chinese is marked lang="zh-CN": a language's own name, not page text.
  let text = document.body.innerText;
  for (const el of document.querySelectorAll('[lang^=zh]:not(html)')) text = text.split(el.innerText).join(' ');
  const links = Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));
  return {text, links, lang: document.documentElement.lang};
}"""


def data_words(world: World) -> set[str]:
    """Every Chinese run held in the data's name, address and free-text columns."""
    words: set[str] = set(_ADDRESS_NOTATION)
    for name in codes.TABLE_NAMES:
        for value in codes.table(name).entries.values():
            words.update(_HAN.findall(value))
    with world.session() as s:
        for table in Base.metadata.sorted_tables:
            for col in table.columns:
                if isinstance(col.type, String | Text) and _DATA_COLUMN.search(col.name):
                    for (value,) in s.execute(select(col).distinct().where(col.is_not(None))):
                        words.update(_HAN.findall(str(value)))
    return words


def untranslated(text: str, words: set[str]) -> list[str]:
    """The Chinese runs of a page that are not cut, whole, into data values."""

    @cache
    def fits(run: str) -> bool:
        return run == "" or any(
            run.startswith(w) and fits(run[len(w) :]) for w in words if len(w) <= len(run)
        )

    return sorted({run for run in _HAN.findall(text) if not fits(run)})


def test_the_data_check_lets_names_and_addresses_through_and_catches_interface_text() -> None:
    words = {"鄂州市", "鄂城区", "凤凰路", "张三", "栋", *_ADDRESS_NOTATION}
    assert untranslated("Zhang: 张三 · 鄂州市鄂城区凤凰路12号3栋1单元501室", words) == []
    assert untranslated("Residence 居住登记 of 张三", words) == ["居住登记"]


@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_every_page_in_english_as_every_role_shows_no_untranslated_chinese(
    browser: Any,
    live_server: str,
    seeds: list[str],  # noqa: F811 - the crawl's fixture, imported above
    persona: str,
    world: World,
) -> None:
    words = data_words(world)
    context = browser.new_context(viewport=DESK, locale="en-GB", base_url=live_server)
    context.set_default_timeout(15_000)
    problems: list[str] = []
    try:
        page = context.new_page()
        browser_login(page, persona)
        page.goto(f"/web/lang?lang=en&next={quote('/web/')}")
        assert page.evaluate("() => document.documentElement.lang") == "en"
        menu = [
            str(h)
            for h in page.eval_on_selector_all(
                "nav.menu a[href]", "els => els.map(a => a.getAttribute('href'))"
            )
        ]
        queue = [p for p in (_internal(h) for h in menu + seeds) if p]
        rendered: set[str] = set()
        while queue and len(rendered) < MAX_PAGES:
            path = queue.pop(0)
            kind = kind_of(path)
            if kind in rendered or _DOWNLOAD.search(urlsplit(path).path):
                continue
            rendered.add(kind)
            response = page.goto(path)
            if response is None or response.status != 200:
                continue
            facts = page.evaluate(_PAGE_TEXT)
            if facts["lang"] != "en":
                problems.append(f"{persona} {path}: lang={facts['lang']!r}")
            left = untranslated(facts["text"], words)
            if left:
                problems.append(f"{persona} {path}: Chinese in the English page: {left[:12]}")
            found = [p for p in (_internal(str(h)) for h in facts["links"]) if p]
            queue.extend(p for p in found if kind_of(p) not in rendered)
    finally:
        context.close()
    assert len(rendered) >= 5, rendered
    assert problems == [], "\n".join(problems)
