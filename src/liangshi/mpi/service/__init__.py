"""Master person index use cases: resolve incoming records to register persons, the review queue, merges,
splits and their undo, and dedupe over the register.

Person ids are the master index: a record either joins an existing person (keeping that person's id) or creates
a new one; nothing here ever renumbers a person. Every merge or split is a `PersonLinkEvent` naming exactly which
rows moved, so it can be undone exactly; the retired person comes back as a new version (history is kept).

Modules: `records` (normalised records, candidates, the master rows, the persons a record makes), `resolve`,
`reviews` (the queue and its decisions), `merges` (merge, split, undo), `dedupe` (`link_persons`), `search`
(`forgiving_search`). Callers use this face: `from liangshi.mpi import service`, `service.resolve(...)`.
"""

from liangshi.mpi.service.dedupe import LinkReport, link_persons
from liangshi.mpi.service.merges import MOVABLE, event_view, get_event, merge, split, undo
from liangshi.mpi.service.records import (
    CHUNK,
    MasterRow,
    all_person_ids,
    candidate_person_ids,
    insert_persons,
    make_person,
    master_records,
    master_rows,
    person_input,
)
from liangshi.mpi.service.resolve import Resolution, resolve
from liangshi.mpi.service.reviews import FIELDS, decide, list_reviews, review_detail
from liangshi.mpi.service.search import MATCH_LEVELS, NAMESAKES_FIRST, forgiving_search

__all__ = [
    "CHUNK",
    "FIELDS",
    "MATCH_LEVELS",
    "MOVABLE",
    "NAMESAKES_FIRST",
    "LinkReport",
    "MasterRow",
    "Resolution",
    "all_person_ids",
    "candidate_person_ids",
    "decide",
    "event_view",
    "forgiving_search",
    "get_event",
    "insert_persons",
    "link_persons",
    "list_reviews",
    "make_person",
    "master_records",
    "master_rows",
    "merge",
    "person_input",
    "resolve",
    "review_detail",
    "split",
    "undo",
]
