"""Alembic migrations, shipped inside the package so `liangshi db upgrade` works wherever it is installed."""
