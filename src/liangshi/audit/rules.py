"""The Merkle tree of the audit log, as RFC 6962 / RFC 9162 define it: hashing, incremental folding, proofs.

Pure functions over hashes and tree positions (no session, no clock). A tree of `n` leaves is kept as its
perfect subtrees: node (level, index) covers leaves [index·2^level, (index+1)·2^level). Every hash a proof needs
is a fold of such perfect nodes, so storage keeps only them (level 0: the leaf hashes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Node = tuple[int, int]  # (level, index)

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than size (size ≥ 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def cover(start: int, end: int) -> list[Node]:
    """The perfect subtrees whose right fold is MTH(D[start:end]), left to right (RFC 6962 §2.1 split)."""
    out: list[Node] = []
    while end > start:
        size = end - start
        if size & (size - 1) == 0 and start % size == 0:
            out.append((size.bit_length() - 1, start // size))
            break
        k = _split(size)
        out.append((k.bit_length() - 1, start // k))
        start += k
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """Fold perfect subtree hashes (left to right, as `cover` lists them) into one: right to left."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def frontier(size: int) -> list[Node]:
    """The perfect subtrees of a tree of `size` leaves (its binary decomposition), largest first."""
    return cover(0, size)


def inclusion_plan(index: int, size: int) -> list[list[Node]]:
    """RFC 6962 §2.1.1 PATH(m, D[n]) as the perfect nodes each element folds, leaf-side first."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    plan: list[list[Node]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            plan.append(cover(start + k, end))
            end = start + k
        else:
            plan.append(cover(start, start + k))
            start += k
    plan.reverse()
    return plan


def consistency_plan(old: int, new: int) -> list[list[Node]]:
    """RFC 6962 §2.1.2 PROOF(m, D[n]) as the perfect nodes each element folds."""
    if not 0 < old <= new:
        raise ValueError("consistency needs 0 < old size <= new size")
    plan: list[list[Node]] = []

    def sub(m: int, start: int, end: int, whole: bool) -> None:
        n = end - start
        if m == n:
            if not whole:
                plan.append(cover(start, end))
            return
        k = _split(n)
        if m <= k:
            sub(m, start, start + k, whole)
            plan.append(cover(start + k, end))
        else:
            sub(m - k, start + k, end, False)
            plan.append(cover(start, start + k))

    sub(old, 0, new, True)
    return plan


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does `path` prove leaf `index` in the tree of `size` with `root`?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: does `proof` show the tree of `old` leaves is a prefix of the tree of `new`?"""
    if old == new:
        return old_root == new_root and not proof
    if not 0 < old < new or not proof:
        return False
    path = list(proof)
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


@dataclass
class Frontier:
    """The right edge of a growing tree: append leaves, get the perfect nodes each append completes."""

    size: int = 0
    stack: list[tuple[Node, bytes]] = field(default_factory=list)

    @classmethod
    def of(cls, size: int, hashes: Iterable[bytes]) -> Frontier:
        """The frontier of a tree of `size` leaves from its `frontier(size)` nodes' hashes."""
        return cls(size, list(zip(frontier(size), hashes, strict=True)))

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add one leaf; the interior nodes (level ≥ 1) it completes, lowest first."""
        done: list[tuple[Node, bytes]] = []
        node, h = (0, self.size), leaf
        while self.stack and self.stack[-1][0][0] == node[0]:
            (_, left_index), left = self.stack.pop()
            node, h = (node[0] + 1, left_index // 2), node_hash(left, h)
            done.append((node, h))
        self.stack.append((node, h))
        self.size += 1
        return done

    def root(self) -> bytes:
        """MTH of the leaves so far."""
        return fold([h for _, h in self.stack])


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) straight from the definition (RFC 6962 §2.1), for checking the incremental forms."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_of(leaves[:k]), root_of(leaves[k:]))


def head_message(tree_size: int, root_hash: str, timestamp: str) -> bytes:
    """The bytes a tree head's signature covers."""
    return f"liangshi-audit-tree-head-v1\n{tree_size}\n{root_hash}\n{timestamp}\n".encode()


def entry_payload(
    *,
    seq: int,
    at: str,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_kind: str | None,
    object_id: int | None,
    subject_person_id: int | None,
    purpose: str | None,
    detail: str,
) -> bytes:
    """An entry's canonical bytes (the leaf data): its fields as compact JSON, `at` in UTC microseconds."""
    return json.dumps(
        [seq, at, actor_id, actor_name, action, object_kind, object_id, subject_person_id, purpose, detail],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
