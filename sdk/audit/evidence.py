"""The award evidence (``GET /tenders/{ocid}/award-evidence``, docs/award-evidence.md) read
into the audit's own model, field by field, so that a missing or malformed field is named."""

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sdk.audit.model import (
    AuctionHistory,
    Award,
    Bid,
    Cancelled,
    Criterion,
    DecidedLot,
    Flag,
    PendingLot,
    PriceStep,
    QualityTerm,
    Row,
    Rules,
    Score,
    Terms,
)

_NEVER = datetime(1, 1, 1, tzinfo=UTC)  # the receipt time of a bid that was never opened
_PENDING = ("not_evaluated", "evaluation", "auction", "ranked", "unsuccessful")
_DECIDED = ("awarded", "cancelled")


class Malformed(ValueError):
    """The evidence lacks a field the audit needs, or a value is not what its format says."""


def lots(ocid: str, evidence: Any) -> list[DecidedLot | PendingLot]:
    if not isinstance(evidence, dict) or not isinstance(evidence.get("lots"), list):
        raise Malformed("the award evidence has no list of lots")
    if evidence.get("ocid") != ocid:
        raise Malformed(f"the award evidence is of {evidence.get('ocid')!r}, not {ocid}")
    return [_lot(ocid, lot) for lot in evidence["lots"]]


def _lot(ocid: str, lot: dict[str, Any]) -> DecidedLot | PendingLot:
    lot_id, status = str(_field(lot, "lot_id")), str(_field(lot, "status"))
    if status in _PENDING:
        return PendingLot(lot_id, status)
    where = f"lot {lot_id}"
    if status not in _DECIDED:
        raise Malformed(f"{where}: status {status!r} is neither pending nor decided")
    head = lot.get("bid_log")
    award = lot.get("award")
    return DecidedLot(
        ocid=ocid,
        lot_id=lot_id,
        status=status,
        rules=_rules(lot, where),
        bids=tuple(_bid(bid, f"{where} bid {bid.get('bid_id')}") for bid in _field(lot, "bids")),
        auction=_auction(lot["auction"], where) if lot.get("auction") else None,
        ranking=tuple(_row(row, f"{where} ranking") for row in _field(lot, "ranking")),
        award=None
        if award is None
        else Award(
            bid_id=str(_field(award, "bid_id", where)),
            bidder_id=str(_field(award, "bidder_id", where)),
            value=_amount(_field(award, "value", where), f"{where} award value"),
        ),
        sealed_tree_size=int(head["tree_size"]) if head else None,
        sealed_root=str(head["root"]) if head else None,
        cancellation=_cancellation(lot, where) if status == "cancelled" else None,
        annulled=frozenset(
            str(loss.get("bid_id"))
            for loss in lot.get("unsuccessful") or ()
            if isinstance(loss, dict) and loss.get("reason_code") == "award_annulled"
        ),
    )


def _cancellation(lot: dict[str, Any], where: str) -> Cancelled:
    cancellation = _field(lot, "cancellation", where)
    at = cancellation.get("cancelled_at")
    return Cancelled(
        event_type=str(_field(cancellation, "event_type", where)),
        sequence=int(_field(cancellation, "sequence", where)),
        reason=str(_field(cancellation, "reason", where)),
        cancelled_at=None if at is None else _time(at, f"{where} cancelled_at"),
    )


def _rules(lot: dict[str, Any], where: str) -> Rules:
    rules = _field(lot, "rules", where)
    estimate = _field(lot, "estimated_value", where)
    return Rules(
        award_criteria=str(_field(rules, "award_criteria", where)),
        price_weight=_decimal(_field(rules, "price_weight", where), f"{where} price_weight"),
        criteria=tuple(
            Criterion(str(_field(c, "id", where)), _decimal(_field(c, "weight", where), where))
            for c in _field(rules, "quality_criteria", where)
        ),
        abnormally_low_share=_decimal(
            _field(rules, "abnormally_low_share", where), f"{where} abnormally_low_share"
        ),
        estimated_value=_amount(estimate, f"{where} estimated value"),
        currency=str(_field(estimate, "currency", where)),
    )


