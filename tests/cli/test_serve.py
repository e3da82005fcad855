"""`liangshi serve --workers N`: worker processes with connection pools sized to share the database's connections,
and the background jobs (the KPI warm-up) in one process only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from liangshi.cli import serve
from liangshi.config import Settings


def test_one_worker_keeps_the_configured_pool() -> None:
    assert serve.pool_for_workers(Settings(), 1) == (10, 20)


def test_workers_share_the_connection_budget() -> None:
    settings = Settings(db_pool_size=10, db_max_overflow=20, db_max_connections=80)
    for workers, expected in ((2, (10, 20)), (4, (10, 10)), (8, (10, 0)), (16, (5, 0)), (200, (1, 0))):
        size, overflow = serve.pool_for_workers(settings, workers)
        assert (size, overflow) == expected, workers
        assert workers * (size + overflow) <= max(80, workers)


_HOLDER = """
import sys, time
from pathlib import Path
from liangshi.cli import serve
print(serve.one_process_only("kpi-warm-up", sys.argv[1], Path(sys.argv[2])), flush=True)
time.sleep(60)
"""


def test_a_background_job_runs_in_the_first_process_that_takes_its_lock_until_that_process_ends(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/a.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, url, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "True"
        # Another process (this one) does not run it, for this database; for another database it does.
        assert serve.one_process_only("kpi-warm-up", url, tmp_path) is False
        assert serve.one_process_only("kpi-warm-up", f"sqlite:///{tmp_path}/b.db", tmp_path) is True
    finally:
        holder.kill()
        holder.wait()
    # The holder is gone: the kernel freed its lock, and this process takes the job over.
    assert serve.one_process_only("kpi-warm-up", url, tmp_path) is True
    assert serve.one_process_only("kpi-warm-up", url, tmp_path) is True  # held already: still this process's


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _workers(pid: int) -> set[int]:
    """The worker processes of a server: its children started by multiprocessing's spawn (its resource tracker
    is a child too, not a worker)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            spawned = b"spawn_main" in (entry / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if parent == pid and spawned:
            found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads worker processes from /proc")
def test_serve_with_two_workers_answers_from_two_processes_and_warms_the_kpis_in_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/serve.db"
    env = {
        **os.environ,
        "LIANGSHI_DATABASE_URL": url,
        "LIANGSHI_KPI_WARM_SECONDS": "3600",
        "TMPDIR": str(tmp_path),
    }
    liangshi = Path(sys.executable).parent / "liangshi"
    subprocess.run([str(liangshi), "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    server = subprocess.Popen(
        [str(liangshi), "serve", "--workers", "2", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            pytest.fail("the server did not answer within 90 s")
        workers = _workers(server.pid)
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            workers = _workers(server.pid)
        assert len(workers) == 2, workers
        # One worker holds the warm-up's lock (in the TMPDIR given to the server), so this process cannot take it.
        assert serve.one_process_only("kpi-warm-up", url, tmp_path) is False
        locks = list(tmp_path.glob("liangshi-kpi-warm-up-*.lock"))
        assert len(locks) == 1
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_several_workers_get_time_to_answer_the_supervisors_ping(monkeypatch: Any) -> None:
    # uvicorn's default (5 s) killed busy workers mid-request on a loaded machine (issue 19's mixed load).
    called: dict[str, Any] = {}
    for name in ("LIANGSHI_DB_POOL_SIZE", "LIANGSHI_DB_MAX_OVERFLOW"):  # serve sets them for its workers
        monkeypatch.setenv(name, os.environ.get(name, ""))
        monkeypatch.delenv(name)
    monkeypatch.setattr(serve.uvicorn, "run", lambda app, **options: called.update(options, app=app))
    serve.serve(host="127.0.0.1", port=8000, workers=2)
    assert called["app"] == "liangshi.cli.serve:worker_app" and called["workers"] == 2
    assert called["timeout_worker_healthcheck"] == serve.WORKER_HEALTHCHECK_SECONDS >= 30
