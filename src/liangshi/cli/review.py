"""`liangshi review`: the review desk from the command line (station, then district where policy names it).

liangshi review list --as station_admin_li
liangshi review approve 12 13 14 --as station_admin_li
liangshi review return 15 --reason "出生日期与身份证不符" --as station_admin_li
liangshi review claims --as police_liu
liangshi review claim 16 claimed --as police_liu
liangshi review claim 17 elsewhere --area 420704001002 --as police_liu
liangshi review claim 18 duplicate --duplicate-of 42 --as police_liu
liangshi review undo-claim 18 --as police_liu
"""

from __future__ import annotations

import json

import typer
from rich.table import Table

from liangshi.cli.common import context_as, database, fail, out
from liangshi.errors import LiangshiError
from liangshi.review import service

app = typer.Typer(help="Review desk: approve or return collected change sets / 审核台", no_args_is_help=True)

AS_HELP = "Act as this user (a station or district reviewer)"


@app.callback()
def _root() -> None:
    """List, approve and return change sets awaiting review."""


@app.command("list")
def list_(
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    status: str = typer.Option(
        None, "--status", help="pending_station or pending_district (default: your stages)"
    ),
    action: str = typer.Option(
        None, "--action", help="person_at_dwelling, arrival, departure, extension, correction, occupancy"
    ),
    proposer: str = typer.Option(None, "--collector", help="Only this collector's"),
    limit: int = typer.Option(50, "--limit", min=1, max=500),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Change sets awaiting your review in your jurisdiction, oldest first (待审核变更集)."""
    try:
        with database() as (session, clock):
            desk = service.desk(
                session,
                context_as(session, clock, as_user),
                status=status,
                action=action,
                proposer=proposer,
                limit=limit,
            )
            if as_json:
                print(json.dumps(desk.model_dump(mode="json"), ensure_ascii=False))
                return
            table = Table(title=f"待审核 / awaiting review: {desk.total}")
            for column in (
                "#",
                "内容 / what",
                "摘要 / summary",
                "采集员 / collector",
                "环节 / stage",
                "适用 / applies",
            ):
                table.add_column(column)
            for c in desk.items:
                table.add_row(
                    str(c.id), c.action, c.summary, c.proposer, c.status, "否 / no" if c.stale else "是 / yes"
                )
            out.print(table)
    except LiangshiError as exc:
        raise fail(exc) from None


@app.command("approve")
def approve(
    ids: list[int] = typer.Argument(..., help="Change set ids"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Approve change sets item by item (批准); each outcome is printed, a refused one stays pending."""
    try:
        with database() as (session, clock):
            outcomes = service.approve_many(session, context_as(session, clock, as_user), ids)
    except LiangshiError as exc:
        raise fail(exc) from None
    refused = 0
    for o in outcomes:
        if o.ok:
            print(f"{o.id}: {o.status}")
        else:
            refused += 1
            print(f"{o.id}: {o.code}: {o.message}")
    if refused:
        raise typer.Exit(2)


@app.command("return")
def return_(
    change_set_id: int = typer.Argument(..., help="Change set id"),
    reason: str = typer.Option(..., "--reason", help="Why (the collector reads it) / 退回原因"),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
) -> None:
    """Return a change set to its collector with a reason (退回)."""
    try:
        with database() as (session, clock):
            read = service.return_(session, context_as(session, clock, as_user), change_set_id, reason)
            print(f"已退回 / returned: {read.id} ({read.proposer})")
    except LiangshiError as exc:
        raise fail(exc) from None


@app.command("claims")
def claims(
    as_user: str = typer.Option(..., "--as", help="Act as this user (the community claiming records)"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON"),
) -> None:
    """Department records waiting for a claim by your communities (认领), oldest first."""
    try:
        with database() as (session, clock):
            items = service.claim_desk(session, context_as(session, clock, as_user))
            if as_json:
                print(json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False))
                return
            table = Table(title=f"待认领 / to claim: {len(items)}")
            for column in ("#", "摘要 / summary", "来源 / source", "社区 / area"):
                table.add_column(column)
            for c in items:
                table.add_row(str(c.id), c.summary, c.proposer, str(c.area_id))
            out.print(table)
    except LiangshiError as exc:
        raise fail(exc) from None


@app.command("claim")
def claim(
    change_set_id: int = typer.Argument(..., help="Change set id of the department record"),
    decision: str = typer.Argument(..., help="claimed | elsewhere | duplicate"),
    area: str | None = typer.Option(None, "--area", help="elsewhere: the community code it belongs to"),
    duplicate_of: int | None = typer.Option(
        None, "--duplicate-of", help="duplicate: the registered person id"
    ),
    as_user: str = typer.Option(..., "--as", help="Act as this user (the community claiming records)"),
) -> None:
    """Decide a department record: claimed (it becomes a person), belongs elsewhere, or a duplicate."""
    try:
        with database() as (session, clock):
            ctx = context_as(session, clock, as_user)
            area_id = service.area_id_of(session, area) if area else None
            read = service.claim(
                session, ctx, change_set_id, decision, area_id=area_id, duplicate_of=duplicate_of
            )
            print(f"{read.id}: {read.status}")
    except LiangshiError as exc:
        raise fail(exc) from None


@app.command("undo-claim")
def undo_claim(
    change_set_id: int = typer.Argument(..., help="Change set id of the department record"),
    as_user: str = typer.Option(..., "--as", help="Act as this user (the community claiming records)"),
) -> None:
    """Undo a claim decision that wrote nothing (a duplicate, or a record handed elsewhere)."""
    try:
        with database() as (session, clock):
            read = service.undo_claim(session, context_as(session, clock, as_user), change_set_id)
            print(f"{read.id}: {read.status}")
    except LiangshiError as exc:
        raise fail(exc) from None
