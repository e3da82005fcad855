"""`liangshi keys`: the field encryption keyring (docs/encryption.md): generate, rotate, retire, check."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from liangshi.cli.common import fail
from liangshi.common.fieldcrypt import Keyring
from liangshi.config import Settings
from liangshi.errors import LiangshiError, ValidationFailed

app = typer.Typer(help="Field encryption keys / 字段加密密钥", no_args_is_help=True)

FILE_HELP = "The keyring file (default: LIANGSHI_FIELD_KEY_FILE) / 密钥环文件"


def _file(file: Path | None) -> Path:
    chosen = file or (Path(f) if (f := Settings().field_key_file) else None)
    if chosen is None:
        raise ValidationFailed(
            "keys.no_file",
            "请用 --file 或 LIANGSHI_FIELD_KEY_FILE 指定密钥环文件",
            "Name the keyring file with --file or LIANGSHI_FIELD_KEY_FILE",
            {"field": "file"},
        )
    return chosen


def _summary(ring: Keyring, path: Path | None) -> str:
    return json.dumps(
        {"file": str(path) if path else None, "primary": ring.primary, "data_keys": sorted(ring.data_keys)},
        ensure_ascii=False,
    )


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


@app.command("rotate")
def keys_rotate(file: Path | None = typer.Option(None, "--file", help=FILE_HELP)) -> None:
    """Add a new primary data key to the keyring file; the old keys stay to decrypt, the index key stays."""
    try:
        path = _file(file)
        ring = Keyring.load(None, str(path)).rotated()
        ring.save(path)
    except LiangshiError as exc:
        raise fail(exc) from exc
    print(_summary(ring, path))


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


@app.command("check")
def keys_check() -> None:
    """Load the configured keyring (environment, else file) and prove a round trip; prints ids, never keys."""
    settings = Settings()
    try:
        ring = Keyring.load(settings.field_keys, settings.field_key_file)
        probe = "keys.check"
        ring.decrypt(probe, ring.encrypt(probe, probe))
    except LiangshiError as exc:
        raise fail(exc) from exc
    print(
        _summary(
            ring,
            Path(settings.field_key_file) if not settings.field_keys and settings.field_key_file else None,
        )
    )
