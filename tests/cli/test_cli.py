"""The command line: database, users, validation, demo."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi.access.models import User
from liangshi.areas.models import Area
from liangshi.cli.main import app
from liangshi.clock import Clock
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.rentals.models import Rental
from liangshi.venues.models import Stay, Venue

runner = CliRunner()
KEYS = ["input", "valid", "normalized", "birth_date", "sex", "region", "error"]


def _lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_validate_id_prints_one_json_object_per_input_in_order() -> None:
    inputs = [
        "11010519491231002x",
        "110105194912310021",
        "1101051949123100",
        "110105491231002",
        "110105199002300018",
    ]
    result = runner.invoke(app, ["validate", "id", *inputs, "--json"])
    assert result.exit_code == 0, result.output
    rows = _lines(result.output)
    assert [list(r) for r in rows] == [KEYS] * 5
    assert [r["input"] for r in rows] == inputs
    assert rows[0] == {
        "input": "11010519491231002x",
        "valid": True,
        "normalized": "11010519491231002X",
        "birth_date": "1949-12-31",
        "sex": "female",
        "region": "110105",
        "error": None,
    }
    assert rows[1]["error"] == "checksum" and rows[1]["valid"] is False
    assert rows[2]["error"] == "format"
    assert rows[3]["valid"] is True and rows[3]["normalized"] == "11010519491231002X"
    assert rows[4]["error"] == "birth_date"


def test_validate_id_reads_a_file(tmp_path: Path) -> None:
    f = tmp_path / "ids.txt"
    f.write_text("\ufeff１１０１０５１９４９１２３１００２Ｘ\n\n420704 19900101 1036\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", "id", "--file", str(f), "--json"])
    rows = _lines(result.output)
    assert rows[0]["normalized"] == "11010519491231002X"
    assert len(rows) == 2


def test_validate_id_without_input_or_with_a_missing_file_exits_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["validate", "id", "--json"]).exit_code == 2
    assert runner.invoke(app, ["validate", "id", "--file", str(tmp_path / "nope.txt")]).exit_code == 2


def test_db_upgrade_user_add_and_demo_on_a_fresh_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {"LIANGSHI_DATABASE_URL": url}
    first = runner.invoke(app, ["db", "upgrade"], env=env)
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["db", "upgrade"], env=env)
    assert again.exit_code == 0 and "0" in again.output
    added = runner.invoke(
        app,
        [
            "user",
            "add",
            "station_admin_li",
            "--role",
            "station_admin",
            "--area",
            "420704001",
            "--password",
            "Long-enough-1",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    dup = runner.invoke(
        app,
        [
            "user",
            "add",
            "station_admin_li",
            "--role",
            "station_admin",
            "--area",
            "420704001",
            "--password",
            "Long-enough-1",
        ],
        env=env,
    )
    assert dup.exit_code == 2 and "user.exists" in dup.output
    bad_role = runner.invoke(
        app,
        ["user", "add", "x_user", "--role", "king", "--area", "420704", "--password", "Long-enough-1"],
        env=env,
    )
    assert bad_role.exit_code == 2 and "user.role_unknown" in bad_role.output
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as s:
        assert s.execute(select(func.count()).select_from(Area)).scalar_one() == 30
        assert (
            s.execute(select(User.role).where(User.username == "station_admin_li")).scalar_one()
            == "station_admin"
        )
    engine.dispose()


def test_demo_build_prints_a_login_for_every_role(tmp_path: Path) -> None:
    env = {"LIANGSHI_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    result = runner.invoke(app, ["demo", "build", "--persons", "400"], env=env)
    assert result.exit_code == 0, result.output
    for role in (
        "collector",
        "community_police",
        "station_admin",
        "district_admin",
        "city_admin",
        "department_liaison",
        "inspector",
        "auditor",
    ):
        assert role in result.output
    assert "Demo-2026-liangshi" in result.output
    # Besides the police files the demo holds the city's rentals, venues and their stays, so every KPI has data.
    engine = make_engine(env["LIANGSHI_DATABASE_URL"])
    with session_scope(make_session_factory(engine)) as s:
        counted = {
            m.__tablename__: s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Rental, Venue, Stay)
        }
    engine.dispose()
    assert all(n > 0 for n in counted.values()), counted
    today = Clock().today()
    kpis = runner.invoke(
        app,
        [
            "kpis",
            "--area",
            "420700",
            "--from",
            str(today - dt.timedelta(days=90)),
            "--to",
            str(today),
            "--json",
        ],
        env=env,
    )
    assert kpis.exit_code == 0, kpis.output
    values = {k["key"]: k for k in json.loads(kpis.output)["kpis"]}
    for key in ("rental_registration", "rental_entry", "rental_agreement", "venue_realtime"):
        assert values[key]["denominator"] > 0 and values[key]["rate"] is not None, key
    assert values["venue_realtime"]["denominator"] == counted["stays"]
    # The liaison persona has a department with an agreement in force, so its pages show something.
    listed = runner.invoke(app, ["dept", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    for code in ("health", "civil_affairs", "justice", "statistics"):
        assert code in listed.output
    again = runner.invoke(
        app, ["demo", "build", "--persons", "400"], env=env
    )  # building twice changes nothing
    assert again.exit_code == 0 and runner.invoke(app, ["dept", "list"], env=env).output == listed.output


def test_user_token_issues_a_working_api_token(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from liangshi.config import Settings
    from liangshi.http.app import create_app

    url = f"sqlite:///{tmp_path / 'tok.db'}"
    env = {"LIANGSHI_DATABASE_URL": url}
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    runner.invoke(
        app,
        [
            "user",
            "add",
            "inspector_zhao",
            "--role",
            "inspector",
            "--area",
            "420704",
            "--password",
            "Long-enough-1",
        ],
        env=env,
    )
    result = runner.invoke(app, ["user", "token", "inspector_zhao", "--days", "30"], env=env)
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    client = TestClient(create_app(Settings(database_url=url)))
    me = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["role"] == "inspector"
    assert runner.invoke(app, ["user", "token", "nobody"], env=env).exit_code == 2


def test_synth_writes_the_city_and_loads_the_police_extracts_without_rejections(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'city.db'}"
    out = tmp_path / "city"
    result = runner.invoke(
        app,
        ["synth", "--persons", "600", "--seed", "7", "--out", str(out), "--db", url, "--today", "2026-11-27"],
    )
    assert result.exit_code == 0, result.output
    assert (out / "police_persons.csv").exists() and (out / "truth").is_dir()
    lines = {line.split()[0]: line.split() for line in result.output.splitlines() if "rejected" in line}
    for kind in ("plates", "dwellings", "persons", "households", "residences"):
        assert lines[kind][-1] == "0", lines[kind]
    # Civil affairs' areas and streets sent as its batches: the police files loaded them, so every row is the same.
    for stem in ("civil_affairs_areas", "civil_affairs_streets"):
        rows = sum(1 for _ in (out / f"{stem}.csv").open(encoding="utf-8")) - 1
        summary = next(line for line in result.output.splitlines() if line.split()[:1] == [stem])
        assert summary.split(": ", 1)[1] == f"{rows:,} rows, same {rows:,}, changed 0, refused 0", summary
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as s:
        from liangshi.persons.models import Person

        loaded = s.execute(select(func.count()).select_from(Person)).scalar_one()
    engine.dispose()
    persons_rows = sum(1 for _ in (out / "police_persons.csv").open(encoding="utf-8")) - 1
    assert loaded == persons_rows
    again = runner.invoke(
        app,
        [
            "synth",
            "--persons",
            "600",
            "--seed",
            "7",
            "--out",
            str(tmp_path / "again"),
            "--today",
            "2026-11-27",
        ],
    )
    assert again.exit_code == 0
    assert (tmp_path / "again" / "police_persons.csv").read_bytes() == (
        out / "police_persons.csv"
    ).read_bytes()


def test_synth_needs_a_destination() -> None:
    assert runner.invoke(app, ["synth", "--persons", "300"]).exit_code == 2


def test_synth_plants_the_kinds_of_stop_25_only_with_more_kinds(tmp_path: Path) -> None:
    args = ["synth", "--persons", "600", "--seed", "7", "--today", "2026-11-27", "--out"]
    plain, more = tmp_path / "plain", tmp_path / "more"
    assert runner.invoke(app, [*args, str(plain)]).exit_code == 0
    result = runner.invoke(app, [*args, str(more), "--more-kinds"])
    assert result.exit_code == 0, result.output
    assert not (plain / "truth" / "id_invalid.csv").exists()
    lines = (more / "truth" / "id_invalid.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "file,id_number,name,true_id_number,error"
    assert (plain / "police_persons.csv").read_bytes() == (more / "police_persons.csv").read_bytes()
