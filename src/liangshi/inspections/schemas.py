"""Inspection payloads: a plan to draw, its lots and sample, a result found at a household, the rates."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field


class PlanCreate(BaseModel):
    """An inspection of an area: margin and expected rate (sample size), AQL/LQ and risks (acceptance plan)."""

    area_id: int
    name: str = Field(min_length=1, max_length=100)
    seed: int | None = Field(None, ge=0, lt=2**62, description="Omit to draw a fresh one; stored either way")
    margin: float = 0.05
    expected_rate: float = 0.95
    z: float = 1.959963984540054
    aql: float = 0.02
    lq: float = 0.10
    alpha: float = 0.05
    beta: float = 0.10
    model: Literal["auto", "binomial", "hypergeometric"] = "auto"
    rectify_days: int = Field(10, ge=1, le=60, description="Working days to rectify a finding")


class LotRead(BaseModel):
    """One community's lot: households, sample drawn, acceptance plan and its decision."""

    id: int
    community_id: int
    community_code: str
    community_name: str
    households: int
    sample_size: int
    estimate_n: int
    plan_n: int
    ac: int
    model: str
    accept_at_aql: float
    accept_at_lq: float
    decision: str | None
    inspected: int = 0
    defects: int = 0


class PlanRead(BaseModel):
    """A plan with its lots."""

    id: int
    area_id: int
    area_code: str
    name: str
    seed: int
    draw_method: str = Field(
        description="How the sample is drawn from the seed: pcg64 (numpy) or sample (Python)"
    )
    margin: float
    expected_rate: float
    z: float
    aql: float
    lq: float
    alpha: float
    beta: float
    model: str
    rectify_days: int
    created_at: dt.datetime
    lots: list[LotRead]


class SampledHousehold(BaseModel):
    """A household in the sample, with what the register holds and whether it has been inspected."""

    household_id: int
    lot_id: int
    community_code: str
    household_number: str | None
    members: int
    inspected: bool


AgeBand = Literal["0-17", "18-34", "35-59", "60+", "unknown"]


class BandCount(BaseModel):
    """A result's persons in one age band (years completed on the day of the visit; `unknown` when not known)."""

    age_band: AgeBand
    persons_registered: int = Field(0, ge=0)
    persons_present: int = Field(0, ge=0, description="Registered persons of this band found there")
    persons_missed: int = Field(0, ge=0, description="Persons of this band living there, not registered")
    persons_unconfirmed: int = Field(
        0,
        ge=0,
        description="Registered persons of this band not found whose departure could not be confirmed",
    )


class ResultCreate(BaseModel):
    """What the inspector found at a sampled household, counted per person."""

    persons_registered: int = Field(ge=0)
    persons_present: int = Field(ge=0)
    main_right: int = Field(ge=0)
    general_right: int = Field(
        ge=0, description="Of those present, persons with all their general items right"
    )
    general_items_wrong: int | None = Field(
        None,
        ge=0,
        description="General items missing or wrong over the persons present (一般项目齐全准确率 counts items); "
        "may be left out only when every person present has all of them right",
    )
    floating_found: int = Field(0, ge=0, description="Floating persons found living there")
    floating_registered: int = Field(0, ge=0, description="Of those, registered (declared or collected)")
    floating_entered: int | None = Field(
        None,
        ge=0,
        description="Of those registered, entered in the system; may be left out when none is registered",
    )
    floating_right: int = Field(0, ge=0, description="Of those entered, with their main items right")
    persons_missed: int = Field(0, ge=0, description="Persons living there whom the register does not list")
    persons_unconfirmed: int = Field(
        0,
        ge=0,
        description="Of the registered persons not found living there, those whose departure could not be "
        "confirmed (not home, nobody to ask); the others are the register's erroneous inclusions (moved away, "
        "died), which the estimate of the people missed leaves out of the register's count",
    )
    count_matches: bool
    note: str | None = Field(None, max_length=500)
    bands: list[BandCount] | None = Field(
        None,
        description="The same persons by age band (coverage by area × housing type × age band); the bands add up "
        "to persons_registered, persons_present and persons_missed. Without them the household counts as `unknown`",
    )


class ResultRead(ResultCreate):
    """A stored result, with its general items expected (persons present × the general items per person) and
    right; None for a result stored before items were counted, whose items are not known."""

    general_items_expected: int | None = None
    general_items_right: int | None = None
    id: int
    household_id: int
    lot_id: int
    inspector: str | None
    inspected_at: dt.datetime
    defective: bool


class RateRead(BaseModel):
    """A sample-based rate with its Wilson interval and whether the target is met statistically."""

    key: str
    label_zh: str
    label_en: str
    x: int
    n: int
    rate: float | None
    low: float | None
    high: float | None
    target: float
    target_met: bool | None
    target_reading: Literal["met", "missed", "undecided"] | None = Field(
        None,
        description="met: the lower bound reaches the target; missed: the upper bound falls short of it; "
        "undecided: the interval holds it (a 100 % target is never shown met by a sample)",
    )
    households: int = Field(0, description="Households inspected that count in this rate")


class RectificationRead(BaseModel):
    """A rectification item (整改)."""

    id: int
    lot_id: int
    community_code: str
    household_id: int | None
    owner: str | None
    description: str
    opened_on: dt.date
    due_on: dt.date
    status: str
    overdue: bool
    fixed_on: dt.date | None
    reinspected_on: dt.date | None
