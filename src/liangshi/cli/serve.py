"""`liangshi serve`: the API and the web pages (uvicorn), in one process or in several worker processes."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

import typer
import uvicorn
from fastapi import FastAPI

from liangshi.addresses.gazetteer import gazetteer
from liangshi.audit import service as audit
from liangshi.campaign.counts import start_nightly_recount
from liangshi.checks.service import start_schedule
from liangshi.config import Settings
from liangshi.http.app import create_app
from liangshi.kpis.service import start_warming

# How long a worker may take to answer the supervisor's ping before uvicorn kills and restarts it.
WORKER_HEALTHCHECK_SECONDS = 60

# The lock files of the background jobs this process holds, by path (kept open: a lock lasts as long as its process).
_HELD: dict[str, IO[bytes]] = {}


def pool_for_workers(settings: Settings, workers: int) -> tuple[int, int]:
    """Each worker's connection pool (size, overflow): as configured (`db_pool_size`, `db_max_overflow`), lowered
    so that all workers together open at most `db_max_connections` connections (PostgreSQL refuses connections
    beyond its max_connections, 100 by default, which the CLI's jobs and a replica also need)."""
    per_worker = max(
        1, min(settings.db_pool_size + settings.db_max_overflow, settings.db_max_connections // workers)
    )
    size = max(1, min(settings.db_pool_size, per_worker))
    return size, max(0, per_worker - size)


def one_process_only(job: str, database_url: str, directory: Path | None = None) -> bool:
    """Whether this process runs the background `job` for this database: the first process to take the job's lock
    file (an exclusive, non-blocking `flock`) does, until it exits (the kernel then frees the lock, and a
    restarted worker takes it over); the other workers do not."""
    import fcntl  # POSIX only, as the servers it runs on; imported here so that the module loads elsewhere

    digest = hashlib.sha256(database_url.encode()).hexdigest()[:16]
    path = (directory or Path(tempfile.gettempdir())) / f"liangshi-{job}-{digest}.lock"
    if str(path) in _HELD:
        return True
    handle = path.open("ab")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return False
    _HELD[str(path)] = handle
    return True


def worker_app() -> FastAPI:
    """The application of one server process (uvicorn's factory, so that every worker builds its own): settings
    from the environment, and the background jobs (the KPI warm-up) if this process holds their lock."""
    settings = Settings()
    web = create_app(settings)
    # Every worker reads the township gazetteer once (a second or so): in the background at start, not on the
    # first address a user types.
    threading.Thread(target=gazetteer, name="gazetteer-load", daemon=True).start()
    # And every page template (about 75 in each of two languages): compiled at start, not on each page's first request.
    templates = getattr(web.state, "web_templates", None)
    if templates is not None:
        threading.Thread(target=templates.compile_all, name="templates-compile", daemon=True).start()
    if settings.kpi_warm_seconds > 0 and one_process_only("kpi-warm-up", settings.database_url):
        state = web.state
        start_warming(state.sessions, state.kpi_cache, state.clock, every=settings.kpi_warm_seconds)
    # The audit log's one sequencer folds committed entries into the Merkle tree every second, in one process.
    if one_process_only("audit-sequencer", settings.database_url):
        state = web.state
        audit.start_sequencer(
            state.sessions, state.audit_keys, state.clock, every=settings.audit_sequence_seconds
        )
    # The quality checks on their schedule, in one process.
    if settings.checks_every_seconds > 0 and one_process_only("checks", settings.database_url):
        start_schedule(web.state.sessions, web.state.clock, every=settings.checks_every_seconds)
    # The campaign progress counts' daily full recount, shortly after midnight China time, in one process.
    if settings.campaign_recount_after_midnight >= 0 and one_process_only(
        "campaign-recount", settings.database_url
    ):
        start_nightly_recount(
            web.state.sessions, web.state.clock, after_midnight=settings.campaign_recount_after_midnight
        )
    return web


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Worker processes / 工作进程数 (each with its own connection pool)",
    ),
) -> None:
    """Serve the API and web app."""
    settings = Settings()
    size, overflow = pool_for_workers(settings, workers)
    # The workers read their settings from the environment (uvicorn starts them afresh): pass the pool down so.
    os.environ["LIANGSHI_DB_POOL_SIZE"] = str(size)
    os.environ["LIANGSHI_DB_MAX_OVERFLOW"] = str(overflow)
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info"}
    if workers == 1:
        uvicorn.run(worker_app(), **options)
    else:
        # uvicorn kills a worker that does not answer its supervisor's ping within the timeout (5 s by default):
        # on a loaded machine a busy worker missed it and was killed mid-request (issue 19's mixed load).
        uvicorn.run(
            "liangshi.cli.serve:worker_app",
            factory=True,
            workers=workers,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **options,
        )