def _bid(bid: dict[str, Any], where: str) -> Bid:
    opened = bool(_field(_field(bid, "opening", where), "opened", where))
    verdict = _field(bid, "qualification", where)
    flag, justification = bid.get("abnormally_low"), bid.get("justification")
    final = bid.get("final_price")
    received = bid.get("received_at")
    return Bid(
        bid_id=str(_field(bid, "bid_id", where)),
        bidder_id=str(_field(bid, "bidder_id", where)),
        received_at=_time(received, f"{where} received_at") if opened else _NEVER,
        opened=opened,
        price=_amount(bid["opened_price"], f"{where} opened price") if opened else Decimal(0),
        admissible=opened and verdict.get("verdict") == "qualified",
        verdict_reason=verdict.get("reason"),
        flag=None
        if flag is None
        else Flag(
            basis=str(_field(flag, "basis", where)),
            reference=_decimal(_field(flag, "reference", where), f"{where} reference"),
            share=_decimal(_field(flag, "share", where), f"{where} share"),
            threshold=_decimal(_field(flag, "threshold", where), f"{where} threshold"),
            decision=None if justification is None else justification.get("decision"),
        ),
        scores=tuple(_score(score, where) for score in bid.get("quality_scores") or ()),
        final_price=None if final is None else _amount(final, f"{where} final price"),
        receipt=bid.get("receipt"),
        leaf_index=bid.get("leaf_index"),
        leaf_hash=bid.get("leaf_hash"),
    )


def _score(score: dict[str, Any], where: str) -> Score:
    return Score(
        criterion_id=str(_field(score, "criterion_id", where)),
        officer_id=str(_field(score, "officer_id", where)),
        score=_decimal(_field(score, "score", where), f"{where} score"),
        revision=int(_field(score, "revision", where)),
        signature=str(_field(score, "signature", where)),
        signing_key=score.get("signing_key"),
    )


def _auction(auction: dict[str, Any], where: str) -> AuctionHistory:
    where = f"{where} auction"
    labels = auction.get("labels")
    if labels is None:
        raise Malformed(f"{where}: the labels of the bidders are not revealed")
    return AuctionHistory(
        steps=tuple(
            PriceStep(
                sequence=int(_field(step, "sequence", where)),
                label=str(_field(step, "label", where)),
                price=_decimal(_field(step, "price", where), f"{where} price"),
                at=_time(_field(step, "at", where), f"{where} at"),
                round=int(_field(step, "round", where)),
            )
            for step in _field(auction, "history", where)
        ),
        bidders={str(label["label"]): str(label["bidder_id"]) for label in labels},
        initial_prices={
            str(entrant["label"]): _decimal(entrant["initial_price"], f"{where} initial price")
            for entrant in auction.get("participants") or ()
        },
    )


def _row(row: dict[str, Any], where: str) -> Row:
    return Row(
        rank=int(_field(row, "rank", where)),
        bid_id=str(_field(row, "bid_id", where)),
        bidder_id=str(_field(row, "bidder_id", where)),
        price=_amount(_field(row, "price", where), f"{where} price"),
        price_score=_decimal(_field(row, "price_score", where), f"{where} price_score"),
        quality_part=_decimal(_field(row, "quality_part", where), f"{where} quality_part"),
        total=_decimal(_field(row, "total", where), f"{where} total"),
        terms=Terms(
            lowest_price=_decimal(_field(row, "lowest_price", where), f"{where} lowest_price"),
            price_weight=_decimal(_field(row, "price_weight", where), f"{where} price_weight"),
            quality=tuple(
                QualityTerm(
                    criterion_id=str(_field(term, "criterion_id", where)),
                    weight=_decimal(_field(term, "weight", where), f"{where} weight"),
                    scores=int(_field(term, "scores", where)),
                    score_sum=_decimal(_field(term, "score_sum", where), f"{where} score_sum"),
                )
                for term in row.get("quality_terms") or ()
            ),
        ),
    )


def _field(value: Any, name: str, where: str = "the evidence") -> Any:
    if not isinstance(value, dict) or value.get(name) is None:
        raise Malformed(f"{where}: no {name}")
    return value[name]


def _amount(value: Any, where: str) -> Decimal:
    return _decimal(value.get("amount") if isinstance(value, dict) else value, where)


def _decimal(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise Malformed(f"{where}: {value!r} is not a decimal number") from error


def _time(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise Malformed(f"{where}: {value!r} is not a time") from error
    if moment.tzinfo is None:
        raise Malformed(f"{where}: {value!r} has no time zone")
    return moment
