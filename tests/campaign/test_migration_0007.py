"""Migration 0007 fills the pinyin search keys of the names already recorded."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import inspect

from liangshi import migrate
from liangshi.db import make_engine


def _placeholder(column: dict[str, Any]) -> Any:
    kind = str(column["type"]).upper()
    if "INT" in kind:
        return 1
    if "DATETIME" in kind or "TIMESTAMP" in kind:
        return "2026-01-01 00:00:00.000000"
    if "DATE" in kind:
        return "2026-01-01"
    return "1"


def test_upgrade_backfills_name_keys(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine, "0005")
    columns = [c for c in inspect(engine).get_columns("person_versions") if not c["nullable"]]
    engine.dispose()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA foreign_keys=OFF")
    for row_id, name in ((1, "曾小明"), (2, "欧阳娜娜")):
        values = {c["name"]: _placeholder(c) for c in columns}
        values.update(row_id=row_id, entity_id=row_id, name=name, valid_from=dt.date(2020, 1, 1).isoformat())
        names = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        raw.execute(f"INSERT INTO person_versions ({names}) VALUES ({marks})", list(values.values()))
    raw.commit()
    raw.close()
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, name_pinyin, name_initials FROM person_versions ORDER BY row_id"
        ).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("曾小明", "zengxiaoming", "zxm"), ("欧阳娜娜", "ouyangnana", "oynn")]
