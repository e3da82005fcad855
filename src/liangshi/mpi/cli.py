"""`liangshi link persons`: find duplicates among the register's own persons and queue them for review.

liangshi link persons                 # the whole register
liangshi link persons --county 420704 # one county
liangshi link persons --as police_liu # within one user's jurisdiction (needs person.link)
"""

from __future__ import annotations

import json

import typer

from liangshi.cli.common import context_as, database, err, fail


def add_commands(link: typer.Typer) -> None:
    """Add the master person index commands to the `link` group."""

    @link.command("persons")
    def link_persons(
        county: str = typer.Option(None, "--county", help="Only persons held in this 6-digit county"),
        as_json: bool = typer.Option(False, "--json", help="Print the counts as JSON"),
        as_user: str = typer.Option(
            None, "--as", help="Match within this user's jurisdiction (default: the system operator)"
        ),
    ) -> None:
        """Match the register's persons against each other; likely and uncertain duplicates go to the review
        queue (GET /mpi/reviews). Nothing is merged without a decision."""
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        from liangshi.errors import LiangshiError, ValidationFailed
        from liangshi.mpi import service

        try:
            if county is not None and not (len(county) == 6 and county.isdigit()):
                raise ValidationFailed(
                    "mpi.county_invalid",
                    "县级代码应为6位数字",
                    "The county code must be 6 digits",
                    {"field": "county"},
                )
            with (
                database() as (session, clock),
                Progress(
                    TextColumn("比对 matching"),
                    BarColumn(),
                    TextColumn("{task.completed:,}/{task.total:,}"),
                    TimeElapsedColumn(),
                    console=err,
                ) as progress,
            ):
                task = progress.add_task("link", total=0)
                ctx = context_as(session, clock, as_user, purpose="master person index")
                report = service.link_persons(
                    session,
                    ctx,
                    county=county,
                    progress=lambda done, total: progress.update(task, completed=done, total=total),
                )
        except LiangshiError as exc:
            raise fail(exc) from exc
        counts = {
            "persons": report.persons,
            "pairs": report.pairs,
            "queued": report.queued,
            "already_queued": report.already_queued,
        }
        if as_json:
            print(json.dumps(counts))
            return
        print(
            f"人员 persons {report.persons:,}; 疑似重复 candidate pairs {report.pairs:,}; "
            f"新入审核 queued {report.queued:,}; 已在队列 already queued {report.already_queued:,}"
        )
