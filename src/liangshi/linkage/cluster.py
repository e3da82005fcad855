"""Stage 5, cluster: connected components of the pairs at or above the acceptance threshold.

Plain connected components chain: A–B and B–C join A and C even when A and C have two different valid ID
numbers (two people, with a third record that resembles both). Edges are therefore added strongest first,
and an edge that would put two different valid ID numbers into one cluster is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas

__all__ = ["clusters", "components"]


def components(
    ids: Sequence[str],
    edges: Iterable[tuple[str, str, float]],
    *,
    valid_ids: Mapping[str, str],
    threshold: float,
) -> dict[str, str]:
    """record id -> cluster id (the smallest record id of its cluster), for every id in ``ids``.

    ``edges`` are (id_l, id_r, probability); ``valid_ids`` maps a record id to its valid ID number.
    """
    parent = {i: i for i in ids}
    numbers: dict[str, frozenset[str]] = {
        i: frozenset((valid_ids[i],)) if i in valid_ids else frozenset() for i in ids
    }

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    strong = sorted((e for e in edges if e[2] >= threshold), key=lambda e: (-e[2], e[0], e[1]))
    for left, right, _ in strong:
        a, b = find(left), find(right)
        if a == b:
            continue
        merged = numbers[a] | numbers[b]
        if len(merged) > 1:
            continue  # the guard: never two different valid ID numbers in one cluster
        if b < a:
            a, b = b, a
        parent[b] = a
        numbers[a] = merged
        del numbers[b]
    roots: dict[str, str] = {}
    for i in ids:
        root = find(i)
        roots[root] = min(roots.get(root, i), i)
    return {i: roots[find(i)] for i in ids}


def clusters(frame: pandas.DataFrame, predictions: pandas.DataFrame, *, threshold: float) -> dict[str, str]:
    """Cluster a prepared frame (:func:`liangshi.linkage.score.prepare`) from its scored pairs."""
    ids = [str(i) for i in frame["unique_id"].tolist()]
    valid = frame[frame["id_valid"]]
    valid_ids = dict(zip(valid["unique_id"].astype(str), valid["id"].astype(str), strict=True))
    edges = zip(
        predictions["unique_id_l"].astype(str),
        predictions["unique_id_r"].astype(str),
        predictions["match_probability"].astype(float),
        strict=True,
    )
    return components(ids, edges, valid_ids=valid_ids, threshold=threshold)
