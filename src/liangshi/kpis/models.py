"""The daily per-area aggregate of the dashboard's residence and stay KPIs (see `kpis.daily`).

Both tables hold signed counts (+1 when a fact starts counting, -1 when it stops) keyed by area, kind and day; the
database's own triggers append them to `kpi_deltas` in the transaction that changes a residence or a stay, and
`kpis.daily.compact` folds them into `kpi_daily` at four grains (day, month, year, decade) so that any period is a
sum over a few dozen rows per area. Nothing else writes them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId


class KpiDelta(Base):
    """A signed count appended by a trigger, waiting to be folded into `kpi_daily` (day grain)."""

    __tablename__ = "kpi_deltas"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    area_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(10))
    tag: Mapped[str] = mapped_column(String(12))
    day: Mapped[dt.date] = mapped_column(Date)
    state_from: Mapped[dt.date] = mapped_column(Date)
    state_to: Mapped[dt.date] = mapped_column(Date)
    lateness: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    m: Mapped[int] = mapped_column(Integer)


class KpiDaily(Base):
    """Summed counts per area, kind, tag and bucket (`grain` d/m/y/x: day, month, year, decade starting `day`)."""

    __tablename__ = "kpi_daily"

    kind: Mapped[str] = mapped_column(String(10))
    grain: Mapped[str] = mapped_column(String(1))
    day: Mapped[dt.date] = mapped_column(Date)
    area_id: Mapped[int] = mapped_column(BigId)
    tag: Mapped[str] = mapped_column(String(12))
    state_from: Mapped[dt.date] = mapped_column(Date)
    state_to: Mapped[dt.date] = mapped_column(Date)
    lateness: Mapped[int] = mapped_column(Integer)
    n: Mapped[int] = mapped_column(Integer)
    m: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        PrimaryKeyConstraint(
            "kind",
            "grain",
            "day",
            "area_id",
            "tag",
            "state_from",
            "state_to",
            "lateness",
            name="pk_kpi_daily",
        ),
    )
