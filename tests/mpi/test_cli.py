"""`liangshi link persons`: register duplicates queued for review."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from liangshi.cli.main import app
from liangshi.mpi.models import MatchReview
from tests.conftest import INSIDE, World
from tests.mpi.helpers import bare_person


def test_link_persons_queues_duplicates_and_is_idempotent(world: World, db_url: str) -> None:
    with world.session() as s:
        ctx = world.ctx(s)
        a = bare_person(s, ctx, area_id=world.area(INSIDE), name="陈静", male=False, birth="1980-02-02")
        b = bare_person(s, ctx, area_id=world.area(INSIDE), name="陈静", male=False, birth="1980-02-02")
    env = {"LIANGSHI_DATABASE_URL": db_url}
    result = CliRunner().invoke(app, ["link", "persons", "--county", "420704", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"persons": 2, "pairs": 1, "queued": 1, "already_queued": 0}
    with world.session() as s:
        review = s.execute(select(MatchReview)).scalar_one()
        assert (review.candidate_person_id, review.left_person_id, review.status) == (a, b, "pending")
    again = CliRunner().invoke(app, ["link", "persons", "--json"], env=env)
    assert json.loads(again.stdout)["queued"] == 0


def test_link_persons_refuses_a_bad_county(world: World, db_url: str) -> None:
    result = CliRunner().invoke(
        app, ["link", "persons", "--county", "42"], env={"LIANGSHI_DATABASE_URL": db_url}
    )
    assert result.exit_code == 2
    assert "mpi.county_invalid" in result.output
