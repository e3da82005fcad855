"""Inspection tables: a plan per area, its lots (one per community), the households drawn, results, 整改 items."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from liangshi.db import Base, BigId, UtcDateTime


class InspectionPlan(Base):
    """An inspection of an area (检查验收): the seed the sample is drawn from and the targets of the plan."""

    __tablename__ = "inspection_plans"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    area_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    name: Mapped[str] = mapped_column(String(100))
    seed: Mapped[int] = mapped_column(BigInteger)
    # How the sample was drawn from the seed (rules.DRAW_METHODS): plans made before the column existed were drawn
    # with Python's random.sample, hence the server default; new plans with numpy's PCG64.
    draw_method: Mapped[str] = mapped_column(String(16), default="pcg64", server_default="sample")
    margin: Mapped[float] = mapped_column(Float)
    expected_rate: Mapped[float] = mapped_column(Float)
    z: Mapped[float] = mapped_column(Float)
    aql: Mapped[float] = mapped_column(Float)
    lq: Mapped[float] = mapped_column(Float)
    alpha: Mapped[float] = mapped_column(Float)
    beta: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(16))
    rectify_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class InspectionLot(Base):
    """One community's lot in a plan: its households, the sample drawn and the acceptance plan (n, Ac)."""

    __tablename__ = "inspection_lots"
    __table_args__ = (UniqueConstraint("plan_id", "community_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("inspection_plans.id"), index=True)
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("areas.id"))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    households: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    estimate_n: Mapped[int] = mapped_column(Integer)
    plan_n: Mapped[int] = mapped_column(Integer)
    ac: Mapped[int] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(16))
    accept_at_aql: Mapped[float] = mapped_column(Float)
    accept_at_lq: Mapped[float] = mapped_column(Float)
    decision: Mapped[str | None] = mapped_column(String(10))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)


class InspectionSample(Base):
    """A household drawn into a lot's sample, in the order drawn."""

    __tablename__ = "inspection_samples"
    __table_args__ = (UniqueConstraint("plan_id", "household_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("inspection_plans.id"), index=True)
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("inspection_lots.id"), index=True)
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"))
    county_code: Mapped[str] = mapped_column(String(6), index=True)


class InspectionResult(Base):
    """What the inspector found at a sampled household (信息抽查核对), counted per person."""

    __tablename__ = "inspection_results"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sample_id: Mapped[int] = mapped_column(BigId, ForeignKey("inspection_samples.id"), unique=True)
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("inspection_lots.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    inspector_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    inspected_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    persons_registered: Mapped[int] = mapped_column(Integer)
    persons_present: Mapped[int] = mapped_column(Integer)
    main_right: Mapped[int] = mapped_column(Integer)
    general_right: Mapped[int] = mapped_column(Integer)
    # The general items missing or wrong, expected (persons present × items per person) and right: NULL for a
    # result stored before the items were counted (0055), unless every person was right there.
    general_items_wrong: Mapped[int | None] = mapped_column(Integer)
    general_items_expected: Mapped[int | None] = mapped_column(Integer)
    general_items_right: Mapped[int | None] = mapped_column(Integer)
    floating_found: Mapped[int] = mapped_column(Integer)
    floating_registered: Mapped[int] = mapped_column(Integer)
    # Of the registered, entered in the system (results before 0055 counted only those: entered = registered).
    floating_entered: Mapped[int] = mapped_column(Integer)
    floating_right: Mapped[int] = mapped_column(Integer)
    persons_missed: Mapped[int] = mapped_column(Integer)
    # Of the registered not found, those the inspector could not confirm gone (not the register's erroneous
    # inclusions): the register's side of the dual-system estimate is persons_present + persons_unconfirmed.
    persons_unconfirmed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    count_matches: Mapped[bool] = mapped_column(Boolean)
    defective: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(500))
    # Recorded offline on a phone: the outbox item's UUID and a hash of what it said (the sync is idempotent).
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    content_hash: Mapped[str | None] = mapped_column(String(64))


class Rectification(Base):
    """A rectification item (整改) opened by a rejected lot: owner, deadline in working days, re-inspection."""

    __tablename__ = "inspection_rectifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lot_id: Mapped[int] = mapped_column(BigId, ForeignKey("inspection_lots.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("households.id"))
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    description: Mapped[str] = mapped_column(String(500))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))
    fixed_on: Mapped[dt.date | None] = mapped_column(Date)
    reinspected_on: Mapped[dt.date | None] = mapped_column(Date)
    reinspected_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))


class InspectionResultBand(Base):
    """A result's persons by age band (the re-canvass per post-stratum area × housing type × age band): registered
    there, of them found, and found living there unregistered. The bands add up to the result's totals."""

    __tablename__ = "inspection_result_bands"
    __table_args__ = (UniqueConstraint("result_id", "age_band"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    result_id: Mapped[int] = mapped_column(BigId, ForeignKey("inspection_results.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    age_band: Mapped[str] = mapped_column(String(8))
    persons_registered: Mapped[int] = mapped_column(Integer)
    persons_present: Mapped[int] = mapped_column(Integer)
    persons_missed: Mapped[int] = mapped_column(Integer)
    persons_unconfirmed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class InspectionEstimate(Base):
    """A plan's estimate kept as computed (the coverage by age band, as JSON text), with the fingerprint of what it
    was computed from; derived data, recomputed when the fingerprint no longer matches."""

    __tablename__ = "inspection_estimates"
    __table_args__ = (UniqueConstraint("plan_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plan_id: Mapped[int] = mapped_column(BigId, ForeignKey("inspection_plans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    fingerprint: Mapped[str] = mapped_column(String(200))
    report: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
