"""Bids sealed to a committee: the client's and the opening's cryptography, per suite.

Run from the repository root::

    .venv/bin/python -m benchmarks.bids_committee [--members N] [--threshold K] [--bids B]

No services: it measures, single-threaded, for a bid like ``examples/bid.json`` and a
committee of N members (threshold K), in the ``x25519`` and ``mlkem768-x25519`` suites:

- seal: ``committee_sealing.seal_bid`` end to end (content key, AES-256-GCM, Shamir split,
  one HPKE seal per member, the bidder's signature), median µs;
- the checks per bid at receipt and at the opening: the bidder's signature over the new
  fields, and the shares fitting the committee material, median µs;
- a member's work at the opening: decrypting its share of each of B bids, total ms;
- the platform's opening of B bids from K members' shares: each share checked against its
  digest, each key rebuilt and checked against its commitment, each bid decrypted, total ms
  and per bid.

It prints a table and writes the figures as JSON to ``--out``. It asserts nothing.
"""

import argparse
import hashlib
import json
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import committee_opening, committee_sealing, keys, receipts, shamir, suites
from bidding.committee_opening import CurrentBid
from schemas.bids import BidContent, Receipt, SealedBid
from schemas.committee import CommitteeMaterial, CommitteeMember, HandedShare

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "bid.json"


def median_us(operation: Callable[[], object], samples: int) -> float:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        operation()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def committee(
    suite: str, members: int, threshold: int, ocid: str
) -> tuple[CommitteeMaterial, dict[str, suites.MemberPrivateKeys]]:
    private = {f"officer-{n:02d}": suites.MemberPrivateKeys.generate() for n in range(members)}
    material = CommitteeMaterial(
        ocid=ocid,
        suite=suite,
        threshold=threshold,
        members=[
            CommitteeMember(
                officer_id=officer,
                encryption_key=keys_.public(suite),
                signing_key=keys.raw_public(Ed25519PrivateKey.generate()),
            )
            for officer, keys_ in sorted(private.items())
        ],
    )
    return material, private


def measure_suite(
    suite: str, content: BidContent, members: int, threshold: int, bids: int, samples: int
) -> dict[str, Any]:
    material, private = committee(suite, members, threshold, content.ocid)
    bidder = Ed25519PrivateKey.generate()
    bidder_public = keys.raw_public(bidder)
    seal_us = median_us(lambda: committee_sealing.seal_bid(content, 1, material, bidder), samples)
    sealed = [committee_sealing.seal_bid(content, 1, material, bidder) for _ in range(bids)]
    one = sealed[0]
    signature_us = median_us(
        lambda: committee_sealing.bid_signature_valid(one, bidder_public), samples
    )
    fits_us = median_us(lambda: committee_sealing.shares_match_material(one, material), samples)
    by_id = {f"bid-{n}": bid for n, bid in enumerate(sealed)}
    openers = sorted(private)[:threshold]
    started = time.perf_counter()
    handed = {
        officer: member_shares(suite, officer, private[officer], by_id) for officer in openers
    }
    member_ms = (time.perf_counter() - started) * 1e3 / len(openers)
    current = []
    for n, bid in enumerate(sealed):
        receipt = receipt_of(bid, n)
        current.append(CurrentBid(receipt, bid, receipts.leaf_hash(receipt)))
    started = time.perf_counter()
    held: dict[str, list[shamir.Share]] = {}
    for officer, shares in handed.items():
        for bid_id, share in committee_opening.check_handed_shares(officer, shares, by_id).items():
            held.setdefault(bid_id, []).append(share)
    results = committee_opening.open_bids(
        current, material, held, {content.bidder_id: bidder_public}
    )
    opening_ms = (time.perf_counter() - started) * 1e3
    assert all(result.content is not None for result in results)
    return {
        "suite": suite,
        "members": members,
        "threshold": threshold,
        "bids": bids,
        "bid_bytes": len(one.model_dump_json()),
        "seal_us": round(seal_us, 1),
        "check_signature_us": round(signature_us, 1),
        "check_shares_fit_committee_us": round(fits_us, 1),
        "member_decrypts_its_shares_ms": round(member_ms, 2),
        "platform_opening_ms": round(opening_ms, 2),
        "platform_opening_per_bid_us": round(opening_ms * 1e3 / bids, 1),
    }


def member_shares(
    suite: str,
    officer: str,
    private: suites.MemberPrivateKeys,
    bids: dict[str, SealedBid],
) -> list[HandedShare]:
    handed = []
    for bid_id, bid in bids.items():
        mine = next(s for s in bid.key_shares if s.officer_id == officer)
        share = committee_sealing.open_member_share(
            suite, bid.ocid, bid.lots, bid.bidder_id, bid.version,
            officer, mine.x, mine.sealed_share, private,
        )  # fmt: skip
        handed.append(HandedShare(bid_id=bid_id, x=mine.x, share=share))
    return handed


def receipt_of(bid: SealedBid, index: int) -> Receipt:
    return Receipt(
        kind="bid",
        bid_id=f"bid-{index}",
        ocid=bid.ocid,
        bidder_id=bid.bidder_id,
        lots=bid.lots,
        version=bid.version,
        ciphertext_sha256=hashlib.sha256(bid.ciphertext).hexdigest(),
        material_sha256=bid.material_sha256,
        shares_sha256=committee_sealing.shares_sha256(bid.key_shares),
        received_at=datetime.now(UTC),
        log_index=index,
    )


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--threshold", type=int, default=2)
    parser.add_argument("--bids", type=int, default=200, help="bids at the opening")
    parser.add_argument("--samples", type=int, default=200, help="for each median")
    parser.add_argument("--out", type=Path, default=Path("bench-results/bids-committee.json"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    content = BidContent.model_validate_json(EXAMPLE.read_text())
    rows = [
        measure_suite(suite, content, args.members, args.threshold, args.bids, args.samples)
        for suite in (suites.X25519, suites.HYBRID)
    ]
    for row in rows:
        print(json.dumps(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
