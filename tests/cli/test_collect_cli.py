"""`liangshi collect sync|work`: an outbox exported from a phone, synced as its collector, item by item."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi.campaign.models import Visit
from liangshi.cli.collect import app
from liangshi.registry.changesets import ChangeSet
from tests import factories
from tests.conftest import INSIDE, World

runner = CliRunner()


@pytest.fixture
def cli_env(world: World, db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LIANGSHI_DATABASE_URL", db_url)
    return db_url


def test_collect_sync_stores_once_and_reports_refusals(tmp_path: Path, world: World, cli_env: str) -> None:
    with world.session() as session:
        ctx = world.ctx(session)
        district = world.area("420704")
        mine = factories.place(session, ctx, area_id=world.area(INSIDE), district_id=district)
        other = factories.place(session, ctx, area_id=world.area("420704001002"), district_id=district)
    items = [
        {"uuid": str(uuid.uuid4()), "kind": "visit", "dwelling_id": d, "visit": {"outcome": "vacant"}}
        for d in (mine.dwelling_id, other.dwelling_id)
    ]
    outbox = tmp_path / "outbox.json"
    outbox.write_text(json.dumps({"items": items}), encoding="utf-8")
    first = runner.invoke(app, ["sync", str(outbox), "--as", "collector_zhang", "--json"])
    assert first.exit_code == 1, first.output  # one item refused
    results = json.loads(first.stdout)["items"]
    assert [r["status"] for r in results] == ["stored", "refused"]
    assert results[1]["code"] == "sync.not_assigned"
    # The vacant status the stored visit implies awaits the station's review, as from the web.
    assert results[0]["change_set_id"] is not None and results[1]["change_set_id"] is None
    again = runner.invoke(app, ["sync", str(outbox), "--as", "collector_zhang"])
    assert "replayed" in again.stdout and "重复 replayed 1" in again.stdout
    with world.session() as session:
        assert session.execute(select(func.count(Visit.id))).scalar_one() == 1
        cs = session.get(ChangeSet, results[0]["change_set_id"])
        assert cs is not None and cs.status == "pending_station" and cs.action == "occupancy"
        assert session.execute(select(func.count(ChangeSet.id))).scalar_one() == 1
    work = runner.invoke(app, ["work", "--as", "collector_zhang"])
    assert work.exit_code == 0, work.output
    dwellings = [d["dwelling_id"] for b in json.loads(work.stdout)["buildings"] for d in b["dwellings"]]
    assert dwellings == [mine.dwelling_id]


def test_collect_sync_refuses_a_file_that_is_not_json(tmp_path: Path, cli_env: str) -> None:
    bad = tmp_path / "outbox.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["sync", str(bad), "--as", "collector_zhang"])
    assert result.exit_code == 2
    assert "sync.file_invalid" in result.output
