"""Sealed columns: values encrypted at rest (AES-256-GCM) with a keyed-hash index beside them (docs/encryption.md).

A column typed :class:`Sealed` holds ``v1:<kid>:<base64>`` ciphertexts; SQLAlchemy encrypts on the way in and
decrypts on the way out, so ORM objects and Core selects see the clear value. A sealed column cannot be compared
in SQL (equal values give different ciphertexts): equality goes through its index column (``<name>_idx``,
``HMAC-SHA256``), which every write fills from the clear value. The three write paths fill it:

- ORM inserts: the ``before_insert`` mapper event below;
- the bulk writers (`liangshi.bulk.bulk_insert`, `insert_tuples`, the COPY loaders): :func:`seal_rows` and
  :func:`seal_tuples`, which encrypt the clear values and always recompute the index (a row copied from an
  earlier version with a changed value never keeps a stale index);
- the migration that encrypts an existing database, and `liangshi keys rotate`, which rewrite rows in batches.

The keyring is the engine's (:func:`use_keyring`), else the configured one: ``LIANGSHI_FIELD_KEYS``, else the file
``LIANGSHI_FIELD_KEY_FILE``, else ``<data_dir>/field-keys/keyring.json``, generated there on first use (mode 0600)
so that tests and the demo need no manual step. A ciphertext under a key the cached keyring does not hold (the
keyring was rotated since) reloads the keyring once before it is refused.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, String, Table, Text, TypeDecorator, event, text
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.sql import operators

from liangshi.common.fieldcrypt import VERSION, FieldKeyError, Keyring
from liangshi.config import Settings

__all__ = [
    "ColumnCheck",
    "Sealed",
    "SealedColumn",
    "SealedText",
    "check",
    "columns_of",
    "default_key_file",
    "index_of",
    "index_rows",
    "key_for",
    "keyring",
    "keys_for",
    "load_configured",
    "opener",
    "reencrypt",
    "reveal",
    "seal_rows",
    "seal_tuples",
    "sealed_columns",
    "session_keyring",
    "tail_field",
    "tail_keys",
    "tail_of",
    "use_keyring",
    "watch",
]

_ATTR = "liangshi_field_keyring"
_lock = threading.Lock()

#: Comparisons that would compare ciphertexts (never equal for equal values): refused at statement build time.
_REFUSED = {
    operators.eq,
    operators.ne,
    operators.in_op,
    operators.not_in_op,
    operators.like_op,
    operators.ilike_op,
    operators.startswith_op,
    operators.endswith_op,
    operators.contains_op,
    operators.lt,
    operators.le,
    operators.gt,
    operators.ge,
}


def default_key_file(settings: Settings) -> Path:
    """Where the keyring lives when neither LIANGSHI_FIELD_KEYS nor LIANGSHI_FIELD_KEY_FILE is set."""
    return Path(settings.data_dir) / "field-keys" / "keyring.json"


def _create_once(path: Path) -> None:
    # Atomic and race-free between processes: written to a private temporary file, then linked into place (which
    # fails when another process got there first; its keyring is then the one used).
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
    Keyring.generate().save(temp)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink(missing_ok=True)


def load_configured(settings: Settings | None = None) -> Keyring:
    """The configured keyring: the environment's JSON text, else the key file, else the default file (made on
    first use)."""
    settings = settings or Settings()
    if settings.field_keys or settings.field_key_file:
        return Keyring.load(settings.field_keys, settings.field_key_file)
    path = default_key_file(settings)
    if not path.exists():
        _create_once(path)
    return Keyring.load(None, str(path))


def use_keyring(dialect: Dialect, ring: Keyring | None) -> None:
    """Give an engine (by its dialect) this keyring; None: the configured one, loaded at first use."""
    setattr(dialect, _ATTR, ring)


def keyring(dialect: Dialect, *, reload: bool = False) -> Keyring:
    """The keyring of the engine whose dialect this is."""
    ring: Keyring | None = getattr(dialect, _ATTR, None)
    if ring is None or reload:
        with _lock:
            ring = getattr(dialect, _ATTR, None)
            if ring is None or reload:
                ring = load_configured()
                setattr(dialect, _ATTR, ring)
    return ring


def session_keyring(session: Session) -> Keyring:
    """The keyring of the session's engine."""
    return keyring(session.get_bind().dialect)


