"""Award evidence written by hand in the documented shape (docs/award-evidence.md), for the
audit's tests: a best price-quality lot, a tie, an auction and a rejected abnormally low bid.
The numbers are worked out by hand from the published rule."""

import base64
import copy
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys

OCID = "ocds-audit-000001"
MEMBER_KEY = Ed25519PrivateKey.generate()
MEMBER_PUBLIC = base64.b64encode(keys.raw_public(MEMBER_KEY)).decode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def signed_score(
    lot: str, bid: str, criterion: str, score: str, revision: int = 1
) -> dict[str, Any]:
    fields = {
        "ocid": OCID,
        "lot_id": lot,
        "bid_id": bid,
        "criterion_id": criterion,
        "officer_id": "m-1",
        "score": str(Decimal(score).quantize(Decimal("0.01"))),
        "revision": revision,
    }
    signature = keys.sign(MEMBER_KEY, "procurement-quality-score/1", fields)
    return {
        "criterion_id": criterion,
        "officer_id": "m-1",
        "score": score,
        "revision": revision,
        "purpose": "procurement-quality-score/1",
        "signature": _b64(signature),
        "signing_key": MEMBER_PUBLIC,
    }


def bid(
    bid_id: str,
    price: str,
    received_at: str,
    *,
    scores: list[dict[str, Any]] | None = None,
    verdict: str = "qualified",
    flag: dict[str, Any] | None = None,
    decision: str | None = None,
    final_price: str | None = None,
) -> dict[str, Any]:
    return {
        "bid_id": bid_id,
        "bidder_id": f"s-{bid_id}",
        "receipt": None,
        "leaf_index": None,
        "leaf_hash": None,
        "received_at": received_at,
        "opening": {"opened": True},
        "opened_price": {"amount": price, "currency": "RON"},
        "qualification": {"verdict": verdict, "reason": None},
        "abnormally_low": flag,
        "justification": None if decision is None else {"decision": decision, "reason": "r"},
        "quality_scores": scores or [],
        "final_price": None if final_price is None else {"amount": final_price, "currency": "RON"},
    }


def row(
    rank: int,
    bid_id: str,
    price: str,
    by_price: str,
    quality: str,
    total: str,
    *,
    lowest: str,
    weight: str = "100",
    terms: tuple[tuple[str, str, int, str], ...] = (),
) -> dict[str, Any]:
    """A ranking row; ``terms`` are (criterion, weight, members who scored, sum of scores)."""
    return {
        "rank": rank,
        "bid_id": bid_id,
        "bidder_id": f"s-{bid_id}",
        "price": {"amount": price, "currency": "RON"},
        "lowest_price": lowest,
        "price_weight": weight,
        "price_score": by_price,
        "quality_terms": [
            {"criterion_id": c, "weight": w, "scores": n, "score_sum": total_}
            for c, w, n, total_ in terms
        ],
        "quality_part": quality,
        "total": total,
        "received_at": "2026-12-01T09:00:00+00:00",
    }


def lot(
    lot_id: str,
    bids: list[dict[str, Any]],
    ranking: list[dict[str, Any]],
    *,
    estimate: str,
    price_weight: str = "100",
    criteria: list[dict[str, Any]] | None = None,
    auction: dict[str, Any] | None = None,
) -> dict[str, Any]:
    winner = ranking[0]
    return {
        "lot_id": lot_id,
        "status": "awarded",
        "estimated_value": {"amount": estimate, "currency": "RON"},
        "rules": {
            "award_criteria": "ratedCriteria" if criteria else "priceOnly",
            "price_weight": price_weight,
            "quality_criteria": criteria or [],
            "abnormally_low_share": "80",
        },
        "bid_log": {"tree_size": 4, "root": "00" * 32},
        "bids": bids,
        "auction": auction,
        "ranking": ranking,
        "award": {
            "award_id": f"{lot_id}:{winner['bid_id']}",
            "bid_id": winner["bid_id"],
            "bidder_id": winner["bidder_id"],
            "value": winner["price"],
        },
        "unsuccessful": [],
    }


