"""`liangshi venues purge`: retention by venue kind, dry run, audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from liangshi.audit.models import AuditEntry
from liangshi.cli.main import app
from liangshi.errors import Unauthenticated
from tests import factories
from tests.conftest import NOW, World
from tests.venues.helpers import D, H, check_in, check_out, post, stays, venue


def _load(world: World) -> None:
    hotel, cafe = venue(world), venue(world, kind="cafe", name="星空网吧")
    post(
        world,
        hotel,
        [
            check_in("H-OLD", factories.make_id(seq=81), at=NOW - 800 * D),
            check_out("H-OLD", NOW - 798 * D),
            check_in("H-KEPT", factories.make_id(seq=83), at=NOW - 400 * D),
        ],
    )
    post(
        world,
        cafe,
        [
            check_in("C-OLD", factories.make_id(seq=85), at=NOW - 70 * D),
            check_out("C-OLD", NOW - 70 * D + 3 * H),
            check_in("C-KEPT", factories.make_id(seq=87), at=NOW - 5 * D),
        ],
    )


def test_purge_dry_run_counts_and_deletes_nothing(world: World, db_url: str) -> None:
    _load(world)
    result = CliRunner().invoke(
        app, ["venues", "purge", "--dry-run", "--json"], env={"LIANGSHI_DATABASE_URL": db_url}
    )
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert counts["dry_run"] is True
    assert (counts["kinds"]["hotel"]["stays"], counts["kinds"]["cafe"]["stays"]) == (1, 1)
    assert len(stays(world)) == 4


def test_purge_deletes_only_old_stays_by_kind_and_is_audited(world: World, db_url: str) -> None:
    _load(world)
    result = CliRunner().invoke(app, ["venues", "purge"], env={"LIANGSHI_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    assert "hotel" in result.stdout and "cafe" in result.stdout
    assert set(stays(world)) == {"H-KEPT", "C-KEPT"}
    with world.session() as s:
        [entry] = s.execute(select(AuditEntry).where(AuditEntry.action == "venues.purge")).scalars()
    detail = json.loads(entry.detail)["deleted"]
    assert (detail["hotel"]["stays"], detail["hotel"]["days"]) == (1, 730)
    assert (detail["cafe"]["stays"], detail["cafe"]["days"]) == (1, 60)
    assert detail["cafe"]["cutoff"]


def test_shorter_retention_from_the_command_line(world: World, db_url: str) -> None:
    _load(world)
    result = CliRunner().invoke(
        app,
        ["venues", "purge", "--hotel-days", "300", "--cafe-days", "3", "--json"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert stays(world) == {}


def test_keys_are_issued_listed_and_revoked_from_the_cli(world: World, db_url: str) -> None:
    hotel = venue(world)
    env = {"LIANGSHI_DATABASE_URL": db_url}
    issued = CliRunner().invoke(app, ["venues", "key", "issue", str(hotel), "--name", "前台"], env=env)
    assert issued.exit_code == 0, issued.output
    key = json.loads(issued.stdout)
    assert key["key"].startswith(key["prefix"]) and key["name"] == "前台"
    assert post(
        world, hotel, [check_in("CLI-1", factories.make_id(seq=91), at=NOW - H)], venue_key=key["key"]
    )
    listed = CliRunner().invoke(app, ["venues", "key", "list", str(hotel)], env=env)
    assert [k["key_id"] for k in json.loads(listed.stdout)] == [key["key_id"]]
    assert "key" not in json.loads(listed.stdout)[0]
    revoked = CliRunner().invoke(app, ["venues", "key", "revoke", str(hotel), str(key["key_id"])], env=env)
    assert revoked.exit_code == 0 and json.loads(revoked.stdout)["revoked_at"] is not None
    with pytest.raises(Unauthenticated) as exc:
        post(world, hotel, [check_in("CLI-2", factories.make_id(seq=93), at=NOW - H)], venue_key=key["key"])
    assert exc.value.code == "venue.key_invalid"
    missing = CliRunner().invoke(app, ["venues", "key", "issue", "999999"], env=env)
    assert missing.exit_code == 2 and "venue.not_found" in missing.output
    with world.session() as s:
        actions = s.execute(select(AuditEntry.action).where(AuditEntry.action.like("venue.key%"))).scalars()
        assert sorted(actions) == ["venue.key_issue", "venue.key_revoke"]
