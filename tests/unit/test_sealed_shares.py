"""Handed-in shares as the database holds them: sealed under a key derived from the
platform's signing key, each bound to its tender, member and bid."""

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.postgres.sealed_shares import SealedShares, share_key
from bidding import shamir

OCID = "ocds-test00-000001"
SHARES = {"bid-a": shamir.Share(x=1, y=12345), "bid-b": shamir.Share(x=1, y=2**500 + 7)}


class Table:
    """The sealed_shares table, as the adapter's three statements use it."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], bytes] = {}

    async def execute(self, query: str, *args: Any) -> None:
        if query.startswith("INSERT"):
            ocid, officer, bids, sealed = args
            self.rows.update({(ocid, officer, b): s for b, s in zip(bids, sealed, strict=True)})
        else:
            self.rows = {k: v for k, v in self.rows.items() if k[0] != args[0]}

    async def fetch(self, query: str, ocid: str) -> list[dict[str, Any]]:
        return [
            {"officer_id": k[1], "bid_id": k[2], "sealed": v}
            for k, v in self.rows.items()
            if k[0] == ocid
        ]


async def test_held_shares_round_trip_and_are_never_in_the_clear() -> None:
    """What is kept comes back as it was handed in, and no row holds a share's bytes."""
    vault, table = SealedShares.of(Ed25519PrivateKey.generate()), Table()
    await vault.keep(table, OCID, "officer-1", SHARES)
    assert await vault.held(table, OCID) == {"officer-1": SHARES}
    for share in SHARES.values():
        assert all(share.to_bytes()[1:] not in sealed for sealed in table.rows.values())
    await vault.drop(table, OCID)
    assert table.rows == {}


async def test_a_row_moved_to_another_bid_or_member_does_not_open() -> None:
    """An operator swapping rows in the database cannot make one bid's share pass for
    another's, or one member's for another's: that member counts as not handed in."""
    vault, table = SealedShares.of(Ed25519PrivateKey.generate()), Table()
    await vault.keep(table, OCID, "officer-1", SHARES)
    await vault.keep(table, OCID, "officer-2", SHARES)
    one, two = table.rows[(OCID, "officer-1", "bid-a")], table.rows[(OCID, "officer-1", "bid-b")]
    table.rows[(OCID, "officer-1", "bid-a")], table.rows[(OCID, "officer-1", "bid-b")] = two, one
    table.rows[(OCID, "officer-2", "bid-a")] = one
    assert await vault.held(table, OCID) == {}


async def test_another_deployments_key_opens_nothing() -> None:
    """The database alone, or with another platform key, reveals no share."""
    table = Table()
    await SealedShares.of(Ed25519PrivateKey.generate()).keep(table, OCID, "officer-1", SHARES)
    assert await SealedShares.of(Ed25519PrivateKey.generate()).held(table, OCID) == {}


def test_the_share_key_is_the_signing_keys_own_derivation() -> None:
    """The same key file gives every API process the same key; another file another one."""
    signing = Ed25519PrivateKey.generate()
    assert share_key(signing) == share_key(signing)
    assert len(share_key(signing)) == 32
    assert share_key(signing) != share_key(Ed25519PrivateKey.generate())
