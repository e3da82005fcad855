"""Check use cases: run checks over an area, list and dismiss findings, hold a department's file for checking.

A run computes every finding of the checks asked for in one SQL statement per check (`checks.sql`), then merges
them with the stored findings of that area in the caller's transaction: a finding found again stays open (its
evidence refreshed), one no longer found is closed as fixed, a dismissed one stays dismissed, a new one opens and
is assigned to the collector of its area (else the check's owner). An interrupted run rolls back with its
transaction, so the previous findings stay as they were.
"""

from liangshi.checks.service.findings import (
    FOUND_DEPARTURES_SQL,
    FindingView,
    dismiss_finding,
    finding_view,
    found_departures_by_area,
    list_findings,
)
from liangshi.checks.service.register import DATED_RUNNERS, RUNNERS
from liangshi.checks.service.run import run_checks, run_scheduled, start_schedule
from liangshi.checks.service.scope import Found, RunResult, Scope, scope_area
from liangshi.checks.service.sources import SOURCE_KINDS, SourceLoad, load_source

__all__ = [
    "DATED_RUNNERS",
    "FOUND_DEPARTURES_SQL",
    "RUNNERS",
    "SOURCE_KINDS",
    "FindingView",
    "Found",
    "RunResult",
    "Scope",
    "SourceLoad",
    "dismiss_finding",
    "finding_view",
    "found_departures_by_area",
    "list_findings",
    "load_source",
    "run_checks",
    "run_scheduled",
    "scope_area",
    "start_schedule",
]
