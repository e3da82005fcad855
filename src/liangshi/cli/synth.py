"""`liangshi synth`: a synthetic Ezhou with labelled defects, written to files and/or loaded into a database."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from liangshi import migrate
from liangshi.access.service import SYSTEM
from liangshi.areas import service as areas
from liangshi.cli.common import err, fail
from liangshi.clock import Clock
from liangshi.common.codes import ezhou_areas
from liangshi.db import make_engine, make_session_factory, session_scope
from liangshi.demo.city import CityLoad, load_whole_city
from liangshi.errors import LiangshiError
from liangshi.registry import Context
from liangshi.synth import write_city
from liangshi.synth.generate import DefectRates
from liangshi.synth.load import load_police_extracts


def synth(
    persons: int = typer.Option(
        20_000, "--persons", min=100, max=50_000_000, help="How many people live there"
    ),
    seed: int = typer.Option(2010, "--seed", help="Same seed, same city, byte for byte"),
    db: str = typer.Option(
        None,
        "--db",
        help="Build the whole city in this database URL: every department's file through the importer, "
        "rentals, venues and stays, and the files the checks compare with",
    ),
    out: Path = typer.Option(None, "--out", help="Write the department files and truth/ here"),
    xlsx: bool = typer.Option(False, "--xlsx", help="Also write XLSX files (slow; for small cities)"),
    today: str = typer.Option(None, "--today", help="The city's 'today' (default: today), YYYY-MM-DD"),
    more_kinds: bool = typer.Option(
        False,
        "--more-kinds",
        help="Also plant the defect kinds of the address disorders, duplicate numbers and 一号多址, household "
        "sizes, ID numbers, main items missing and departed tenants still attached, each with its truth file, and "
        "write the health department's births file and the justice department's community-correction cases (without "
        "it, the same seed writes the same city as before)",
    ),
) -> None:
    """Build a synthetic Ezhou with labelled defects: department files (--out) and/or a database (--db)."""
    if db is None and out is None:
        err.print("[red]input.invalid[/red]: 请给出 --db 或 --out / give --db and/or --out")
        raise typer.Exit(2)
    try:
        day = dt.date.fromisoformat(today) if today else Clock().today()
    except ValueError:
        err.print("[red]date.invalid[/red]: --today 须为 YYYY-MM-DD / --today must be YYYY-MM-DD")
        raise typer.Exit(2) from None
    directory = out or Path(tempfile.mkdtemp(prefix="liangshi-city-"))
    directory.mkdir(parents=True, exist_ok=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("生成 generating city", total=persons)
        summary = write_city(
            directory,
            persons=persons,
            seed=seed,
            today=day,
            rates=DefectRates.every_kind() if more_kinds else DefectRates(),
            formats=("csv", "xlsx") if xlsx else ("csv",),
            progress=lambda n: progress.advance(task, n),
        )
    print(
        f"城市已生成 / city written to {directory}: {summary.persons} persons, {summary.communities} communities"
    )
    if db is not None:
        load_into(db, directory, everything=True)


def load_into(url: str, directory: Path, *, everything: bool = False) -> None:
    """Import a synthetic city's police extracts (with `everything`: the whole city, `load_whole_city`)."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        sessions = make_session_factory(engine)
        clock = Clock()
        with session_scope(sessions) as session:
            ctx = Context(actor=SYSTEM, now=clock.now(), today=clock.today(), purpose="gazetteer")
            areas.load_gazetteer(session, ctx, ezhou_areas())
        with Progress(
            TextColumn("{task.description}"),
            TextColumn("{task.completed:,} rows"),
            TimeElapsedColumn(),
            console=err,
        ) as progress:
            tasks: dict[str, TaskID] = {}

            def step(kind: str, n: int) -> None:
                if kind not in tasks:
                    tasks[kind] = progress.add_task(f"导入 importing {kind}", total=None)
                progress.advance(tasks[kind], n)

            if everything:
                city = load_whole_city(sessions, directory, actor=SYSTEM, clock=clock, progress=step)
            else:
                city = CityLoad(
                    load_police_extracts(sessions, directory, actor=SYSTEM, clock=clock, progress=step)
                )
    except LiangshiError as exc:
        raise fail(exc) from None
    finally:
        engine.dispose()
    for kind, r in city.imports.items():
        print(f"  {kind:<22} loaded {r.loaded:>8,}  existing {r.existing:>8,}  rejected {len(r.errors):>6,}")
    if everything and city.imports["housing_rentals"].errors:
        print(
            "  (rentals refused: tenants missing from the police files, as labelled in truth/tenant_unregistered.csv)"
        )
    for stem, b in city.batches.items():
        refused = len({p.line for p in b.rejected})
        if b.kind in ("areas", "streets"):
            # Civil affairs' names: the police files loaded the same places, so most rows are the same.
            print(
                f"  {stem:<22} batch {b.batch_id}: {b.rows:,} rows, same {b.same:,}, changed {b.applied:,}, "
                f"refused {refused:,}"
            )
            continue
        if b.kind == "corrections":
            print(
                f"  {stem:<22} batch {b.batch_id}: {b.rows:,} rows, cases new or changed {b.applied:,}, "
                f"same {b.same:,}, refused {refused:,}"
            )
            continue
        print(
            f"  {stem:<22} batch {b.batch_id}: {b.rows:,} rows, matched {b.matched:,}, new persons {b.created:,}, "
            f"review queue {b.queued:,}, conflicts {len(b.conflicts):,}, rejected {refused:,}"
            + (f", birth proposals {len(b.proposals):,}" if b.kind == "births" else "")
        )
    for stem, whole in city.refused.items():
        print(
            f"  {stem:<22} batch {whole.batch_id}: refused as a whole ({whole.code}): {whole.rows:,} rows, "
            f"refused {whole.rejected:,}; kept with its report (liangshi dept batches {whole.department} "
            "--status refused)"
        )
        for reason in whole.reasons:
            print(f"  {'':<22}   {reason}")
    if city.refused:
        print(
            f"  整体拒收的部门批次 {len(city.refused)} 个，其余已导入 / {len(city.refused)} department batch(es) "
            "refused as a whole; the rest of the city is loaded"
        )
    for stem, h in city.held.items():
        print(f"  {stem:<22} held for checking: {h.kept:,} of {h.rows:,} rows, {len(h.problems):,} problems")
