"""`liangshi audit verify`: recompute the audit chain."""

from __future__ import annotations

import json

import typer

from liangshi.audit import service
from liangshi.cli.common import database, err, out

app = typer.Typer(help="Audit log / 审计日志", no_args_is_help=True)


@app.command("verify")
def audit_verify(as_json: bool = typer.Option(False, "--json")) -> None:
    """Recompute the audit chain; exit 1 when an entry was altered or deleted."""
    with database() as (session, _):
        result = service.verify(session)
    if as_json:
        print(json.dumps({"ok": result.ok, "entries": result.entries, "problems": result.problems}))
    elif result.ok:
        out.print(f"[green]审计日志完整 / audit log intact[/green]: {result.entries} entries")
    else:
        for p in result.problems:
            err.print(f"[red]entry {p['seq']}: {p['problem']}[/red]")
        err.print(f"[red]审计日志被篡改 / audit log tampered[/red]: {len(result.problems)} problem(s)")
    if not result.ok:
        raise typer.Exit(1)
