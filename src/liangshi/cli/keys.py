"""`liangshi keys`: the field encryption keyring (docs/encryption.md): generate, rotate (and re-encrypt the rows),
reencrypt (resume), retire, check (the keyring and every sealed value of the database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import inspect, make_url
from sqlalchemy.engine import Engine

from liangshi import sealed
from liangshi.cli.common import fail
from liangshi.common.fieldcrypt import Keyring
from liangshi.config import Settings
from liangshi.db import make_engine
from liangshi.errors import Conflict, LiangshiError, ValidationFailed
from liangshi.models import Base

app = typer.Typer(help="Field encryption keys / 字段加密密钥", no_args_is_help=True)

FILE_HELP = "The keyring file (default: LIANGSHI_FIELD_KEY_FILE, else <data_dir>/field-keys/keyring.json) / 密钥环文件"


def _file(file: Path | None) -> Path:
    settings = Settings()
    chosen = file or (Path(f) if (f := settings.field_key_file) else None)
    if chosen is None and not settings.field_keys:
        chosen = sealed.default_key_file(settings)
    if chosen is None:
        raise ValidationFailed(
            "keys.no_file",
            "请用 --file 或 LIANGSHI_FIELD_KEY_FILE 指定密钥环文件",
            "Name the keyring file with --file or LIANGSHI_FIELD_KEY_FILE",
            {"field": "file"},
        )
    return chosen


def _summary(ring: Keyring, path: Path | None, rows: dict[str, Any] | None = None) -> str:
    shown: dict[str, Any] = {
        "file": str(path) if path else None,
        "primary": ring.primary,
        "data_keys": sorted(ring.data_keys),
    }
    if rows is not None:
        shown["rows"] = rows
    return json.dumps(shown, ensure_ascii=False)


@app.command("generate")
def keys_generate(file: Path | None = typer.Option(None, "--file", help=FILE_HELP)) -> None:
    """Write a new keyring (one data key, one index key) to a file that does not exist yet, mode 0600."""
    try:
        path = _file(file)
        if path.exists():
            raise ValidationFailed(
                "keys.file_exists",
                "密钥环文件已存在，不会覆盖",
                "The keyring file exists already and is not overwritten",
                {"field": "file"},
            )
        ring = Keyring.generate()
        ring.save(path)
    except LiangshiError as exc:
        raise fail(exc) from exc
    print(_summary(ring, path))


def _database() -> Engine | None:
    # The configured database when it has a schema: a SQLite file that does not exist is not created.
    url = make_url(Settings().database_url)
    if url.get_backend_name() == "sqlite" and (not url.database or not Path(url.database).exists()):
        return None
    engine = make_engine(url.render_as_string(hide_password=False))
    if not inspect(engine).has_table("alembic_version"):
        engine.dispose()
        return None
    return engine


def _reencrypt(ring: Keyring) -> dict[str, int] | None:
    # The configured database's sealed values under the primary key; None when it has no schema (yet).
    engine = _database()
    if engine is None:
        return None
    try:
        sealed.use_keyring(engine.dialect, ring)
        return sealed.reencrypt(engine, Base.metadata, ring)
    finally:
        engine.dispose()


@app.command("rotate")
def keys_rotate(
    file: Path | None = typer.Option(None, "--file", help=FILE_HELP),
    rows: bool = typer.Option(
        True, "--rows/--no-rows", help="Re-encrypt the database's values under the new key / 重新加密数据"
    ),
) -> None:
    """Add a new primary data key to the keyring file (the old keys stay to decrypt, the index key stays), then
    re-encrypt every sealed value of the database under it in committed batches (`keys reencrypt` resumes)."""
    try:
        path = _file(file)
        ring = Keyring.load(None, str(path)).rotated()
        ring.save(path)
        done = _reencrypt(ring) if rows else None
    except LiangshiError as exc:
        raise fail(exc) from exc
    print(_summary(ring, path, done))


@app.command("reencrypt")
def keys_reencrypt() -> None:
    """Re-encrypt under the primary key every sealed value still under an older one (resumes a rotation that
    stopped half-way; a value already under the primary key is left alone)."""
    settings = Settings()
    try:
        ring = sealed.load_configured(settings)
        done = _reencrypt(ring)
    except LiangshiError as exc:
        raise fail(exc) from exc
    print(_summary(ring, None, done))


@app.command("retire")
def keys_retire(
    kid: str = typer.Argument(..., help="The data key id to remove / 要删除的密钥编号"),
    file: Path | None = typer.Option(None, "--file", help=FILE_HELP),
) -> None:
    """Remove a data key that is no longer primary from the keyring file."""
    try:
        path = _file(file)
        ring = Keyring.load(None, str(path))
        if kid not in ring.data_keys:
            raise ValidationFailed(
                "keys.unknown_kid",
                "密钥环中没有该密钥编号",
                "The keyring holds no key with this id",
                {"field": "kid", "kid": kid},
            )
        ring = ring.retired(kid)
        ring.save(path)
    except LiangshiError as exc:
        raise fail(exc) from exc
    print(_summary(ring, path))


def _check_rows(ring: Keyring) -> dict[str, Any] | None:
    engine = _database()
    if engine is None:
        return None
    try:
        found = sealed.check(engine, Base.metadata, ring)
    finally:
        engine.dispose()
    bad = {name: c for name, c in found.items() if not c.ok}
    if bad:
        raise Conflict(
            "keys.rows_bad",
            "有加密字段的值无法用密钥环解密、仍为明文或索引不符",
            "Some sealed values do not decrypt under the keyring, are still in clear or have a wrong index",
            {
                name: {
                    "clear": c.clear,
                    "undecryptable": c.undecryptable,
                    "wrong_index": c.wrong_index,
                    "rows": c.bad_rows,
                }
                for name, c in bad.items()
            },
        )
    return {name: c.by_key for name, c in found.items()}


@app.command("check")
def keys_check(
    rows: bool = typer.Option(
        True, "--rows/--no-rows", help="Also read every sealed value of the database / 同时检查数据库中的密文"
    ),
) -> None:
    """Load the configured keyring (environment, else file, else the default file) and prove a round trip; then
    read every sealed value of the database: each must decrypt, with the right index. Prints ids and counts per
    key (an old key with no value left can be retired), never keys; exits 2 on any fault."""
    settings = Settings()
    try:
        ring = sealed.load_configured(settings)
        probe = "keys.check"
        ring.decrypt(probe, ring.encrypt(probe, probe))
        found = _check_rows(ring) if rows else None
    except LiangshiError as exc:
        raise fail(exc) from exc
    print(
        _summary(
            ring,
            Path(settings.field_key_file) if not settings.field_keys and settings.field_key_file else None,
            found,
        )
    )
