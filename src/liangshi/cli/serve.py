"""`liangshi serve`: the API and the web pages in one process (uvicorn)."""

from __future__ import annotations

import uvicorn

from liangshi.checks.service import start_schedule
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
    if settings.checks_every_seconds > 0:
        start_schedule(web.state.sessions, web.state.clock, every=settings.checks_every_seconds)
    uvicorn.run(web, host=host, port=port, log_level="info")
