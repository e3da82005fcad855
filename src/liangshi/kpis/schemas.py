"""KPI output shapes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class KpiRead(BaseModel):
    """One KPI of one area and period: numerator ÷ denominator = rate (null when nothing was counted)."""

    model_config = ConfigDict(populate_by_name=True)

    key: str
    group: str
    label_zh: str
    label_en: str
    numerator_zh: str
    denominator_zh: str
    numerator: int
    denominator: int
    rate: float | None
    target: float | None = Field(description="The seed's target (1.0 = 100 %); null for counts")
    is_count: bool = Field(description="A count by residence category: rate is its share of all residents")
    area_code: str
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")


class AreaRef(BaseModel):
    """An area of the report."""

    id: int
    code: str
    name: str
    level: str


class AreaKpis(BaseModel):
    """The KPIs of one child area (drill-down)."""

    area: AreaRef
    kpis: list[KpiRead]


class KpiReport(BaseModel):
    """The KPIs of an area for a period and, for the drill-down, those of each child area."""

    model_config = ConfigDict(populate_by_name=True)

    area: AreaRef
    date_from: dt.date = Field(alias="from")
    date_to: dt.date = Field(alias="to")
    computed_at: dt.datetime | None = Field(
        description="When the counts were taken (reports are reused briefly)"
    )
    read_from: Literal["primary", "replica"] = Field(
        "primary", description="Where the counts were read: the primary or the reporting replica"
    )
    as_of: dt.datetime | None = Field(
        None, description="Read from the replica: the time its data is as of (None when it cannot tell)"
    )
    kpis: list[KpiRead]
    children: list[AreaKpis]
