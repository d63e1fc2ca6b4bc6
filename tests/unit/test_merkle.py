"""The bid log's Merkle tree agrees with RFC 9162 (RFC 6962) to the bit."""

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(2048)]

# The inputs and tree heads of the RFC 6962 test vectors that Certificate Transparency
# implementations share; each value here was recomputed with a standalone hashlib script.
CT_INPUTS = [
    bytes.fromhex(data)
    for data in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_LEAVES = [leaf_hash(data) for data in CT_INPUTS]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (leaf index, tree size, audit path)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def reference_root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) written as RFC 9162 2.1.1 defines it, with hashlib alone."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = largest_power_of_two_below(len(leaves))
    left, right = reference_root(leaves[:k]), reference_root(leaves[k:])
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def path_shape(index: int, size: int) -> list[bool]:
    """Per level of PATH(index, D[size]), from the bottom: whether the sibling is on the left."""
    if size == 1:
        return []
    k = largest_power_of_two_below(size)
    if index < k:
        return [*path_shape(index, k), False]
    return [*path_shape(index - k, size - k), True]


def flip_bit(value: bytes, bit: int = 0) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


def test_leaf_and_node_hashes_carry_their_prefixes() -> None:
    """A leaf hashes under 0x00, a node under 0x01, so neither can pass for the other."""
    assert leaf_hash(b"bid") == hashlib.sha256(b"\x00bid").digest()
    assert (
        node_hash(b"L" * 32, b"R" * 32) == hashlib.sha256(b"\x01" + b"L" * 32 + b"R" * 32).digest()
    )
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT


def test_roots_match_the_rfc_6962_test_vectors() -> None:
    """The tree heads of sizes 0..8 over the CT test inputs are the published ones."""
    for size, expected in enumerate(CT_ROOTS):
        assert root(CT_LEAVES[:size]).hex() == expected


def test_proofs_match_the_rfc_6962_test_vectors() -> None:
    """The audit paths and consistency proofs over the CT test inputs are the published ones."""
    for index, size, path in CT_INCLUSION:
        assert [h.hex() for h in inclusion_proof(CT_LEAVES[:size], index)] == path
        tree_root = bytes.fromhex(CT_ROOTS[size])
        hashes = [bytes.fromhex(h) for h in path]
        assert verify_inclusion(CT_LEAVES[index], index, size, hashes, tree_root)
    for old_size, new_size, proof in CT_CONSISTENCY:
        assert [h.hex() for h in consistency_proof(CT_LEAVES[:new_size], old_size)] == proof
        old_root, new_root = bytes.fromhex(CT_ROOTS[old_size]), bytes.fromhex(CT_ROOTS[new_size])
        hashes = [bytes.fromhex(h) for h in proof]
        assert verify_consistency(old_size, new_size, old_root, new_root, hashes)


def test_root_equals_the_rfc_definition_for_small_trees() -> None:
    """Pairing level by level builds the RFC's tree for every size from 0 to 70."""
    for size in range(71):
        assert root(LEAVES[:size]) == reference_root(LEAVES[:size])


@given(st.integers(min_value=0, max_value=len(LEAVES)))
@settings(max_examples=60, deadline=None)
def test_root_equals_the_rfc_definition_for_any_size(size: int) -> None:
    """Pairing level by level builds the RFC's tree for sizes hypothesis picks."""
    assert root(LEAVES[:size]) == reference_root(LEAVES[:size])


def test_root_of_a_hundred_thousand_leaves_is_the_rfc_root() -> None:
    """A large log is hashed without recursion, and still to the RFC's root."""
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(100_000)]
    assert root(leaves) == reference_root(leaves)


def test_every_inclusion_proof_verifies() -> None:
    """Each leaf's audit path leads to the root, in every tree of 1 to 40 leaves."""
    for size in range(1, 41):
        leaves, tree_root = LEAVES[:size], root(LEAVES[:size])
        for index in range(size):
            proof = inclusion_proof(leaves, index)
            assert len(proof) == len(path_shape(index, size))
            assert verify_inclusion(leaves[index], index, size, proof, tree_root)


def test_every_consistency_proof_verifies() -> None:
    """Each tree of 1 to 40 leaves is proven to extend each of its prefixes."""
    for new_size in range(1, 41):
        new_root = root(LEAVES[:new_size])
        for old_size in range(1, new_size + 1):
            proof = consistency_proof(LEAVES[:new_size], old_size)
            old_root = root(LEAVES[:old_size])
            assert verify_consistency(old_size, new_size, old_root, new_root, proof)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 21])
