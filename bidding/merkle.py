"""An append-only Merkle tree as in RFC 9162 section 2.1 (the same tree as RFC 6962), SHA-256.

Hashing, enough to reimplement it: a leaf is ``SHA-256(0x00 || data)``, an inner node is
``SHA-256(0x01 || left || right)``, and the root of the empty tree is ``SHA-256("")``. A tree
of n > 1 leaves splits at k, the largest power of two below n: its root is
``node(root(leaves[:k]), root(leaves[k:]))``. The distinct prefixes keep a leaf from passing
for a node. Every function here takes leaf hashes, not raw data.
"""

import hashlib
from collections.abc import Sequence

HASH_BYTES = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]): the root over ``leaves``, leaf hashes in log order."""
    return _subtree_root(leaves, 0, len(leaves))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 2.1.3.1: the audit path of one leaf, from the bottom up."""
    if not 0 <= index < len(leaves):
        msg = f"leaf index {index} is outside a tree of {len(leaves)} leaves (0 <= index < size)"
        raise ValueError(msg)
    return _path(leaves, index, 0, len(leaves))


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(old_size, D[n]) of RFC 9162 2.1.4.1: that the tree of ``leaves`` extends the
    tree of its first ``old_size`` leaves. Empty when the sizes are equal."""
    if not 0 < old_size <= len(leaves):
        msg = f"old size {old_size} must be in 1..{len(leaves)}, the size of the newer tree"
        raise ValueError(msg)
    return _subproof(leaves, old_size, 0, len(leaves), known=True)


def verify_inclusion(
    leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: whether ``leaf`` (a leaf hash) is entry ``index`` of the tree of
    ``tree_size`` leaves whose root is ``root``."""
    if not 0 <= index < tree_size or not _all_hashes(proof):
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: whether the tree of ``new_size`` leaves with root ``new_root`` extends
    the tree of ``old_size`` leaves with root ``old_root``."""
    if not 0 < old_size <= new_size or not _all_hashes(proof):
        return False
    # The RFC's algorithm covers old_size < new_size; equal sizes have an empty proof.
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


def _subtree_root(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    # Pairing level by level, an odd last node carried up unchanged, builds the same tree as the
    # RFC's split at the largest power of two, without recursion (the tests check both agree).
    if start == end:
        return EMPTY_ROOT
    level = list(leaves[start:end])
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(size: int) -> int:
    """The largest power of two smaller than ``size``, for a ``size`` above 1."""
    return 1 << ((size - 1).bit_length() - 1)


def _path(leaves: Sequence[bytes], index: int, start: int, end: int) -> list[bytes]:
    if end - start == 1:
        return []
    middle = start + _split(end - start)
    if index < middle:
        return [*_path(leaves, index, start, middle), _subtree_root(leaves, middle, end)]
    return [*_path(leaves, index, middle, end), _subtree_root(leaves, start, middle)]


def _subproof(
    leaves: Sequence[bytes], old_size: int, start: int, end: int, known: bool
) -> list[bytes]:
    if old_size == end - start:
        return [] if known else [_subtree_root(leaves, start, end)]
    k = _split(end - start)
    if old_size <= k:
        inner = _subproof(leaves, old_size, start, start + k, known)
        return [*inner, _subtree_root(leaves, start + k, end)]
    inner = _subproof(leaves, old_size - k, start + k, end, known=False)
    return [*inner, _subtree_root(leaves, start, start + k)]


def _all_hashes(proof: Sequence[bytes]) -> bool:
    return all(len(h) == HASH_BYTES for h in proof)


# The compact range of a growing log: the roots of its perfect subtrees, largest first, one
# per set bit of its size. Appending a leaf merges equal-sized subtrees, O(log n) hashes, so
# the root after each entry costs no rehashing of the log.
Frontier = tuple[bytes, ...]


def frontier_append(frontier: Frontier, size: int, leaf: bytes) -> Frontier:
    """The frontier of a log of ``size`` leaves, after one more ``leaf`` (a leaf hash)."""
    subtrees, carry = list(frontier), leaf
    while size & 1:  # each trailing set bit is a subtree as large as the carry: merge them
        carry = node_hash(subtrees.pop(), carry)
        size >>= 1
    return (*subtrees, carry)


def frontier_of(leaves: Sequence[bytes]) -> Frontier:
    frontier: Frontier = ()
    for size, leaf in enumerate(leaves):
        frontier = frontier_append(frontier, size, leaf)
    return frontier


def frontier_root(frontier: Frontier) -> bytes:
    """MTH of the log the frontier stands for: its subtrees folded from the smallest up."""
    if not frontier:
        return EMPTY_ROOT
    result = frontier[-1]
    for subtree in reversed(frontier[:-1]):
        result = node_hash(subtree, result)
    return result


def frontier_matches(frontier: Frontier, size: int) -> bool:
    """Whether ``frontier`` can stand for a log of ``size`` leaves (one root per set bit)."""
    return len(frontier) == size.bit_count()
