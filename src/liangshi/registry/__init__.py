"""The registry kernel: who acts (Context), what a kind is (Kind, Provenance), history (valid time x record time),
the scoped use cases and their bulk forms. The only code that writes version rows.

It imports no domain: only the ground floor (config, db, errors, clock, bulk, versioned), `liangshi.common`, the
actor (`access.rules`), the audit log and the area tree (jurisdiction). A department liaison's read cut reaches it
as a policy on the Context, set by the entry points.

Modules: `context` (Context, Snapshot, Page, ReadCut), `kinds` (Provenance, the personal and public kinds),
`history` (the bitemporal primitives and the one spelling of a version row's bookkeeping, `version_meta`),
`usecases` (read, search, create, change, correct, retire, versions, flag), `bulk` (create_many, create_many_fast,
create_many_audited, change_many), `retire` (retire_many), `correct` (correct_many), `records` (create_records),
`changesets` (proposals held for review), `changeset_apply` (approved sets applied through the bulk forms).
Callers use this face: `from liangshi import registry`, `registry.read(...)`.
"""

from liangshi.registry import changeset_apply, changesets, history
from liangshi.registry.bulk import (
    ChangeItem,
    Created,
    FastCreate,
    NewItem,
    PlannedChange,
    change_many,
    create_many,
    create_many_audited,
    create_many_fast,
    plan_changes,
)
from liangshi.registry.context import LIAISON_ROLE, Context, Page, ReadCut, ReadCutPolicy, Snapshot
from liangshi.registry.correct import CorrectItem, Written, correct_many
from liangshi.registry.history import META_COLUMNS, entity_row, version_meta
from liangshi.registry.kinds import (
    CHANGE_KINDS,
    EVIDENCE_KINDS,
    PERSONAL_KINDS,
    PUBLIC_KINDS,
    SOURCE_KINDS,
    Kind,
    Provenance,
    perm_kind,
)
from liangshi.registry.records import create_records
from liangshi.registry.retire import Retirement, open_versions, retire_many
from liangshi.registry.usecases import (
    change,
    correct,
    create,
    department_cut,
    ensure_area_in_scope,
    flag,
    get_entity,
    log,
    open_flags,
    read,
    resolve_flag,
    retire,
    scoped,
    scoped_by_id,
    search,
    snapshot,
    subject_of,
    versions,
)
from liangshi.versioned import AttributeFlag, ChangeSet

__all__ = [
    "CHANGE_KINDS",
    "EVIDENCE_KINDS",
    "LIAISON_ROLE",
    "META_COLUMNS",
    "PERSONAL_KINDS",
    "PUBLIC_KINDS",
    "SOURCE_KINDS",
    "AttributeFlag",
    "ChangeItem",
    "ChangeSet",
    "Context",
    "CorrectItem",
    "Created",
    "FastCreate",
    "Kind",
    "NewItem",
    "Page",
    "PlannedChange",
    "Provenance",
    "ReadCut",
    "ReadCutPolicy",
    "Retirement",
    "Snapshot",
    "Written",
    "change",
    "change_many",
    "changeset_apply",
    "changesets",
    "correct",
    "correct_many",
    "create",
    "create_many",
    "create_many_audited",
    "create_many_fast",
    "create_records",
    "department_cut",
    "ensure_area_in_scope",
    "entity_row",
    "flag",
    "get_entity",
    "history",
    "log",
    "open_flags",
    "open_versions",
    "perm_kind",
    "plan_changes",
    "read",
    "resolve_flag",
    "retire",
    "retire_many",
    "scoped",
    "scoped_by_id",
    "search",
    "snapshot",
    "subject_of",
    "version_meta",
    "versions",
]
