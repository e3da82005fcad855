"""Bulk writes: allocate ids, then insert many rows at once (executemany on SQLite, COPY on PostgreSQL).

Ground floor: imports nothing of liangshi but the sealed columns (`liangshi.sealed`: clear values of encrypted
columns are encrypted here, and their keyed-hash index set, on the way to the table). What goes into version rows
is the registry's business (`liangshi.registry`); this module only moves rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sized
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from liangshi import sealed


def is_postgres(session: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


# SQLite settings for an import's connection. The indexes on names, phones and document numbers take rows in
# random order: with the default 2 MB page cache each insert would read and write index pages back and forth once
# the tables outgrow it, and with the default checkpoint every 1,000 WAL pages each chunk's commit would copy the
# same hot index pages into the database file again.
_SQLITE_LOAD = {"cache_size": -256 * 1024, "wal_autocheckpoint": 16384}
_SQLITE_DEFAULT = {"cache_size": -2000, "wal_autocheckpoint": 1000}


def tune_for_load(session: Session, *, loading: bool = True) -> None:
    """Connection settings for a bulk load, or (loading=False) back to SQLite's defaults. None on PostgreSQL."""
    if is_postgres(session):
        return
    for name, value in (_SQLITE_LOAD if loading else _SQLITE_DEFAULT).items():
        session.execute(text(f"PRAGMA {name}={value}"))


def allocate_ids(session: Session, model: type[Any], n: int) -> list[int]:
    """Reserve n primary keys for rows about to be inserted (the caller holds the write lock on SQLite)."""
    table: Table = model.__table__
    if n == 0:
        return []
    if is_postgres(session):
        seq = session.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar_one()
        return list(
            session.execute(
                text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq, "n": n}
            ).scalars()
        )
    top = session.execute(select(func.max(table.c.id))).scalar() or 0
    # Keep the ids above anything handed out before, even for rows since deleted in a rolled-back chunk.
    return list(range(int(top) + 1, int(top) + 1 + n))


