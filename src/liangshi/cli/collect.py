"""`liangshi collect`: offline collection from the command line (an outbox exported from a phone, the work).

liangshi collect sync outbox.json --as collector_zhang [--json]
liangshi collect work --as collector_zhang > work.json
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from liangshi.campaign import sync
from liangshi.cli.common import context_as, database, err, fail, out
from liangshi.config import Settings
from liangshi.errors import LiangshiError
from liangshi.review import service as review

app = typer.Typer(help="Offline collection / 离线采集", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """Offline collection."""


@app.command("sync")
def sync_file(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help='An outbox: {"items": [...]} or [...]'
    ),
    as_user: str = typer.Option(..., "--as", help="The collector whose outbox it is"),
    as_json: bool = typer.Option(False, "--json", help="Print the per-item results as JSON"),
) -> None:
    """Sync an exported outbox as the collector (the same use case as POST /sync): each item on its own."""
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        err.print(f"[red]sync.file_invalid[/red]: 文件不是有效的 JSON / not valid JSON: {exc}")
        raise typer.Exit(2) from None
    items = body.get("items") if isinstance(body, dict) else body
    if not isinstance(items, list):
        err.print("[red]sync.file_invalid[/red]: 缺少 items 列表 / no list of items")
        raise typer.Exit(2)
    try:
        parts = []
        policy = review.policy_of(Settings())
        for offset, part in sync.chunks(items):
            with database() as (session, clock):
                ctx = context_as(session, clock, as_user, "offline sync")
                parts.append(sync.sync_outbox(session, ctx, part, offset=offset, policy=policy))
        result = sync.merged(parts)
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        print(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
    else:
        for r in result.items:
            reason = f" {r.code}: {r.message_zh} / {r.message_en}" if r.code else ""
            out.print(f"{r.index:>4} {r.uuid or '-'} {r.status}{reason}")
        c = result.counts
        out.print(
            f"已保存 stored {c['stored']} · 重复 replayed {c['replayed']} · "
            f"退回 refused {c['refused']} · 冲突 conflict {c['conflict']}"
        )
    if result.counts["refused"] or result.counts["conflict"]:
        raise typer.Exit(1)


@app.command("work")
def work(
    as_user: str = typer.Option(..., "--as", help="The collector"),
) -> None:
    """Print the collector's work (buildings, dwellings with versions, persons masked) as JSON."""
    try:
        with database() as (session, clock):
            result = sync.work_for(session, context_as(session, clock, as_user, "offline work"))
    except LiangshiError as exc:
        raise fail(exc) from None
    print(json.dumps(result, ensure_ascii=False, default=str))
