"""The guests' document numbers of venue stays and the landlords' ID numbers of the housing files held for the
checks are stored encrypted (issue 18): ciphertext in the table, the keyed-hash index beside it, the clear value
through the model; the migration seals existing rows and its downgrade opens them."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from liangshi import migrate, sealed
from liangshi.checks import service as checks
from liangshi.checks.models import SourceRecord
from liangshi.venues.models import Stay
from tests import factories
from tests.conftest import INSIDE, World
from tests.persons.test_sealed_phones import _copy_sqlite
from tests.venues.helpers import check_in, person, venue
from tests.venues.test_api import _key, _vk

SEALING = importlib.import_module("liangshi.migrations.versions.0054_seal18_sealed_id_numbers")


def _raw(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _populate(world: World, client: TestClient, login: Any, tmp_path: Path) -> tuple[str, str]:
    """A check-in through the API and a housing file held for the checks; returns (guest's, landlord's) number."""
    _, guest = person(world)
    vid = venue(world)
    r = client.post(f"/venues/{vid}/stays", json=check_in("S1", guest), headers=_vk(_key(client, login, vid)))
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    landlord = factories.make_id(seq=611)
    path = tmp_path / "housing_rentals.csv"
    path.write_text(
        "出租人证件号码,社区代码,门牌号,楼栋,房号,租赁起始日期,签订治安责任书\n"
        f"{landlord},{INSIDE},12,3,501,2026-01-01,否\n",
        encoding="utf-8",
    )
    with world.session() as s:
        loaded = checks.load_source(s, world.ctx(s), source="housing_rentals", kind="rentals", path=path)
    assert loaded.kept == 1, loaded.problems
    return guest, landlord


def test_the_numbers_are_stored_as_ciphertext_with_their_index(
    world: World, engine: Engine, client: TestClient, login: Any, tmp_path: Path
) -> None:
    guest, landlord = _populate(world, client, login, tmp_path)
    ring = sealed.keyring(engine.dialect)
    [(token, idx)] = _raw(engine, "SELECT doc_number, doc_number_idx FROM stays")
    assert token.startswith("v1:") and guest not in token
    assert idx == ring.index("stay.doc_number", guest)
    [(token, idx)] = _raw(
        engine, "SELECT landlord_id_number, landlord_id_number_idx FROM check_source_records"
    )
    assert token.startswith("v1:") and landlord not in token
    assert idx == ring.index("check_source.landlord_id_number", landlord)
    with world.session() as s:
        assert s.execute(select(Stay.doc_number)).scalar_one() == guest
        assert s.execute(select(SourceRecord.landlord_id_number)).scalar_one() == landlord
    with pytest.raises(TypeError):
        select(Stay.id).where(Stay.doc_number == guest)  # compared through the index only


def test_the_migration_seals_existing_rows_and_the_downgrade_opens_them(
    world: World, engine: Engine, client: TestClient, login: Any, tmp_path: Path
) -> None:
    guest, landlord = _populate(world, client, login, tmp_path)
    if engine.dialect.name != "sqlite":
        pytest.skip("the migration runs on a copy of the session's database (SQLite's backup API)")
    copy = _copy_sqlite(engine, tmp_path / "copy.db")
    sealed.use_keyring(copy.dialect, sealed.keyring(engine.dialect))
    try:
        migrate.downgrade(copy, SEALING.down_revision)
        assert _raw(copy, "SELECT doc_number FROM stays") == [(guest,)]
        assert _raw(copy, "SELECT landlord_id_number FROM check_source_records") == [(landlord,)]
        migrate.upgrade(copy)
        [(token, idx)] = _raw(copy, "SELECT doc_number, doc_number_idx FROM stays")
        assert token.startswith("v1:") and idx == sealed.keyring(copy.dialect).index("stay.doc_number", guest)
        [(token,)] = _raw(copy, "SELECT landlord_id_number FROM check_source_records")
        assert token.startswith("v1:")
    finally:
        copy.dispose()