def test_a_tampered_inclusion_proof_fails(size: int) -> None:
    """A flipped bit in the leaf, a proof hash, the root or the index fails verification,
    as does a proof with a hash added or taken away."""
    leaves, tree_root = LEAVES[:size], root(LEAVES[:size])
    for index in range(size):
        leaf, proof = leaves[index], inclusion_proof(leaves, index)
        assert not verify_inclusion(flip_bit(leaf), index, size, proof, tree_root)
        assert not verify_inclusion(leaf, index, size, proof, flip_bit(tree_root))
        for position in range(len(proof)):
            tampered = [*proof[:position], flip_bit(proof[position], 7), *proof[position + 1 :]]
            assert not verify_inclusion(leaf, index, size, tampered, tree_root)
        for bit in range(8):
            assert not verify_inclusion(leaf, index ^ (1 << bit), size, proof, tree_root)
        assert not verify_inclusion(leaf, index, size, [*proof, tree_root], tree_root)
        assert not verify_inclusion(leaf, index, size, [tree_root, *proof], tree_root)
        if proof:
            assert not verify_inclusion(leaf, index, size, proof[:-1], tree_root)


@pytest.mark.parametrize("size", range(1, 41))
def test_a_wrong_tree_size_fails_unless_the_path_is_the_same(size: int) -> None:
    """A flipped bit in the tree size fails verification whenever it changes the shape of the
    audit path. A size that keeps the shape recomputes the same root, so it passes: RFC 9162
    binds the size through the signed tree head, not through the path."""
    leaves, tree_root = LEAVES[:size], root(LEAVES[:size])
    for index in range(size):
        proof = inclusion_proof(leaves, index)
        for bit in range(8):
            wrong_size = size ^ (1 << bit)
            same_shape = index < wrong_size and path_shape(index, wrong_size) == path_shape(
                index, size
            )
            verified = verify_inclusion(leaves[index], index, wrong_size, proof, tree_root)
            assert verified == same_shape
        for wrong_size in (size * 2, size // 2):
            assert not verify_inclusion(leaves[index], index, wrong_size, proof, tree_root)


@pytest.mark.parametrize(("old_size", "new_size"), [(1, 2), (3, 7), (4, 9), (6, 8), (7, 40)])
def test_a_tampered_consistency_proof_fails(old_size: int, new_size: int) -> None:
    """A flipped bit in either root or a proof hash, swapped roots, or a proof with a hash
    added or taken away fails verification."""
    old_root, new_root = root(LEAVES[:old_size]), root(LEAVES[:new_size])
    proof = consistency_proof(LEAVES[:new_size], old_size)
    assert not verify_consistency(old_size, new_size, flip_bit(old_root), new_root, proof)
    assert not verify_consistency(old_size, new_size, old_root, flip_bit(new_root), proof)
    assert not verify_consistency(old_size, new_size, new_root, old_root, proof)
    for position in range(len(proof)):
        tampered = [*proof[:position], flip_bit(proof[position], 4), *proof[position + 1 :]]
        assert not verify_consistency(old_size, new_size, old_root, new_root, tampered)
    assert not verify_consistency(old_size, new_size, old_root, new_root, [])
    assert not verify_consistency(old_size, new_size, old_root, new_root, proof[:-1])
    assert not verify_consistency(old_size, new_size, old_root, new_root, [*proof, old_root])
    assert not verify_consistency(old_size, new_size, old_root, new_root, [new_root, *proof])
    assert not verify_consistency(old_size, new_size * 2, old_root, new_root, proof)


def test_equal_sizes_are_consistent_only_with_equal_roots_and_no_proof() -> None:
    """A tree extends itself with an empty proof, and with nothing else."""
    same = root(LEAVES[:5])
    assert verify_consistency(5, 5, same, same, [])
    assert not verify_consistency(5, 5, same, root(LEAVES[:4]), [])
    assert not verify_consistency(5, 5, same, same, [same])


def test_verification_rejects_impossible_sizes_without_raising() -> None:
    """Out-of-range indexes and sizes, and hashes of the wrong length, simply do not verify."""
    leaf = LEAVES[0]
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(leaf, -1, 1, [], leaf)
    assert not verify_inclusion(leaf, 1, 1, [], leaf)
    assert not verify_inclusion(LEAVES[0], 0, 2, [LEAVES[1][:31]], root(LEAVES[:2]))
    two = root(LEAVES[:2])
    assert not verify_consistency(0, 2, EMPTY_ROOT, two, [])
    assert not verify_consistency(-1, 2, EMPTY_ROOT, two, [])
    assert not verify_consistency(3, 2, two, two, [])
    assert not verify_consistency(1, 2, LEAVES[0], two, [LEAVES[1] + b"\x00"])


def test_proofs_refuse_arguments_outside_the_tree() -> None:
    """Asking for a leaf or an old size the tree does not have raises ValueError."""
    with pytest.raises(ValueError, match="leaf index 3 is outside a tree of 3 leaves"):
        inclusion_proof(LEAVES[:3], 3)
    with pytest.raises(ValueError, match="leaf index -1"):
        inclusion_proof(LEAVES[:3], -1)
    with pytest.raises(ValueError, match="leaf index 0 is outside a tree of 0 leaves"):
        inclusion_proof([], 0)
    with pytest.raises(ValueError, match=r"old size 0 must be in 1\.\.3"):
        consistency_proof(LEAVES[:3], 0)
    with pytest.raises(ValueError, match=r"old size 4 must be in 1\.\.3"):
        consistency_proof(LEAVES[:3], 4)
