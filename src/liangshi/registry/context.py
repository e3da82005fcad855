"""Who acts, when and why (Context), and what a read answers (Snapshot, Page, a department's ReadCut)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

import liangshi.registry.history as history
from liangshi.access.rules import Actor
from liangshi.versioned import AttributeFlag, Kind

# The role whose reads are cut to a department's sharing agreement.
LIAISON_ROLE = "department_liaison"


@dataclass(frozen=True)
class ReadCut:
    """What a department's agreement lets it read: per object kind, the readable fields."""

    reads: dict[str, frozenset[str]]

    def fields(self, kind: str) -> frozenset[str]:
        """The readable fields of a kind (none when the agreement does not name it)."""
        return self.reads.get(kind, frozenset())


# A department liaison's read cut, as a policy the entry points put on the context (see `Context.read_cut`).
ReadCutPolicy = Callable[[Session, "Context", str], tuple[ReadCut, "Context"]]


@dataclass
class Snapshot:
    """An entity with the version that answers a read, its flags and whether it is retired."""

    kind: Kind
    entity: Any
    row: Any
    retired: bool
    flags: list[AttributeFlag] = field(default_factory=list)
    # Set for a department's read: only these fields are shown (see liangshi.departments).
    cut: ReadCut | None = None

    def attributes(self) -> dict[str, Any]:
        """The versioned attributes of the answering row (only the readable ones under a department's cut)."""
        attrs = history.attributes_of(self.kind, self.row)
        if self.cut is None:
            return attrs
        visible = self.cut.fields(self.kind.name)
        return {k: v for k, v in attrs.items() if k in visible}


@dataclass(frozen=True)
class Context:
    """Who acts, when, and why: passed to every use case."""

    actor: Actor
    now: dt.datetime
    today: dt.date
    purpose: str | None = None
    # How a department liaison's reads are cut to its agreement: (session, context, kind name) -> the cut and the
    # context to audit under. Set by the entry points that build a liaison's context (to
    # `liangshi.departments.service.read_cut`); the registry refuses a liaison's read without one.
    read_cut: ReadCutPolicy | None = field(default=None, repr=False, compare=False)


@dataclass
class Page:
    """One page of snapshots and the total count."""

    items: list[Snapshot]
    total: int
    offset: int
    limit: int
