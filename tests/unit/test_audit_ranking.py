"""The audit recomputes each lot's ranking and award from the published rules and the
evidence alone, and names what differs when the evidence was tampered with."""

from typing import Any

import pytest

from sdk.audit import evidence as read
from sdk.audit.model import DecidedLot
from sdk.audit.ranking import check_lot
from sdk.audit.report import Check
from sdk.audit.scores import check_scores
from tests.unit.audit_examples import ABNORMALLY_LOW, AUCTION, OCID, QUALITY, TIE, evidence


def decided(lot: dict[str, Any]) -> DecidedLot:
    (only,) = read.lots(OCID, evidence(lot))
    assert isinstance(only, DecidedLot)
    return only


def failures(checks: list[Check]) -> list[str]:
    return [check.line for check in checks if not check.ok]


@pytest.mark.parametrize(
    "lot", [QUALITY, TIE, AUCTION, ABNORMALLY_LOW], ids=lambda lot: lot["lot_id"]
)
def test_a_faithful_lot_recomputes_to_its_published_ranking_and_award(lot: dict[str, Any]) -> None:
    """Best price-quality, a tie, an auction and a rejected abnormally low bid all verify."""
    checks = check_lot(decided(lot))
    assert failures(checks) == []
    assert {check.subject.rsplit(": ", 1)[1] for check in checks} >= {"ranking", "award"}


def test_a_changed_price_fails_the_ranking() -> None:
    """An opened price altered in the evidence no longer gives the published scores."""
    lot = evidence(QUALITY)["lots"][0]
    lot["bids"][1]["opened_price"]["amount"] = "850"
    problems = failures(check_lot(decided(lot)))
    assert any("ranking" in p and "b-2: price published 800, recomputed 850" in p for p in problems)


def test_a_dropped_bid_fails_the_ranking() -> None:
    """A bid missing from the evidence cannot be in the ranking: the audit names it."""
    lot = evidence(QUALITY)["lots"][0]
    del lot["bids"][2]
    problems = failures(check_lot(decided(lot)))
    assert any("not entitled ['b-3']" in p for p in problems)


def test_a_wrong_tie_break_is_named_as_such() -> None:
    """Two equal totals must go to the bid received first, and the message says so."""
    lot = evidence(TIE)["lots"][0]
    lot["ranking"].reverse()
    lot["award"]["bid_id"] = "b-1"
    problems = failures(check_lot(decided(lot)))
    assert any("tie at 100.0000 points" in p and "received first, b-2" in p for p in problems)
    assert any("award" in p and "b-2 ranks first" in p for p in problems)


def test_an_auction_final_price_that_is_not_the_last_price_fails() -> None:
    """The final price is recomputed from the auction's history of accepted prices."""
    lot = evidence(AUCTION)["lots"][0]
    lot["bids"][1]["final_price"]["amount"] = "920"
    problems = failures(check_lot(decided(lot)))
    assert any("b-2's final price is published as 920" in p and "930" in p for p in problems)


def test_a_price_dropped_from_the_auction_history_changes_the_ranking() -> None:
    """Without b-2's last price, the recomputed ranking differs from the published one."""
    lot = evidence(AUCTION)["lots"][0]
    del lot["auction"]["history"][2]
    problems = failures(check_lot(decided(lot)))
    assert any("auction final prices" in p for p in problems)
    assert any("ranking" in p for p in problems)


def test_a_bid_whose_justification_was_rejected_leaves_the_ranking() -> None:
    """Were the rejected bid ranked first, the audit would say it should not be there."""
    lot = evidence(ABNORMALLY_LOW)["lots"][0]
    lot["bids"][0]["justification"]["decision"] = "accepted"
    problems = failures(check_lot(decided(lot)))
    assert any("missing ['b-1']" in p for p in problems)


def test_an_unflagged_abnormally_low_price_fails() -> None:
    """A price below the threshold must be flagged, with the basis the rule gives."""
    lot = evidence(ABNORMALLY_LOW)["lots"][0]
    lot["bids"][0]["abnormally_low"]["basis"] = "estimated_value"
    problems = failures(check_lot(decided(lot)))
    assert any("the rule gives others_average 1050.00, threshold 840.00" in p for p in problems)


def test_signed_scores_verify_with_the_members_key() -> None:
    """Every score of a best price-quality lot is signed by the member who gave it."""
    assert check_scores(decided(QUALITY)).ok


def test_a_wrong_score_signature_fails() -> None:
    """A score changed after it was signed no longer verifies."""
    lot = evidence(QUALITY)["lots"][0]
    lot["bids"][0]["quality_scores"][0]["score"] = "95"
    check = check_scores(decided(lot))
    assert not check.ok
    assert "m-1's score 95 of q for b-1: the signature does not verify" in check.detail


def test_a_score_signed_with_a_key_other_than_the_registered_one_fails() -> None:
    """The key given with the score must be the member's published committee key."""
    check = check_scores(decided(QUALITY), registered={"m-1": "c29tZW9uZSBlbHNl"})
    assert not check.ok
    assert "not the committee key the platform publishes for m-1" in check.detail


def test_a_published_term_of_the_formula_that_is_not_the_rules_fails() -> None:
    """The lowest price and quality terms shown beside each row must be the rule's."""
    lot = evidence(QUALITY)["lots"][0]
    lot["ranking"][0]["lowest_price"] = "850"
    lot["ranking"][1]["quality_terms"][0]["score_sum"] = "90"
    problems = failures(check_lot(decided(lot)))
    assert any("b-1: published with lowest price 850" in p for p in problems)
    assert any("b-3: its quality terms are not the latest signed scores" in p for p in problems)


def test_an_auction_that_started_from_another_price_than_the_opened_one_fails() -> None:
    """Each participant's starting price is its bid's price as opened."""
    lot = evidence(AUCTION)["lots"][0]
    lot["auction"]["participants"][0]["initial_price"] = "1050"
    problems = failures(check_lot(decided(lot)))
    assert any("Bidder 1 started from 1050, but bid b-2 opened at 1100" in p for p in problems)
