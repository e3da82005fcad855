"""`liangshi serve`: the API and the web pages in one process (uvicorn)."""

from __future__ import annotations

import uvicorn

from liangshi.audit import service as audit
from liangshi.config import Settings
from liangshi.http.app import create_app
from liangshi.kpis.service import start_warming


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve the API and web app."""
    settings = Settings()
    web = create_app(settings)
    if settings.kpi_warm_seconds > 0:
        state = web.state
        start_warming(state.sessions, state.kpi_cache, state.clock, every=settings.kpi_warm_seconds)
    # The audit log's one sequencer: this process folds committed entries into the Merkle tree every second.
    state = web.state
    audit.start_sequencer(
        state.sessions, state.audit_keys, state.clock, every=settings.audit_sequence_seconds
    )
    uvicorn.run(web, host=host, port=port, log_level="info")
