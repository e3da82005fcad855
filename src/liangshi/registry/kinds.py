"""What the registry knows of kinds and sources: provenance, the personal and public kinds, permission names."""

from __future__ import annotations

from dataclasses import dataclass

from liangshi.errors import ValidationFailed
from liangshi.versioned import Kind

__all__ = [
    "CHANGE_KINDS",
    "EVIDENCE_KINDS",
    "PERSONAL_KINDS",
    "PUBLIC_KINDS",
    "SOURCE_KINDS",
    "Kind",
    "Provenance",
    "perm_kind",
]

SOURCE_KINDS = ("collector", "department", "venue", "system", "import")
EVIDENCE_KINDS = ("observed", "document")
CHANGE_KINDS = ("create", "change", "close", "correct", "retire")


@dataclass(frozen=True)
class Provenance:
    """Where a value came from: 谁采集、谁录入、谁负责."""

    source_kind: str = "collector"
    source_ref: str | None = None
    evidence: str = "observed"
    document_ref: str | None = None

    def __post_init__(self) -> None:
        if self.source_kind not in SOURCE_KINDS:
            raise ValidationFailed(
                "provenance.source_unknown",
                "来源类型无效",
                "Unknown source kind",
                {"field": "source_kind", "allowed": list(SOURCE_KINDS)},
            )
        if self.evidence not in EVIDENCE_KINDS:
            raise ValidationFailed(
                "provenance.evidence_unknown",
                "依据类型无效",
                "Unknown evidence kind",
                {"field": "evidence", "allowed": list(EVIDENCE_KINDS)},
            )


# Kinds whose rows are a person's data: every read of them is logged against the person.
PERSONAL_KINDS = frozenset({"person", "document", "membership", "residence", "permit"})

# Gazetteer kinds: the names of areas and streets make up every address and are not cut by agreements.
PUBLIC_KINDS = frozenset({"area", "street"})


def perm_kind(kind: Kind | str) -> str:
    """The permission prefix of a kind: documents and memberships are parts of a person and a household and
    share their permissions."""
    name = kind if isinstance(kind, str) else kind.name
    return {"document": "person", "membership": "household"}.get(name, name)
