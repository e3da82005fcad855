"""`liangshi collect`: offline collection from the command line (an outbox exported from a phone, the work).

liangshi collect sync outbox.json --as collector_zhang [--json]
liangshi collect work --as collector_zhang > work.json
liangshi collect propose extension 42 --file body.json --as collector_zhang [--change-set 7] [--json]
liangshi collect propose member-end 57 --file body.json --as collector_zhang
liangshi collect propose household --file body.json --as collector_zhang
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel, ValidationError

from liangshi.campaign import proposals, service, sync
from liangshi.cli.common import context_as, database, err, fail, out
from liangshi.common.types import validation_context
from liangshi.config import Settings
from liangshi.errors import LiangshiError
from liangshi.persons.schemas import DocumentAdd, HouseholdCreate, MemberAdd, MemberEnd
from liangshi.residence.schemas import BirthIn, DepartureIn, ExtendIn, MoveIn
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


# What a collector proposes from the command line: action -> (the body's schema, the use case, takes an id), the
# same bodies and use cases as the HTTP proposal routes (POST /residences/{id}/extension-proposals, ...).
PROPOSALS: dict[str, tuple[type[BaseModel], Any, bool]] = {
    "departure": (DepartureIn, service.propose_departure, True),
    "extension": (ExtendIn, service.propose_extension, True),
    "move": (MoveIn, proposals.propose_move, True),
    "document": (DocumentAdd, proposals.propose_document, True),
    "member": (MemberAdd, proposals.propose_member, True),
    "member-end": (MemberEnd, proposals.propose_membership_end, True),
    "household": (HouseholdCreate, proposals.propose_household, False),
    "birth": (BirthIn, proposals.propose_birth, False),
}


@app.command("propose")
def propose(
    action: str = typer.Argument(
        ...,
        help="departure, extension, move (residence id), document (person id), member (household id), "
        "member-end (membership id), birth (no id: the body names the household) or household (no id: the "
        "body names the area, dwelling and members)",
    ),
    target: int | None = typer.Argument(
        None, help="The residence, person, household or membership it is about"
    ),
    file: Path = typer.Option(
        ..., "--file", exists=True, dir_okay=False, help="The body as JSON (as the API's)"
    ),
    as_user: str = typer.Option(..., "--as", help="The collector"),
    change_set: int | None = typer.Option(
        None, "--change-set", help="Resubmit this returned change set, fixed"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the change set as JSON"),
) -> None:
    """Propose a change for the station's review (a change set: nothing counts until approved)."""
    if action not in PROPOSALS:
        err.print(
            f"[red]changeset.action_unknown[/red]: 未知的提交类型 / unknown action {action!r}: {', '.join(PROPOSALS)}"
        )
        raise typer.Exit(2)
    model, use_case, takes_id = PROPOSALS[action]
    if takes_id and target is None:
        err.print(f"[red]changeset.target_required[/red]: 请给出对象编号 / give the id {action} is about")
        raise typer.Exit(2)
    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        err.print(f"[red]changeset.file_invalid[/red]: 文件不是有效的 JSON / not valid JSON: {exc}")
        raise typer.Exit(2) from None
    try:
        policy = review.policy_of(Settings())
        with database() as (session, clock):
            ctx = context_as(session, clock, as_user, f"propose {action}")
            data = model.model_validate(body, context=validation_context(ctx.today))
            args = (target, data) if takes_id else (data,)
            cs = use_case(session, ctx, *args, change_set_id=change_set, policy=policy)
            shown = review.show(session, ctx, cs.id)
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()))
            err.print(f"[red]validation.failed[/red]: {where}: {e.get('msg')}")
        raise typer.Exit(2) from None
    except LiangshiError as exc:
        raise fail(exc) from None
    if as_json:
        print(json.dumps(shown.model_dump(mode="json"), ensure_ascii=False))
    else:
        out.print(f"{shown.id}: {shown.status} ({shown.action}: {shown.summary})")
