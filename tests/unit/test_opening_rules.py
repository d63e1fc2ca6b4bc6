"""What the opening does with a bid beyond decrypting it: a bid the evaluation could not take
(a lot the tender no longer has, another currency than its lot's) is rejected on its own
with its reason, and a bid that waited in vain for its reconfirmation is not opened. Pure."""

from datetime import date

from bidding.opening import Opened, bid_must_fit_the_tender, not_reconfirmed
from bidding.reconfirmation import Awaited
from schemas.bids import BidContent
from tests.unit.examples import OCID, RECEIPT

BIDDER = "supplier-RO-CUI-14399840"
RON = {"lot-1": "RON", "lot-2": "RON"}


def opened(*offers: tuple[str, str]) -> Opened:
    content = BidContent.model_validate(
        {
            "ocid": OCID,
            "bidder_id": BIDDER,
            "offers": [
                {"lot_id": lot, "price": {"amount": "100.00", "currency": currency}}
                for lot, currency in offers
            ],
            "valid_until": date(2027, 1, 1).isoformat(),
            "declaration": {
                "no_exclusion_grounds": True,
                "meets_selection_criteria": True,
                "is_sme": True,
            },
        }
    )
    return Opened("bid-1", BIDDER, 1, content)


def test_a_bid_for_the_tenders_lots_in_their_currency_goes_on() -> None:
    """Nothing to reject: the bid is handed to the evaluation as it opened."""
    bid = opened(("lot-1", "RON"), ("lot-2", "RON"))
    assert bid_must_fit_the_tender(bid, RON) == bid


def test_a_bid_in_another_currency_is_rejected_with_both_currencies() -> None:
    """One EUR offer among RON lots rejects the bid, naming both currencies."""
    rejected = bid_must_fit_the_tender(opened(("lot-1", "RON"), ("lot-2", "EUR")), RON)
    assert (rejected.content, rejected.reason_code) == (None, "wrong_currency")
    assert rejected.reason is not None
    assert "EUR" in rejected.reason
    assert "RON" in rejected.reason
    assert rejected.event().reason_code == "wrong_currency"  # type: ignore[union-attr]


def test_a_bid_for_a_lot_the_tender_no_longer_has_is_rejected() -> None:
    """A lot an amendment removed rejects the bid, naming the lot."""
    rejected = bid_must_fit_the_tender(opened(("lot-3", "RON")), RON)
    assert rejected.reason_code == "unknown_lot"
    assert rejected.reason is not None
    assert "lot-3" in rejected.reason


def test_a_bid_already_rejected_keeps_its_reason() -> None:
    """A bid that did not decrypt is not judged again."""
    tampered = Opened("bid-1", BIDDER, 1, None, "tampered", "altered")
    assert bid_must_fit_the_tender(tampered, RON) == tampered


def test_a_bid_never_reconfirmed_is_rejected_unopened() -> None:
    """Its reason names the amendment it waited for."""
    rejected = not_reconfirmed(RECEIPT, Awaited(RECEIPT.bid_id, 1, "ab" * 32))
    assert (rejected.content, rejected.reason_code) == (None, "not_reconfirmed")
    assert rejected.reason is not None
    assert "ab" * 32 in rejected.reason
