"""Alembic environment: the URL comes from the config's attributes or from Settings."""

from __future__ import annotations

from alembic import context

from liangshi.config import Settings
from liangshi.db import make_engine
from liangshi.models import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    """Run migrations on a given connection or on the configured database."""
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("url") or Settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
