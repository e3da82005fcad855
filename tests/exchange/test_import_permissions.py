"""Who may bulk-import what: every role × every import kind (issue 12, "Behaviour").

The expected table below is the specification, written out literally and independently of
`liangshi.access.rules` and `liangshi.exchange.service.KIND_PERMISSIONS`: a wrong entry in either shows up
here as a failing cell.

- A refused cell raises `import.forbidden` (403) naming the permissions the role lacks, before anything is
  written: not one row in any table (no import batch, no audit entry, no row of the kind), although the same
  file loads for a role that may import it.
- An allowed cell loads the file's one row (every persona's jurisdiction covers the community the files use).

The prerequisites of each kind (the plate a building stands on, the person a residence registers …) are loaded
by the system operator first, so the role is the only thing that differs between cells.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from liangshi.access.service import SYSTEM
from liangshi.addresses.models import Address, Street
from liangshi.areas.models import Area
from liangshi.buildings.models import Building, Dwelling
from liangshi.cli.main import app
from liangshi.db import Base
from liangshi.errors import Forbidden
from liangshi.exchange import formats, loaders, service
from liangshi.exchange.models import ImportBatch
from liangshi.persons.models import Household, Person
from liangshi.rentals.models import Rental, RentalTenant
from liangshi.residence.models import Residence
from liangshi.venues.models import Stay, Venue
from tests.conftest import INSIDE, World

# ---------------------------------------------------------------------------------------------------------
# The specification
# ---------------------------------------------------------------------------------------------------------

PERSONA_ROLES: dict[str, str] = {
    "collector_zhang": "collector",
    "police_liu": "community_police",
    "station_admin_li": "station_admin",
    "district_admin_chen": "district_admin",
    "city_admin_wang": "city_admin",
    "health_liaison_wang": "department_liaison",
    "inspector_zhao": "inspector",
    "auditor_sun": "auditor",
    "housing_officer_he": "housing_officer",
}

KINDS = (
    "areas",
    "streets",
    "plates",
    "buildings",
    "dwellings",
    "persons",
    "households",
    "residences",
    "rentals",
    "venues",
    "stays",
)

# Y: the role may import the kind; -: refused as a whole.
#   Areas are the city's (市级); street names civil affairs' at district level; door plates are installed by the
#   police; collectors record buildings, dwellings, people, households, residences and rentals at the door;
#   hotels and internet cafés, and their guest logs (stays), are the station's and above. A department liaison,
#   an inspector and an auditor import nothing through the bulk importer (a department's file is a batch under
#   its agreement: tests/departments/test_batch_permissions.py).
EXPECTED_TABLE = """
role               areas streets plates buildings dwellings persons households residences rentals venues stays
collector            -      -      -        Y         Y        Y        Y          Y         Y       -      -
community_police     -      -      Y        Y         Y        Y        Y          Y         Y       -      -
station_admin        -      -      Y        Y         Y        Y        Y          Y         Y       Y      Y
district_admin       -      Y      Y        Y         Y        Y        Y          Y         Y       Y      Y
city_admin           Y      Y      Y        Y         Y        Y        Y          Y         Y       Y      Y
department_liaison   -      -      -        -         -        -        -          -         -       -      -
inspector            -      -      -        -         -        -        -          -         -       -      -
auditor              -      -      -        -         -        -        -          -         -       -      -
housing_officer      -      -      -        Y         Y        -        -          -         Y       -      -
"""

# The permissions an import of each kind needs (what a refusal names as missing).
NEEDS: dict[str, list[str]] = {
    "areas": ["area.write"],
    "streets": ["street.write"],
    "plates": ["address.write"],
    "buildings": ["building.write"],
    "dwellings": ["dwelling.write"],
    "persons": ["person.write"],
    "households": ["household.write"],
    "residences": ["residence.write"],
    "rentals": ["rental.write"],
    "venues": ["venue.write"],
    "stays": ["venue.write"],
}


def _parse(table: str) -> dict[str, dict[str, bool]]:
    header, *lines = [line.split() for line in table.strip().splitlines()]
    assert tuple(header[1:]) == KINDS
    out = {}
    for role, *cells in lines:
        assert len(cells) == len(KINDS) and set(cells) <= {"Y", "-"}, role
        out[role] = {kind: cell == "Y" for kind, cell in zip(KINDS, cells, strict=True)}
    return out


EXPECTED = _parse(EXPECTED_TABLE)

# ---------------------------------------------------------------------------------------------------------
# The files: the templates' example rows (one consistent register) and three of our own
# ---------------------------------------------------------------------------------------------------------

TEMPLATE_ID = "11010519491231002X"
# What each kind's file needs loaded before it (by the system operator).
PREREQUISITES: dict[str, tuple[str, ...]] = {
    "areas": (),
    "streets": (),
    "plates": ("streets",),
    "buildings": ("streets", "plates"),
    "dwellings": ("streets", "plates", "buildings"),
    "persons": (),
    "households": ("streets", "plates", "buildings", "dwellings", "persons"),
    "residences": ("streets", "plates", "buildings", "dwellings", "persons"),
    "rentals": ("streets", "plates", "buildings", "dwellings", "persons", "residences"),
    "venues": ("streets", "plates"),
    "stays": ("streets", "plates", "persons", "venues"),
}
# The table each kind's rows land in (one row per file).
TABLES: dict[str, Any] = {
    "areas": Area,
    "streets": Street,
    "plates": Address,
    "buildings": Building,
    "dwellings": Dwelling,
    "persons": Person,
    "households": Household,
    "residences": Residence,
    "rentals": Rental,
    "venues": Venue,
    "stays": Stay,
}


def _write(path: Path, header: list[str], row: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerow(row)
    return path


def file_of(kind: str, directory: Path) -> Path:
    """A one-row file of the kind, consistent with the files of its prerequisites."""
    path = directory / f"{kind}.csv"
    if kind == "areas":
        # The template's community exists in the test world: a new grid under it.
        return _write(
            path, ["code", "name", "level", "parent_code"], [INSIDE + "901", "第一网格", "grid", INSIDE]
        )
    if kind == "rentals":
        # The template person rents out the dwelling they live in and lives on there as its tenant.
        row = formats.EXAMPLES["rentals"] | {"tenant_id_numbers": TEMPLATE_ID}
        columns = [c.key for c in formats.KINDS["rentals"]]
        return _write(path, columns, [row[c] for c in columns])
    service.write_template(kind, path)
    return path


def counts(world: World) -> dict[str, int]:
    """Rows in every table of the schema."""
    with world.session() as s:
        return {
            t.name: int(s.execute(select(func.count()).select_from(t)).scalar_one())
            for t in Base.metadata.sorted_tables
        }


def _prepare(world: World, kind: str, directory: Path) -> Path:
    for before in PREREQUISITES[kind]:
        loaded = _import(world, before, file_of(before, directory), SYSTEM)
        assert (loaded.loaded, loaded.errors) == (1, []), (before, loaded.errors)
    return file_of(kind, directory)


def _import(world: World, kind: str, path: Path, actor: Any) -> service.ImportResult:
    return service.import_file(
        world.sessions, kind=kind, path=path, source=None, actor=actor, clock=world.clock
    )


# ---------------------------------------------------------------------------------------------------------
# The matrix
# ---------------------------------------------------------------------------------------------------------


def test_the_specification_covers_every_role_and_every_import_kind() -> None:
    from liangshi.access.rules import ROLES

    assert set(EXPECTED) == set(ROLES) == set(PERSONA_ROLES.values())
    assert set(KINDS) == set(formats.KINDS) == set(loaders.LOADERS) == set(service.KIND_PERMISSIONS)
    assert {k: list(v) for k, v in service.KIND_PERMISSIONS.items()} == NEEDS


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("persona", list(PERSONA_ROLES))
def test_import_permission(world: World, tmp_path: Path, persona: str, kind: str) -> None:
    path = _prepare(world, kind, tmp_path)
    with world.session() as s:
        actor = world.actor(s, persona)
    assert actor.role == PERSONA_ROLES[persona]
    before = counts(world)
    if EXPECTED[PERSONA_ROLES[persona]][kind]:
        result = _import(world, kind, path, actor)
        assert (result.rows, result.loaded, result.errors) == (1, 1, [])
        after = counts(world)
        assert after[TABLES[kind].__tablename__] == before[TABLES[kind].__tablename__] + 1
        assert after[ImportBatch.__tablename__] == before[ImportBatch.__tablename__] + 1
        if kind == "rentals":
            assert after[RentalTenant.__tablename__] == before[RentalTenant.__tablename__] + 1
        return
    with pytest.raises(Forbidden) as refused:
        _import(world, kind, path, actor)
    assert refused.value.code == "import.forbidden"
    assert refused.value.http_status == 403
    assert refused.value.data == {
        "action": f"import.{kind}",
        "kind": kind,
        "role": PERSONA_ROLES[persona],
        "missing": NEEDS[kind],
    }
    assert refused.value.message_zh.startswith("您的角色无权导入")
    assert refused.value.message_en.startswith("Your role may not import")
    assert counts(world) == before  # no batch, no audit entry, no row anywhere


def test_the_role_is_checked_before_the_file_is_read(world: World, tmp_path: Path) -> None:
    before = counts(world)
    with world.session() as s:
        auditor = world.actor(s, "auditor_sun")
    with pytest.raises(Forbidden) as refused:
        _import(world, "persons", tmp_path / "missing.csv", auditor)
    assert refused.value.code == "import.forbidden"
    assert counts(world) == before


# ---------------------------------------------------------------------------------------------------------
# Through the real command line: `liangshi import KIND FILE --as USER`
# ---------------------------------------------------------------------------------------------------------

CLI_SAMPLE = (
    # The two cases the issue found, and one refused cell of every other refusing role.
    ("auditor_sun", "persons"),
    ("inspector_zhao", "persons"),
    ("health_liaison_wang", "residences"),
    ("collector_zhang", "plates"),
    ("police_liu", "venues"),
    ("station_admin_li", "streets"),
    ("district_admin_chen", "areas"),
)


@pytest.mark.parametrize(("persona", "kind"), CLI_SAMPLE)
def test_a_refused_import_exits_2_with_its_code_and_writes_nothing(
    world: World, db_url: str, tmp_path: Path, persona: str, kind: str
) -> None:
    assert not EXPECTED[PERSONA_ROLES[persona]][kind]
    path = _prepare(world, kind, tmp_path)
    before = counts(world)
    result = CliRunner().invoke(
        app,
        ["import", kind, str(path), "--as", persona],
        env={"LIANGSHI_DATABASE_URL": db_url, "COLUMNS": "300"},
    )
    assert result.exit_code == 2, result.output
    assert "import.forbidden: 您的角色无权导入" in result.output
    assert NEEDS[kind][0] in result.output
    assert counts(world) == before


def test_an_allowed_import_through_the_command_line_loads_its_rows(
    world: World, db_url: str, tmp_path: Path
) -> None:
    path = _prepare(world, "persons", tmp_path)
    result = CliRunner().invoke(
        app,
        ["import", "persons", str(path), "--as", "collector_zhang"],
        env={"LIANGSHI_DATABASE_URL": db_url},
    )
    assert result.exit_code == 0, result.output
    assert "loaded 1" in result.output
    with world.session() as s:
        batch = s.execute(select(ImportBatch)).scalar_one()
        assert (batch.actor_name, batch.rows_loaded) == ("collector_zhang", 1)


def test_an_unknown_user_exits_2_and_writes_nothing(world: World, db_url: str, tmp_path: Path) -> None:
    path = file_of("persons", tmp_path)
    before = counts(world)
    result = CliRunner().invoke(
        app, ["import", "persons", str(path), "--as", "nobody"], env={"LIANGSHI_DATABASE_URL": db_url}
    )
    assert result.exit_code == 2
    assert "user.not_found" in result.output
    assert counts(world) == before
