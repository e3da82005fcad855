"""The findings page offers a check only some readers see (`correction.person_departed`, community corrections)
only to them: the community police see it in the list of checks, a collector does not, and naming it in the
address shows the collector the page without it."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

CODE = "correction.person_departed"


def test_the_findings_page_offers_the_check_only_to_those_who_read_the_cases(
    web_as: Callable[[str], TestClient],
) -> None:
    police = web_as("police_liu").get("/web/checks")
    collector = web_as("collector_zhang").get("/web/checks")
    assert police.status_code == collector.status_code == 200
    assert f'value="{CODE}"' in police.text and f'value="{CODE}"' not in collector.text
    assert web_as("collector_zhang").get(f"/web/checks?check={CODE}").status_code == 200
