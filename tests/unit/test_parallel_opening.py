"""Opening many bids in worker processes gives exactly what opening them in one thread
gives, tampered and foreign bids included."""

import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.opening import open_in_parallel
from bidding import committee_opening, committee_sealing, keys, receipts, shamir, suites
from bidding.committee_opening import CurrentBid
from schemas.committee import CommitteeMaterial, CommitteeMember
from tests.unit.examples import BID, OCID, RECEIPT

MEMBERS = [suites.MemberPrivateKeys.generate() for _ in range(3)]
MATERIAL = CommitteeMaterial(
    ocid=OCID,
    suite="x25519",
    threshold=2,
    members=[
        CommitteeMember(
            officer_id=f"officer-{n}",
            encryption_key=member.public("x25519"),
            signing_key=keys.raw_public(Ed25519PrivateKey.generate()),
        )
        for n, member in enumerate(MEMBERS, start=1)
    ],
)


def sealed_log(
    count: int,
) -> tuple[list[CurrentBid], dict[str, list[shamir.Share]], dict[str, bytes]]:
    current, shares, bidder_keys = [], {}, {}
    for n in range(count):
        bidder = f"supplier-{n}"
        signer = Ed25519PrivateKey.generate()
        bidder_keys[bidder] = keys.raw_public(signer)
        content = BID.model_copy(update={"bidder_id": bidder})
        sealed = committee_sealing.seal_bid(content, 1, MATERIAL, signer)
        ciphertext = sealed.ciphertext if n % 7 else sealed.ciphertext[:-1] + b"\x00"  # tampered
        receipt = RECEIPT.model_copy(
            update={
                "bidder_id": bidder,
                "bid_id": f"bid-{n}",
                "log_index": n,
                "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
            }
        )
        bid = sealed.model_copy(update={"ciphertext": ciphertext})
        current.append(CurrentBid(receipt, bid, receipts.leaf_hash(receipt)))
        shares[receipt.bid_id] = [
            shamir.Share.from_bytes(
                committee_sealing.open_member_share(
                    "x25519", bid.ocid, bid.lots, bid.bidder_id, bid.version,
                    share.officer_id, share.x, share.sealed_share, MEMBERS[share.x - 1],
                )
            )
            for share in bid.key_shares[:2]
        ]  # fmt: skip
    return current, shares, bidder_keys


async def test_worker_processes_open_what_one_thread_opens() -> None:
    current, shares, bidder_keys = sealed_log(24)
    in_thread = committee_opening.open_bids(current, MATERIAL, shares, bidder_keys)
    in_processes = await open_in_parallel(
        current, MATERIAL, shares, bidder_keys, processes=2, parallel_from=1
    )
    assert in_processes == in_thread
    assert sum(o.content is None for o in in_processes) == 4  # bids 0, 7, 14, 21
    assert {o.reason_code for o in in_processes if o.content is None} == {"invalid_signature"}
