"""The Merkle tree rules against RFC 6962's definitions: roots, incremental folding, audit paths, consistency."""

from __future__ import annotations

import hashlib

import pytest

from liangshi.audit import rules


def _leaves(n: int) -> list[bytes]:
    return [rules.leaf_hash(f"entry {i}".encode()) for i in range(n)]


def _hash(node: rules.Node, leaves: list[bytes]) -> bytes:
    level, index = node
    return rules.root_of(leaves[index << level : (index + 1) << level])


def test_hashing_uses_the_rfc_6962_domain_prefixes() -> None:
    assert rules.leaf_hash(b"a") == hashlib.sha256(b"\x00a").digest()
    assert rules.node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()
    assert rules.root_of([]) == hashlib.sha256(b"").digest()


def test_the_rfc_6962_test_vector_root_of_the_empty_leaf() -> None:
    # RFC 6962 / certificate-transparency test vector: MTH of one empty leaf.
    assert rules.leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


@pytest.mark.parametrize("n", range(1, 40))
def test_the_frontier_folds_to_the_definition_root(n: int) -> None:
    leaves = _leaves(n)
    tree = rules.Frontier()
    completed: dict[rules.Node, bytes] = {}
    for leaf in leaves:
        for node, digest in tree.append(leaf):
            completed[node] = digest
    assert tree.root() == rules.root_of(leaves)
    for node, digest in completed.items():
        assert digest == _hash(node, leaves)
    restarted = rules.Frontier.of(n, [_hash(node, leaves) for node in rules.frontier(n)])
    assert restarted.root() == tree.root()


@pytest.mark.parametrize("n", range(1, 34))
def test_every_leaf_has_an_audit_path_that_verifies_and_only_for_itself(n: int) -> None:
    leaves = _leaves(n)
    root = rules.root_of(leaves)
    for i in range(n):
        path = [
            rules.fold([_hash(node, leaves) for node in element]) for element in rules.inclusion_plan(i, n)
        ]
        assert rules.verify_inclusion(i, n, leaves[i], path, root)
        other = (i + 1) % n
        if other != i:
            assert not rules.verify_inclusion(other, n, leaves[i], path, root)
        assert not rules.verify_inclusion(i, n, rules.leaf_hash(b"forged"), path, root)


@pytest.mark.parametrize("new", range(1, 34))
def test_consistency_proofs_verify_between_every_pair_of_sizes(new: int) -> None:
    leaves = _leaves(new)
    for old in range(1, new + 1):
        proof = [
            rules.fold([_hash(node, leaves) for node in element])
            for element in rules.consistency_plan(old, new)
        ]
        old_root, new_root = rules.root_of(leaves[:old]), rules.root_of(leaves)
        assert rules.verify_consistency(old, new, old_root, new_root, proof)
        if old < new:
            rewritten = rules.root_of([rules.leaf_hash(b"x"), *leaves[1:old]])
            assert not rules.verify_consistency(old, new, rewritten, new_root, proof)
