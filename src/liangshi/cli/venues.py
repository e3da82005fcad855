"""`liangshi venues`: venue API keys and the retention of venue stays.

liangshi venues key issue VENUE_ID --name 前台
liangshi venues key list VENUE_ID
liangshi venues key revoke VENUE_ID KEY_ID
liangshi venues purge --dry-run
liangshi venues purge --hotel-days 730 --cafe-days 60
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from liangshi.access.service import SYSTEM
from liangshi.cli.common import database, fail
from liangshi.errors import LiangshiError
from liangshi.registry import Context
from liangshi.venues import service
from liangshi.venues.rules import RETENTION_DAYS
from liangshi.venues.schemas import KeyIn

if TYPE_CHECKING:
    from liangshi.clock import Clock
    from liangshi.registry import Context

app = typer.Typer(help="Hotels and internet cafés / 旅店网吧实名登记", no_args_is_help=True)


@app.callback()
def _root() -> None:
    """Venue registrations."""


@app.command("purge")
def purge(
    hotel_days: int = typer.Option(
        RETENTION_DAYS["hotel"], "--hotel-days", min=1, help="Keep hotel stays this long"
    ),
    cafe_days: int = typer.Option(
        RETENTION_DAYS["cafe"], "--cafe-days", min=1, help="Keep café stays this long"
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count only; delete nothing"),
    as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON"),
) -> None:
    """Delete stays older than the retention period of their venue kind; the purge is audited."""
    with database() as (session, clock):
        result = service.purge(
            session,
            SYSTEM,
            now=clock.now(),
            retention_days={"hotel": hotel_days, "cafe": cafe_days},
            dry_run=dry_run,
        )
    if as_json:
        print(json.dumps(result, ensure_ascii=False))
        return
    verb = "将删除 would delete" if dry_run else "已删除 deleted"
    for kind, r in result["kinds"].items():
        print(f"{kind:<6} {verb} {r['stays']:>8,} stays (before {r['cutoff']}, {r['days']} days)")


keys_app = typer.Typer(help="Venue API keys / 场所接口密钥", no_args_is_help=True)
app.add_typer(keys_app, name="key")


def _system_context(clock: Clock) -> Context:
    """The CLI runs as the system administrator on the machine that holds the database."""
    return Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="venue keys")


@keys_app.command("issue")
def key_issue(
    venue_id: int,
    name: str = typer.Option(None, "--name", help="What the key is for (front desk, PMS vendor)"),
) -> None:
    """Issue an API key for a venue's front-desk system; the key is printed once, only its hash is kept."""
    try:
        with database() as (session, clock):
            result = service.issue_key(session, _system_context(clock), venue_id, KeyIn(name=name))
    except LiangshiError as exc:
        raise fail(exc) from None
    print(json.dumps(result, ensure_ascii=False, default=str))


@keys_app.command("list")
def key_list(venue_id: int) -> None:
    """A venue's keys: prefix, name, issue and revocation times (never the keys)."""
    try:
        with database() as (session, clock):
            keys = service.list_keys(session, _system_context(clock), venue_id)
    except LiangshiError as exc:
        raise fail(exc) from None
    print(json.dumps(keys, ensure_ascii=False, default=str))


@keys_app.command("revoke")
def key_revoke(venue_id: int, key_id: int) -> None:
    """Revoke a venue key: from now on it authenticates nothing."""
    try:
        with database() as (session, clock):
            result = service.revoke_key(session, _system_context(clock), venue_id, key_id)
    except LiangshiError as exc:
        raise fail(exc) from None
    print(json.dumps(result, ensure_ascii=False, default=str))
