"""Opening many bids in worker processes gives exactly what opening them in one thread
gives, tampered and foreign bids included."""

import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app.opening import open_in_parallel
from bidding import keys, opening, receipts, sealing
from schemas.events import BidSubmitted
from tests.unit.examples import BID, RECEIPT


def sealed_log(count: int, key: X25519PrivateKey) -> tuple[list[BidSubmitted], dict[str, bytes]]:
    entries, bidder_keys = [], {}
    for n in range(count):
        bidder = f"supplier-{n}"
        signer = Ed25519PrivateKey.generate()
        bidder_keys[bidder] = keys.raw_public(signer)
        content = BID.model_copy(update={"bidder_id": bidder})
        sealed = sealing.seal_bid(content, 1, keys.raw_public(key), signer)
        ciphertext = sealed.ciphertext if n % 7 else sealed.ciphertext[:-1] + b"\x00"  # tampered
        receipt = RECEIPT.model_copy(
            update={
                "bidder_id": bidder,
                "bid_id": f"bid-{n}",
                "log_index": n,
                "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
            }
        )
        entries.append(
            BidSubmitted(receipt=receipt, ciphertext=ciphertext, signature=sealed.signature)
        )
    return entries, bidder_keys


async def test_worker_processes_open_what_one_thread_opens() -> None:
    key = X25519PrivateKey.generate()
    entries, bidder_keys = sealed_log(24, key)
    recorded = {e.receipt.log_index: receipts.leaf_hash(e.receipt) for e in entries}
    in_thread = opening.open_bids(entries, key, recorded, bidder_keys)
    in_processes = await open_in_parallel(
        entries, key, recorded, bidder_keys, processes=2, parallel_from=1
    )
    assert in_processes == in_thread
    assert sum(o.content is None for o in in_processes) == 4  # bids 0, 7, 14, 21
    assert {o.reason_code for o in in_processes if o.content is None} == {"invalid_signature"}
