"""Checking what the platform hands out, with public data only: a receipt's signature, its
inclusion in the bid log's Merkle tree, and that a later tree extends an earlier one."""

from collections.abc import Sequence
from typing import Any

from bidding import merkle, receipts
from schemas.bids import SignedReceipt


class NotVerified(ValueError):
    """A check failed; the message says which."""


def check_receipt(signed: SignedReceipt, platform_key: bytes) -> None:
    if not receipts.receipt_valid(signed, platform_key):
        raise NotVerified("the receipt's signature is not the platform key's")


def check_inclusion(
    signed: SignedReceipt,
    proof: dict[str, Any],
    root: str | None = None,
    tree_size: int | None = None,
) -> None:
    """``proof`` as served at /tenders/{ocid}/bid-log/inclusion; ``root`` and ``tree_size``
    the tree head you trust (the sealed one published at the close), else the proof's own.
    An audit path does not pin the tree size by itself, so a trusted root comes with its size.
    A receipt names no position (since positions are kept private until the close): the
    proof's leaf is the one checked; an older receipt's own position must be the proof's."""
    receipt = signed.receipt
    if tree_size is not None and int(proof.get("tree_size", -1)) != tree_size:
        raise NotVerified(f"the proof is for a tree of {proof.get('tree_size')}, not {tree_size}")
    leaf_index = proof.get("leaf_index")
    if not isinstance(leaf_index, int) or isinstance(leaf_index, bool) or leaf_index < 0:
        raise NotVerified(f"the proof names no leaf: leaf_index is {leaf_index!r}")
    if receipt.log_index is not None and leaf_index != receipt.log_index:
        raise NotVerified(
            f"the proof is for leaf {leaf_index}, the receipt is entry {receipt.log_index}"
        )
    expected = root if root is not None else proof["root"]
    if proof.get("root") != expected:
        raise NotVerified(f"the proof is against root {proof.get('root')}, not {expected}")
    if not merkle.verify_inclusion(
        receipts.leaf_hash(receipt),
        leaf_index,
        int(proof["tree_size"]),
        _hashes(proof["audit_path"]),
        bytes.fromhex(expected),
    ):
        raise NotVerified("the receipt is not in the tree with that root")


def check_consistency(proof: dict[str, Any]) -> None:
    """``proof`` as served at /tenders/{ocid}/bid-log/consistency."""
    if not merkle.verify_consistency(
        int(proof["first"]),
        int(proof["second"]),
        bytes.fromhex(proof["first_root"]),
        bytes.fromhex(proof["second_root"]),
        _hashes(proof["proof"]),
    ):
        raise NotVerified(
            f"the tree of {proof['second']} entries does not extend the tree of {proof['first']}"
        )


def _hashes(values: Sequence[str]) -> list[bytes]:
    try:
        return [bytes.fromhex(value) for value in values]
    except ValueError as error:
        raise NotVerified(f"a proof hash is not hex: {error}") from error
