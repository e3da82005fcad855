"""Back up and restore the whole database: SQLite's online backup API, PostgreSQL's pg_dump / pg_restore.

SQLite copies page by page while the server keeps running (readers and writers are not stopped; the copy is one
consistent snapshot). PostgreSQL uses pg_dump's custom format (compressed, restorable selectively) and
pg_restore --clean. The entry point verifies the audit log after a restore (GB/T 22239-2019 8.1.4.9: backup and
recovery, with the restored data checked).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from liangshi.errors import LiangshiError, ValidationFailed

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


def _unsupported() -> ValidationFailed:
    return ValidationFailed(
        "db.unsupported", "只支持 SQLite 和 PostgreSQL 数据库", "Only SQLite and PostgreSQL are supported"
    )


def _not_a_backup() -> ValidationFailed:
    return ValidationFailed(
        "db.not_a_backup",
        "不是本数据库类型的备份文件",
        "Not a backup file of this kind of database",
        {"field": "file"},
    )


def _kind(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise _unsupported()
    return name


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise _unsupported()
    return Path(database)


def _libpq(url: str) -> str:
    # pg_dump takes a libpq URI: no SQLAlchemy driver suffix.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise LiangshiError(
            "db.tool_missing",
            "找不到 PostgreSQL 客户端工具（pg_dump / pg_restore）",
            "The PostgreSQL client tools (pg_dump / pg_restore) are not installed",
            {"tool": name},
            http_status=500,
        )
    return found


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise LiangshiError(
            "db.tool_failed",
            "备份或恢复工具执行失败",
            "The backup or restore tool failed",
            {"tool": Path(args[0]).name, "stderr": done.stderr.strip()[-2000:]},
            http_status=500,
        )


def backup(url: str, target: Path) -> int:
    """Write a backup of the database at `url` to `target` (written aside, then moved in place); its size."""
    kind = _kind(url)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if kind == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(partial)
        try:
            with copy:
                source.backup(copy, pages=1024)
        finally:
            copy.close()
            source.close()
    else:
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                f"--file={partial}",
                f"--dbname={_libpq(url)}",
            ]
        )
    os.replace(partial, target)
    return target.stat().st_size


def _check_file(kind: str, source: Path) -> None:
    try:
        with source.open("rb") as f:
            magic = f.read(16)
    except OSError as exc:
        raise _not_a_backup() from exc
    if not magic.startswith(SQLITE_MAGIC if kind == "sqlite" else PGDUMP_MAGIC):
        raise _not_a_backup()


def restore(url: str, source: Path) -> None:
    """Replace the database at `url` with the backup in `source` (stop the server first on PostgreSQL)."""
    kind = _kind(url)
    _check_file(kind, source)
    if kind == "sqlite":
        backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        live = sqlite3.connect(_sqlite_path(url))
        try:
            ok = backup_db.execute("PRAGMA quick_check").fetchone()
            if not ok or ok[0] != "ok":
                raise _not_a_backup()
            with live:
                backup_db.backup(live)
        finally:
            live.close()
            backup_db.close()
    else:
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={_libpq(url)}",
                str(source),
            ]
        )