def _decrypt(dialect: Dialect, column: str, token: str) -> str:
    try:
        return keyring(dialect).decrypt(column, token)
    except FieldKeyError as exc:
        if exc.code != "crypto.unknown_key":
            raise
        # Rotated since the keyring was loaded (`liangshi keys rotate` in another process): reload once.
        return keyring(dialect, reload=True).decrypt(column, token)


class Sealed(TypeDecorator[str]):
    """A text column stored encrypted: `field` names it in the ciphertext's associated data and in its index;
    `index` is the name of its keyed-hash index column (None: not searchable)."""

    impl = String
    cache_ok = True

    def __init__(
        self,
        field: str,
        length: int | None = 120,
        index: str | None = None,
        *,
        index_field: str | None = None,
        tails: tuple[tuple[str, int, int | None], ...] = (),
    ) -> None:
        super().__init__(length)
        self.field = field
        self.index = index
        # The field name the index entries are computed under: the column's own, or another column's whose values
        # are the same kind, so that SQL can join the two indexes (a department file's normalised ID numbers
        # and the register's document numbers, both under `document.number`).
        self.index_field = index_field or field
        # Keyed-hash indexes of the value's last characters: (column, how many, only for values of this length
        # or None), each under the field name `<field>.tail<n>` (`tail_field`).
        self.tails = tails

    def index_columns(self) -> list[str]:
        """The index column and the tail index columns, in that order."""
        return ([self.index] if self.index else []) + [column for column, _n, _length in self.tails]

    def entries(self, ring: Keyring, clear: str | None) -> list[str | None]:
        """The index entries of a clear value, in `index_columns` order."""
        out: list[str | None] = [index_of(ring, self, clear)] if self.index else []
        for _column, n, length in self.tails:
            fits = clear is not None and len(clear) >= n and (length is None or len(clear) == length)
            out.append(ring.index(tail_field(self, n), clear[-n:]) if fits and clear is not None else None)
        return out

    class comparator_factory(String.Comparator[str]):
        """Comparing ciphertexts is always a bug: compare the index column instead."""

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in _REFUSED:
                raise TypeError("a sealed column is compared through its index column (liangshi.sealed)")
            return super().operate(op, *other, **kwargs)

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring(dialect).encrypt(self.field, value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return _decrypt(dialect, self.field, value)


class SealedText(Sealed):
    """A sealed text column of any length (a JSON document: a change set's items and payload), not indexed."""

    impl = Text
    cache_ok = True

    def __init__(self, field: str) -> None:
        super().__init__(field, None)


def index_of(ring: Keyring, sealed: Sealed, value: str | None) -> str | None:
    """The index entry of a clear value (None for None)."""
    return None if value is None else ring.index(sealed.index_field, value)


def tail_field(sealed: Sealed, n: int) -> str:
    """The field name under which the index of a value's last `n` characters is computed."""
    return f"{sealed.field}.tail{n}"


def tail_of(ring: Keyring, sealed: Sealed, tail: str) -> str:
    """The tail index entry that values ending in `tail` have (a search by the last characters)."""
    return ring.index(tail_field(sealed, len(tail)), tail)


def reveal(session: Session, column: Any, token: str | None) -> str | None:
    """The clear value of a ciphertext read by textual SQL (`text()` selects return the stored token): `column`
    is the sealed column it was read from (a model attribute or a table column)."""
    if token is None:
        return None
    sealed = column.type
    if not isinstance(sealed, Sealed):
        raise TypeError(f"{column} is not a sealed column")
    return _decrypt(session.get_bind().dialect, sealed.field, token)


def keys_for(session: Session, column: Any, values: Iterable[str]) -> dict[str, str]:
    """The index entries of clear values of a sealed column (a model attribute or a table column), by entry: an
    equality look-up or join compares the index column with these (`WHERE number_idx IN keys`)."""
    sealed = column.type
    if not isinstance(sealed, Sealed) or not sealed.index:
        raise TypeError(f"{column} is not an indexed sealed column")
    ring = session_keyring(session)
    return {ring.index(sealed.index_field, value): value for value in values}


def key_for(session: Session, column: Any, value: str) -> str:
    """The index entry of one clear value of a sealed column (see `keys_for`)."""
    (key,) = keys_for(session, column, [value])
    return key


def tail_keys(session: Session, column: Any, tails: Iterable[str]) -> list[str]:
    """The tail index entries of values ending so (each tail as long as one of the column's tail indexes)."""
    sealed = column.type
    if not isinstance(sealed, Sealed):
        raise TypeError(f"{column} is not a sealed column")
    ring = session_keyring(session)
    return sorted({tail_of(ring, sealed, tail) for tail in tails})


def opener(session: Session, column: Any) -> Callable[[str | None], str | None]:
    """`reveal` for many values of one sealed column (rows of textual SQL): the column's type and the engine's
    keyring looked up once, not per value."""
    sealed = column.type
    if not isinstance(sealed, Sealed):
        raise TypeError(f"{column} is not a sealed column")
    dialect, field = session.get_bind().dialect, sealed.field

    def open_(token: str | None) -> str | None:
        return None if token is None else _decrypt(dialect, field, token)

    return open_


def index_rows(ring: Keyring, table: Table, rows: list[dict[str, Any]]) -> None:
    """Set, in place, the index columns of column dicts whose sealed values are still clear (for an ORM bulk
    `insert(Model)`, which encrypts through the column type but fires no mapper event to fill the index)."""
    for name, sealed in sealed_columns(table):
        columns = sealed.index_columns()
        if columns:
            for row in rows:
                if name in row:
                    row.update(zip(columns, sealed.entries(ring, row[name]), strict=True))


def sealed_columns(table: Table) -> list[tuple[str, Sealed]]:
    """The sealed columns of a table, by name."""
    return [(c.name, c.type) for c in table.columns if isinstance(c.type, Sealed)]


def seal_rows(ring: Keyring, table: Table, rows: list[dict[str, Any]]) -> None:
    """Encrypt, in place, the clear values of the table's sealed columns in column dicts, and set their index."""
    present = [(name, sealed) for name, sealed in sealed_columns(table) if rows and name in rows[0]]
    for name, sealed in present:
        columns = sealed.index_columns()
        for row in rows:
            clear = row[name]
            if columns:
                row.update(zip(columns, sealed.entries(ring, clear), strict=True))
            row[name] = None if clear is None else ring.encrypt(sealed.field, clear)


def seal_tuples(
    ring: Keyring, table: Table, columns: list[str], rows: Iterable[tuple[Any, ...]]
) -> tuple[list[str], Iterable[tuple[Any, ...]]]:
    """`seal_rows` for ready tuples: the columns (index columns added or replaced) and the rows, sealed lazily."""
    steps: list[tuple[int, list[int], Sealed]] = []
    out = list(columns)
    for name, sealed in sealed_columns(table):
        if name not in columns:
            continue
        at = columns.index(name)
        where: list[int] = []
        for index_column in sealed.index_columns():
            if index_column not in out:
                out.append(index_column)
            where.append(out.index(index_column))
        steps.append((at, where, sealed))
    if not steps:
        return columns, rows
    width = len(out)

    def sealed_rows() -> Iterator[tuple[Any, ...]]:
        encrypt = ring.encrypt
        for row in rows:
            values = list(row)
            values.extend([None] * (width - len(values)))
            for at, where, sealed in steps:
                clear = values[at]
                if where:
                    for position, entry in zip(where, sealed.entries(ring, clear), strict=True):
                        values[position] = entry
                if clear is not None:
                    values[at] = encrypt(sealed.field, clear)
            yield tuple(values)

    return out, sealed_rows()


def _index_on_insert(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    ring: Keyring | None = None
    for column in mapper.local_table.columns:
        sealed = column.type
        if isinstance(sealed, Sealed) and sealed.index_columns():
            ring = ring or keyring(connection.dialect)
            attr = mapper.get_property_by_column(column).key
            for index_column, entry in zip(
                sealed.index_columns(), sealed.entries(ring, getattr(target, attr)), strict=True
            ):
                setattr(target, index_column, entry)


def watch(cls: type[Any]) -> type[Any]:
    """Class decorator for a model with sealed, indexed columns: ORM inserts fill the index columns."""
    listener: Callable[..., None] = _index_on_insert
    event.listen(cls, "before_insert", listener)
    event.listen(cls, "before_update", listener)
    return cls


# ---- whole-table passes: re-encryption after a rotation, and the check ------------------------------------------

BATCH = 5_000


@dataclass(frozen=True)
class SealedColumn:
    """One sealed column of a table, with the table's (single-column) primary key."""

    table: str
    pk: str
    column: str
    sealed: Sealed


def columns_of(metadata: MetaData) -> list[SealedColumn]:
    """Every sealed column of the schema, in table order."""
    found = []
    for table in metadata.sorted_tables:
        for name, sealed in sealed_columns(table):
            (pk,) = (c.name for c in table.primary_key.columns)
            found.append(SealedColumn(table.name, pk, name, sealed))
    return found


def _batches(
    engine: Engine, col: SealedColumn, extra: str, params: dict[str, Any]
) -> Iterator[tuple[Connection, list[Any]]]:
    # Keyset batches in primary-key order, each in its own transaction (an interrupted pass keeps what it did).
    cols = ", ".join([col.pk, col.column, *col.sealed.index_columns()])
    last: Any = None
    while True:
        after = "" if last is None else f" AND {col.pk} > :last"
        with engine.begin() as conn:
            rows = conn.execute(
                text(
                    f"SELECT {cols} FROM {col.table} WHERE {col.column} IS NOT NULL{extra}{after} "
                    f"ORDER BY {col.pk} LIMIT :n"
                ),
                {**params, "n": BATCH, "last": last},
            ).all()
            if not rows:
                return
            yield conn, list(rows)
        last = rows[-1][0]


def reencrypt(engine: Engine, metadata: MetaData, ring: Keyring) -> dict[str, int]:
    """Rewrite every sealed value not under the primary key under it, batch by batch (committed per batch, so a
    run stopped half-way is resumed by running it again); the index stays (it does not depend on the data key).
    Returns the values rewritten per `table.column`."""
    prefix = f"{VERSION}:{ring.primary}:"
    done: dict[str, int] = {}
    for col in columns_of(metadata):
        n = 0
        update = text(
            f"UPDATE {col.table} SET {col.column} = :value WHERE {col.pk} = :pk AND {col.column} = :old"
        )
        extra = f" AND substr({col.column}, 1, {len(prefix)}) <> :prefix"
        for conn, rows in _batches(engine, col, extra, {"prefix": prefix}):
            conn.execute(
                update,
                [{"pk": r[0], "old": r[1], "value": ring.reencrypt(col.sealed.field, r[1])} for r in rows],
            )
            n += len(rows)
        done[f"{col.table}.{col.column}"] = n
    return done


@dataclass
class ColumnCheck:
    """What `check` found in one column: values per data key, and the rows that failed (first few ids)."""

    by_key: dict[str, int]
    clear: int
    undecryptable: int
    wrong_index: int
    bad_rows: list[Any]

    @property
    def ok(self) -> bool:
        """Every value a ciphertext that opens, with the right index."""
        return not (self.clear or self.undecryptable or self.wrong_index)


def check(engine: Engine, metadata: MetaData, ring: Keyring) -> dict[str, ColumnCheck]:
    """Read every sealed value: each must be a ciphertext that decrypts under the keyring with its index equal to
    the index of the clear value. Counts per data key tell whether an old key can be retired."""
    found: dict[str, ColumnCheck] = {}
    for col in columns_of(metadata):
        result = ColumnCheck({}, 0, 0, 0, [])
        for _conn, rows in _batches(engine, col, "", {}):
            for row in rows:
                token = row[1]
                try:
                    clear = ring.decrypt(col.sealed.field, token)
                except FieldKeyError as exc:
                    if exc.code == "crypto.bad_token":
                        result.clear += 1
                    else:
                        result.undecryptable += 1
                    if len(result.bad_rows) < 10:
                        result.bad_rows.append(row[0])
                    continue
                kid = ring.key_id(token)
                result.by_key[kid] = result.by_key.get(kid, 0) + 1
                if col.sealed.index_columns() and list(row[2:]) != col.sealed.entries(ring, clear):
                    result.wrong_index += 1
                    if len(result.bad_rows) < 10:
                        result.bad_rows.append(row[0])
        found[f"{col.table}.{col.column}"] = result
    return found
