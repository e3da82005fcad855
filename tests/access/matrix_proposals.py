"""The permission matrix's cases for issue 14's collector actions (tests/access/test_permissions.py runs them):
the direct move, birth, document and member routes (refused to a collector with 403 `changeset.required`) and the
proposal routes that replace them for collectors (201, a pending change set, nothing live)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from liangshi.registry.changesets import ChangeSet

# Each action and the permission it needs (the route in the comment).
PROPOSAL_ACTIONS: dict[str, str] = {
    "residence.move": "residence.write",  # POST /residences/{id}/move
    "residence.birth": "person.write",  # POST /births (person, household and residence write)
    "person.add_document": "person.write",  # POST /persons/{id}/documents
    "household.add_member": "household.write",  # POST /households/{id}/members
    "residence.propose_extension": "residence.write",  # POST /residences/{id}/extension-proposals
    "residence.propose_move": "residence.write",  # POST /residences/{id}/move-proposals
    "residence.propose_birth": "person.write",  # POST /birth-proposals
    "person.propose_document": "person.write",  # POST /persons/{id}/document-proposals
    "household.propose_member": "household.write",  # POST /households/{id}/member-proposals
}
# The direct routes a collector is refused (they propose instead).
DIRECT = frozenset({"residence.move", "residence.birth", "person.add_document", "household.add_member"})
# Those answering 201 when allowed (the move answers 200).
CREATED = frozenset(PROPOSAL_ACTIONS) - {"residence.move"}


def _sets(world: Any) -> int:
    with world.session() as s:
        return int(s.execute(select(func.count()).select_from(ChangeSet)).scalar_one())


def run_proposal(
    case: Any, action: str, targets: dict[str, Callable[..., Any]], state: Callable[..., tuple[Any, ...]]
) -> None:
    """Perform one of the actions as the case's persona; a refusal changes nothing, a proposal nothing live."""
    kind = {"residence": "residence", "person": "person", "household": "household"}[action.split(".")[0]]
    if action.endswith("birth"):
        kind = "household"
    object_id = case.build(targets[kind])
    other = case.build(lambda s, ctx, loc: targets["place"](s, ctx, loc).dwelling_id)
    member = case.build(targets["person"])
    bodies: dict[str, tuple[str, dict[str, Any]]] = {
        "move": (
            f"/residences/{object_id}/move",
            {"expected_version": 1, "move_date": "2026-11-20", "dwelling_id": other},
        ),
        "extension": (
            f"/residences/{object_id}/extension-proposals",
            {"expected_version": 1, "intended_stay_until": "2027-12-31"},
        ),
        "birth": (
            "/births",
            {
                "name": "刘小雨",
                "sex": "2",
                "birth_date": "2026-11-20",
                "household_id": object_id,
                "household_expected_version": 1,
                "relationship": "30",
            },
        ),
        "document": (
            f"/persons/{object_id}/documents",
            {"expected_version": 1, "doc_type": "passport", "number": "E12345678", "country": "CHN"},
        ),
        "member": (
            f"/households/{object_id}/members",
            {"expected_version": 1, "person_id": member, "relationship": "20"},
        ),
    }
    verb = action.split(".")[1].removeprefix("propose_").removeprefix("add_")
    url, body = bodies[verb]
    if action.startswith(("residence.propose_", "person.propose_", "household.propose_")):
        url = {
            "move": f"/residences/{object_id}/move-proposals",
            "extension": url,
            "birth": "/birth-proposals",
            "document": f"/persons/{object_id}/document-proposals",
            "member": f"/households/{object_id}/member-proposals",
        }[verb]
    before, sets = state(case.world, kind, object_id), _sets(case.world)
    r = case.client.post(url, json=body, headers=case.headers)
    case.check(r)
    after = state(case.world, kind, object_id)
    if not case.ok:
        assert (after, _sets(case.world)) == (before, sets), "a refused action changed something"
    elif action in DIRECT:
        assert after != before  # written live
        assert _sets(case.world) == sets
    else:
        assert after == before, "a proposal changed the register"
        assert _sets(case.world) == sets + 1
        assert r.json()["status"] == "pending_station"
