"""Department exchange use cases (the face of the package): departments and agreements, reads cut to an
agreement, feeds in with a review queue of conflicts, feedback with working-day deadlines, feeds out (changes
since a cursor, extracts, aggregates) and the hash-chained exchange log.

Interfaces others build on:

* `resolve_persons(session, ctx, records)` (and `resolve_person` for one record) is the one place department
  records are matched to register persons (today: the exact normalised document number in the caller's
  jurisdiction, one query per 5,000 records). The master person index replaces its body with fuzzy matching;
  callers do not change.
* `read_cut(session, ctx, kind)` is what `registry.read/search` call for a department liaison.
* A file-level problem (unknown department, no agreement in force, a column the agreement does not let it
  provide, wrong encoding, missing key column) refuses the whole batch and nothing is written; a bad row is
  reported with all its problems and left out, the good rows written — unless the agreement is all-or-nothing,
  then any bad row refuses the batch. Accepted values carry provenance `source_kind="department"`,
`source_ref="batch:<id>"`.
  A batch is written set-based, in runs of up to 5,000 rows (`registry.change_many`: the rows `registry.change`
  writes, a few statements per run); the deaths of a run with `residence.register_deaths` (the death use case
  set-based: the same rows and audit entries, a few statements per run).

Modules: `agreements` (departments, agreements, the read cut), `batch_rows` (reading and checking a batch's rows),
`feeds_in` (matching, comparing and writing a batch), `review` (conflicts, feedback), `feeds_out` (changes feed,
extracts), `batches` (what a sender may send for, their recent batches) and `exchange_log`.
"""

from __future__ import annotations

from liangshi.departments.service.agreements import (
    add_agreement,
    add_department,
    agreement_in_force,
    agreement_view,
    audit_purpose_max,
    get_department,
    kinds,
    known_fields,
    list_departments,
    read_cut,
    read_policy,
)
from liangshi.departments.service.batch_rows import (
    MAX_ROW_ERRORS,
    UPLOAD_SUFFIXES,
    FeedTable,
    RowProblem,
    no_file,
    table_from_file,
    table_from_records,
    table_from_upload,
)
from liangshi.departments.service.batches import (
    KEPT_REFUSALS,
    RECENT_BATCHES,
    ensure_may_send,
    list_batches,
    recent_batches,
    record_refused,
    senders,
)
from liangshi.departments.service.exchange_log import log_exchange, verify_log
from liangshi.departments.service.feed_corrections import person_cases
from liangshi.departments.service.feeds_in import (
    CHUNK_ROWS,
    BatchResult,
    resolve_person,
    resolve_persons,
    submit_batch,
)
from liangshi.departments.service.feeds_out import (
    AGGREGATE_BY,
    LEGACY_CURSOR_MARGIN,
    Sheet,
    extract,
    pull_changes,
    sheets_csv,
    sheets_xlsx,
)
from liangshi.departments.service.review import (
    conflict_view,
    decide_conflict,
    decide_feedback,
    feedback_view,
    file_feedback,
    get_conflict,
    list_conflicts,
    list_feedback,
    pick_up_feedback,
)

__all__ = [
    "AGGREGATE_BY",
    "CHUNK_ROWS",
    "KEPT_REFUSALS",
    "LEGACY_CURSOR_MARGIN",
    "MAX_ROW_ERRORS",
    "RECENT_BATCHES",
    "UPLOAD_SUFFIXES",
    "BatchResult",
    "FeedTable",
    "RowProblem",
    "Sheet",
    "add_agreement",
    "add_department",
    "agreement_in_force",
    "agreement_view",
    "audit_purpose_max",
    "conflict_view",
    "decide_conflict",
    "decide_feedback",
    "ensure_may_send",
    "extract",
    "feedback_view",
    "file_feedback",
    "get_conflict",
    "get_department",
    "kinds",
    "known_fields",
    "list_batches",
    "list_conflicts",
    "list_departments",
    "list_feedback",
    "log_exchange",
    "no_file",
    "person_cases",
    "pick_up_feedback",
    "pull_changes",
    "read_cut",
    "read_policy",
    "recent_batches",
    "record_refused",
    "resolve_person",
    "resolve_persons",
    "senders",
    "sheets_csv",
    "sheets_xlsx",
    "submit_batch",
    "table_from_file",
    "table_from_records",
    "table_from_upload",
    "verify_log",
]