def bulk_insert(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert rows: COPY on PostgreSQL, one executemany on SQLite. All rows must have the same keys."""
    table: Table = model.__table__
    if not rows:
        return
    if sealed.sealed_columns(table):
        # Copies: the caller's dicts keep their clear values.
        rows = [dict(row) for row in rows]
        sealed.seal_rows(sealed.session_keyring(session), table, rows)
    columns = list(rows[0])
    if not is_postgres(session):
        # The driver's executemany directly: SQLAlchemy's per-row parameter processing would cost more than the
        # insert itself. Values are stored as SQLAlchemy stores them on SQLite (UTC datetimes as naive text).
        raw_sqlite = session.connection().connection.driver_connection
        assert raw_sqlite is not None
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        raw_sqlite.executemany(
            f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', _sqlite_rows(columns, rows)
        )
        _note_loaded(session, table.name, len(rows))
        return
    raw = session.connection().connection.driver_connection
    assert raw is not None
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
    _note_loaded(session, table.name, len(rows))


def insert_tuples(
    session: Session, model: type[Any], columns: list[str], rows: Iterable[tuple[Any, ...]]
) -> None:
    """Insert ready rows (values already in the form the column stores: dates and times as text, see `stamp`).

    COPY on PostgreSQL, the driver's executemany on SQLite; no per-value conversion in Python. `rows` may be a
    generator: each row is then freed as soon as it is written.
    """
    if isinstance(rows, Sized) and not rows:
        return
    table: Table = model.__table__
    if sealed.sealed_columns(table):
        columns, rows = sealed.seal_tuples(sealed.session_keyring(session), table, columns, rows)
    names = ", ".join(f'"{c}"' for c in columns)
    raw = session.connection().connection.driver_connection
    assert raw is not None
    if not is_postgres(session):
        marks = ", ".join("?" for _ in columns)
        written = raw.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', rows).rowcount
        _note_loaded(session, table.name, written)
        return
    count = 0
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        write = copy.write_row
        for row in rows:
            write(row)
            count += 1
    _note_loaded(session, table.name, count)


# ---- statistics after bulk work: what a session's bulk writes loaded, and ANALYZE of it -------------------------

# session.info key: rows each table received through `bulk_insert` / `insert_tuples` in this session.
_LOADED = "liangshi.bulk.loaded"

# Fewer new rows than this in a table are left to autovacuum's own ANALYZE (it runs once about a tenth of a table
# has changed); an explicit ANALYZE reads a sample of up to 30,000 rows per table, which a handful of rows is not
# worth. The import of a new city, a department's batch of thousands, a synthetic or demo build are.
ANALYSE_MIN_ROWS = 1_000


def _note_loaded(session: Session, table: str, rows: int) -> None:
    loaded: dict[str, int] = session.info.setdefault(_LOADED, {})
    loaded[table] = loaded.get(table, 0) + max(rows, 0)


def take_loaded(session: Session) -> dict[str, int]:
    """The rows each table received through this module's bulk writers in this session since the last call (the
    count restarts)."""
    loaded: dict[str, int] = session.info.pop(_LOADED, {})
    return loaded


def analyse(session: Session, loaded: Mapping[str, int], *, min_rows: int = ANALYSE_MIN_ROWS) -> list[str]:
    """ANALYZE the tables a bulk job loaded (`loaded`: rows per table, as `take_loaded` gives them) that took at
    least `min_rows` rows, so that the planner sees the new rows at once rather than after autovacuum gets to
    them (a freshly loaded table's lookups otherwise scan through the wrong index). PostgreSQL only, in the
    caller's transaction (ANALYZE may run inside one; its statistics commit with the rows). On SQLite nothing:
    without statistics (sqlite_stat1) its planner chooses indexes by their shape, which is how the lookups were
    measured; an ANALYZE there would read every index in full and change plans everywhere. Returns the tables
    analysed, sorted."""
    tables = sorted(t for t, n in loaded.items() if n >= min_rows)
    if not tables or not is_postgres(session):
        return []
    session.execute(text("ANALYZE " + ", ".join(f'"{t}"' for t in tables)))
    return tables


def where_in(session: Session, select_sql: str, column: str, values: list[Any]) -> list[Any]:
    """Rows of `select_sql` whose `column` is one of `values`, passed as one parameter: an array on PostgreSQL,
    a JSON array on SQLite (either way the column's index is searched once per value)."""
    if not values:
        return []
    param: Any
    if is_postgres(session):
        query, param = f"{select_sql} WHERE {column} = ANY(:values)", values
    else:
        query, param = (
            f"{select_sql} WHERE {column} IN (SELECT value FROM json_each(:values))",
            json.dumps(values),
        )
    return list(session.execute(text(query), {"values": param}))


def stamp(session: Session, moment: dt.datetime) -> str:
    """A UTC timestamp as its column stores it: naive text on SQLite (as SQLAlchemy writes it), ISO with offset
    for PostgreSQL's COPY."""
    utc = moment.astimezone(dt.UTC)
    if is_postgres(session):
        return utc.isoformat()
    return utc.strftime("%Y-%m-%d %H:%M:%S.%f")


# Values the sqlite3 driver stores as they are (everything else goes through `_sqlite_value`).
_SQLITE_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})


def _sqlite_rows(columns: list[str], rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The rows as the driver's tuples, in storage form: only the columns holding a value that is not plain
    (dates, times) are converted, each distinct date or time once (a bulk write's rows share their record time).
    Converting every value by a call cost a bulk approval more than the insert itself."""
    if not columns:
        return [() for _ in rows]
    get = itemgetter(*columns)
    convert = [i for i, c in enumerate(columns) if not {type(row[c]) for row in rows} <= _SQLITE_PLAIN]
    if len(columns) == 1:
        return [(_sqlite_value(get(row)) if convert else get(row),) for row in rows]
    if not convert:
        return [get(row) for row in rows]
    done: dict[Any, Any] = {}
    out = []
    for row in rows:
        values = list(get(row))
        for i in convert:
            value = values[i]
            if isinstance(value, dt.date):
                if value not in done:
                    done[value] = _sqlite_value(value)
                values[i] = done[value]
            else:
                values[i] = _sqlite_value(value)
        out.append(tuple(values))
    return out


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
