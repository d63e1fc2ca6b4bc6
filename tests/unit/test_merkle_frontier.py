"""The bid log's Merkle frontier gives the root of RFC 9162 at every size."""

import hashlib

from bidding import merkle

LEAVES = [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(301)]


def test_the_frontier_grown_one_leaf_at_a_time_has_the_root_at_every_size() -> None:
    frontier: merkle.Frontier = ()
    assert merkle.frontier_root(frontier) == merkle.root([])
    for size in range(1, 301):
        frontier = merkle.frontier_append(frontier, size - 1, LEAVES[size - 1])
        assert merkle.frontier_matches(frontier, size)
        assert merkle.frontier_root(frontier) == merkle.root(LEAVES[:size]), size


def test_the_frontier_built_from_leaves_equals_the_one_grown() -> None:
    for size in (0, 1, 2, 3, 7, 8, 255, 256, 300):
        assert merkle.frontier_root(merkle.frontier_of(LEAVES[:size])) == merkle.root(LEAVES[:size])


def test_a_frontier_of_another_size_does_not_match() -> None:
    assert not merkle.frontier_matches((), 5)
    assert not merkle.frontier_matches(merkle.frontier_of(LEAVES[:4]), 5)
