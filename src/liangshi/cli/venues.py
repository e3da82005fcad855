"""`liangshi venues`: retention of venue stays.

liangshi venues purge --dry-run
liangshi venues purge --hotel-days 730 --cafe-days 60
"""

from __future__ import annotations

import json

import typer

from liangshi.venues.rules import RETENTION_DAYS

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
    from liangshi.access.service import SYSTEM
    from liangshi.cli.main import database
    from liangshi.venues import service

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
