"""`liangshi audit`: sequence the log into its Merkle tree, print the signed head, verify, rotate the key, archive."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer

from liangshi.access.service import SYSTEM
from liangshi.audit import service
from liangshi.cli.common import database, err, fail, out
from liangshi.config import Settings
from liangshi.errors import LiangshiError, ValidationFailed

app = typer.Typer(help="Audit log / 审计日志", no_args_is_help=True)


def _published(path: Path) -> service.Head:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(
            "audit.bad_head",
            "不是审计日志的签名树头",
            "Not a signed tree head of the audit log",
            {"field": "head"},
        ) from exc
    return service.Head.from_json(data)


@app.command("verify")
def audit_verify(
    as_json: bool = typer.Option(False, "--json"),
    head: Path | None = typer.Option(
        None, "--head", help="A signed head published earlier (JSON) / 先前发布的树头"
    ),
) -> None:
    """Sequence, then recompute the tree and check every signed head (and --head); exit 1 on any problem."""
    settings = Settings()
    try:
        published = _published(head) if head else None
        ring = service.load_keys(settings, create=True)
        with database() as (session, clock):
            result = service.verify(session, keys=ring, head=published, now=clock.now())
    except LiangshiError as exc:
        raise fail(exc) from exc
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    elif result.ok:
        out.print(
            f"[green]审计日志完整 / audit log intact[/green]: {result.entries} entries, "
            f"{result.heads_checked} signed heads, root {result.root_hash}"
        )
        if result.consistency:
            c = result.consistency
            out.print(f"与发布的树头一致 / consistent with the published head: {c['from']} → {c['to']}")
    else:
        for p in result.problems:
            where = f"entry {p['seq']}" if p.get("seq") is not None else f"tree size {p.get('tree_size')}"
            err.print(f"[red]{where}: {p['problem']}[/red]")
        err.print(f"[red]审计日志被篡改 / audit log tampered[/red]: {len(result.problems)} problem(s)")
    if not result.ok:
        raise typer.Exit(1)


@app.command("sequence")
def audit_sequence() -> None:
    """Fold the committed entries into the Merkle tree now and sign the new head / 排序并签名."""
    try:
        ring = service.load_keys(Settings(), create=True)
        with database() as (session, clock):
            done = service.sequence(session, ring, now=clock.now())
    except LiangshiError as exc:
        raise fail(exc) from exc
    out.print(f"已排序 / sequenced: {done.added} entries; tree size {done.tree_size}")


@app.command("head")
def audit_head() -> None:
    """Print the latest signed tree head as JSON, to publish elsewhere / 输出最新签名树头."""
    try:
        ring = service.load_keys(Settings(), create=True)
        with database() as (session, clock):
            service.sequence(session, ring, now=clock.now())
            head = service.latest_head(session)
    except LiangshiError as exc:
        raise fail(exc) from exc
    if head is None:
        err.print("审计日志为空 / the audit log is empty: no head yet")
        raise typer.Exit(1)
    print(json.dumps(head.to_json(), ensure_ascii=False))


@app.command("public-keys")
def audit_public_keys() -> None:
    """Print every public key that may have signed a head (PEM, by key id) / 输出验签公钥."""
    ring = service.load_keys(Settings())
    for kid, key in sorted(ring.public.items()):
        current = " (current)" if kid == ring.signer_id else ""
        print(f"# key id {kid}{current}\n{service.public_pem(key)}", end="")


@app.command("rotate-key")
def audit_rotate_key() -> None:
    """Replace the signing key; the old public key is kept so older heads still verify / 更换签名密钥."""
    settings = Settings()
    try:
        with database() as (session, clock):
            # Fold what the old key should sign first, so the rotation starts a head of its own.
            service.sequence(session, service.load_keys(settings, create=True), now=clock.now())
            old, new = service.rotate_key(settings)
            service.record(
                session,
                SYSTEM,
                [service.Event("audit.key_rotate", detail={"old_key": old, "new_key": new})],
                purpose="key rotation",
                now=clock.now(),
            )
            service.sequence(session, service.load_keys(settings), now=clock.now())
    except LiangshiError as exc:
        raise fail(exc) from exc
    out.print(f"签名密钥已更换 / signing key rotated: {old} → {new}")


@app.command("archive")
def audit_archive(
    target: Path = typer.Argument(..., help="JSON Lines file to write / 归档文件"),
    before: dt.datetime = typer.Option(..., "--before", formats=["%Y-%m-%d"], help="Entries before this day"),
) -> None:
    """Export the entries older than the retention period, each with its inclusion proof; nothing is deleted."""
    settings = Settings()
    try:
        ring = service.load_keys(settings, create=True)
        with database() as (session, clock):
            service.sequence(session, ring, now=clock.now())
            with target.open("w", encoding="utf-8") as sink:
                written = service.archive(
                    session,
                    SYSTEM,
                    sink,
                    before=before.date(),
                    today=clock.today(),
                    now=clock.now(),
                    retention_days=settings.audit_retention_days,
                )
            service.sequence(session, ring, now=clock.now())
    except LiangshiError as exc:
        raise fail(exc) from exc
    out.print(f"已归档 / archived: {written} entries → {target} (the log keeps them / 日志中保留)")
