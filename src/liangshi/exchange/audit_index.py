"""The index of the imports' chunk audit entries by person: which entries created a person's data.

Its own module, below the loaders and the import service, so that the person service (a person's access log)
reads it without importing the loaders, which build on the person service.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select, union_all
from sqlalchemy.orm import Session

from liangshi.audit import service as audit
from liangshi.exchange.models import ImportAuditEntry
from liangshi.persons.models import Document, Membership, Person
from liangshi.rentals.models import RentalTenant
from liangshi.residence.models import Residence
from liangshi.venues.models import Stay

# The kinds the loaders audit in chunks that are a person's data: their id column and their person column.
PERSONAL_OBJECTS: dict[str, tuple[Any, Any]] = {
    "person": (Person.id, Person.id),
    "document": (Document.id, Document.person_id),
    "membership": (Membership.id, Membership.person_id),
    "residence": (Residence.id, Residence.person_id),
    "rental_tenant": (RentalTenant.id, RentalTenant.person_id),
    "stay": (Stay.id, Stay.person_id),
}


def import_entries_of_person(session: Session, person_id: int) -> list[int]:
    """The import chunks' audit entries (seqs) that created this person or their documents, residences ….

    A chunk's entry names no single person (one entry per table per chunk, detail "ids"). The batch's index rows
    give the entries of a kind in PERSONAL_OBJECTS whose id range holds one of the person's objects; each
    candidate's own id list decides. The import writes nothing per person for this, one index row per entry.
    """
    index = ImportAuditEntry
    candidates = []
    for kind, (id_column, person_column) in PERSONAL_OBJECTS.items():
        candidates.append(
            select(index.seq, id_column.label("object_id"))
            .join(id_column.table, and_(id_column >= index.first_id, id_column <= index.last_id))
            .where(index.object_kind == kind, person_column == person_id)
        )
    wanted: dict[int, set[int]] = {}
    for seq, object_id in session.execute(union_all(*candidates)).all():
        wanted.setdefault(seq, set()).add(object_id)
    if not wanted:
        return []
    details = audit.details_of(session, wanted)
    return sorted(seq for seq, ids in wanted.items() if ids & set(details.get(seq, {}).get("ids", ())))