T9, T10, T11 = "2026-12-01T09:00:00+00:00", "2026-12-01T10:00:00+00:00", "2026-12-01T11:00:00+00:00"


def _rated(score: str) -> dict[str, Any]:
    return {"lowest": "800", "weight": "60", "terms": (("q", "40", 1, score),)}


# Best price-quality: 60 for price, 40 for quality; lowest price 800.
QUALITY = lot(
    "quality",
    [
        bid("b-1", "900", T9, scores=[signed_score("quality", "b-1", "q", "90")]),
        bid("b-2", "800", T10, scores=[signed_score("quality", "b-2", "q", "50")]),
        bid("b-3", "1000", T11, scores=[signed_score("quality", "b-3", "q", "100")]),
    ],
    [
        row(1, "b-1", "900", "53.3333", "36.0000", "89.3333", **_rated("90")),
        row(2, "b-3", "1000", "48.0000", "40.0000", "88.0000", **_rated("100")),
        row(3, "b-2", "800", "60.0000", "20.0000", "80.0000", **_rated("50")),
    ],
    estimate="1000",
    price_weight="60",
    criteria=[{"id": "q", "name": "Quality", "weight": "40"}],
)

# Two equal prices: the bid received first (b-2, at 09:00) wins.
TIE = lot(
    "tie",
    [bid("b-1", "500", T10), bid("b-2", "500", T9)],
    [
        row(1, "b-2", "500", "100.0000", "0.0000", "100.0000", lowest="500"),
        row(2, "b-1", "500", "100.0000", "0.0000", "100.0000", lowest="500"),
    ],
    estimate="600",
)

# An auction: b-1 opened at 1000, b-2 at 1100; Bidder 1 is b-2's, Bidder 2 b-1's.
AUCTION = lot(
    "auctioned",
    [
        bid("b-1", "1000", T9, final_price="940"),
        bid("b-2", "1100", T10, final_price="930"),
    ],
    [
        row(1, "b-2", "930", "100.0000", "0.0000", "100.0000", lowest="930"),
        row(2, "b-1", "940", "98.9362", "0.0000", "98.9362", lowest="930"),
    ],
    estimate="1100",
    auction={
        "participants": [
            {"label": "Bidder 1", "initial_price": "1100", "quality_part": "0"},
            {"label": "Bidder 2", "initial_price": "1000", "quality_part": "0"},
        ],
        "history": [
            {"sequence": 1, "label": "Bidder 1", "price": "950.00", "at": T10, "round": 1},
            {"sequence": 2, "label": "Bidder 2", "price": "940.00", "at": T10, "round": 1},
            {"sequence": 3, "label": "Bidder 1", "price": "930.00", "at": T11, "round": 1},
        ],
        "labels": [
            {"label": "Bidder 1", "bidder_id": "s-b-2", "bid_id": "b-2"},
            {"label": "Bidder 2", "bidder_id": "s-b-1", "bid_id": "b-1"},
        ],
    },
)

# b-1 at 500 is below 80 % of the others' average (1050): flagged, its justification rejected.
ABNORMALLY_LOW = lot(
    "low",
    [
        bid(
            "b-1",
            "500",
            T9,
            flag={
                "price": {"amount": "500", "currency": "RON"},
                "basis": "others_average",
                "reference": "1050.00",
                "share": "80",
                "threshold": "840.00",
            },
            decision="rejected",
        ),
        bid("b-2", "1000", T10),
        bid("b-3", "1100", T11),
    ],
    [
        row(1, "b-2", "1000", "100.0000", "0.0000", "100.0000", lowest="1000"),
        row(2, "b-3", "1100", "90.9091", "0.0000", "90.9091", lowest="1000"),
    ],
    estimate="1000",
)


def evidence(*lots: dict[str, Any]) -> dict[str, Any]:
    return {"ocid": OCID, "lots": copy.deepcopy(list(lots))}
