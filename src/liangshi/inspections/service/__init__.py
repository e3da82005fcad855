"""Inspection use cases (检查验收): the face callers import (`from liangshi.inspections import service`).

`core` draws plans, records results, decides lots, rectifies and gives each plan's five rates;
`estimates` gives coverage, the dashboard summary and the rates month by month;
`age_bands` gives coverage by area × housing type × age band;
`collectors` traces defects to the collectors who entered them and scores their period.
"""

from __future__ import annotations

from liangshi.inspections.service.age_bands import coverage_by_age
from liangshi.inspections.service.collectors import (
    accountability,
    collector_report,
    household_owners,
    report_table,
    report_workbook,
)
from liangshi.inspections.service.core import (
    collectors_of,
    create_plan,
    fix_rectification,
    notices,
    oc_curve,
    plan_read,
    plans_of,
    rates,
    record_result,
    redraw,
    reinspect,
    sample_of,
)
from liangshi.inspections.service.estimates import (
    coverage,
    coverage_by_housing,
    latest_summary,
    monthly_rates,
)

__all__ = [
    "accountability",
    "collector_report",
    "collectors_of",
    "coverage",
    "coverage_by_age",
    "coverage_by_housing",
    "create_plan",
    "fix_rectification",
    "household_owners",
    "latest_summary",
    "monthly_rates",
    "notices",
    "oc_curve",
    "plan_read",
    "plans_of",
    "rates",
    "record_result",
    "redraw",
    "reinspect",
    "report_table",
    "report_workbook",
    "sample_of",
]
