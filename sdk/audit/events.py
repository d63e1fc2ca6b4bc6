"""The award evidence against the logged events it summarises: the same rules, bids, prices,
verdicts, scores, flags, auction prices, ranking and award. The events are read from their
documents in the transparency log (``payload.event`` is the event as recorded)."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sdk.audit.model import DecidedLot
from sdk.audit.report import Check, failed, outcome, pending
from sdk.audit.transparency import LoggedEvent


def check_lot_against_events(
    lot: DecidedLot,
    evaluation: Sequence[LoggedEvent],
    auction: Sequence[LoggedEvent] | None,
    opened: dict[str, dict[str, Any]],
) -> Check:
    """``opened``: each ``BidOpened`` event of the bid log, by bid id."""
    subject = f"{lot.ocid} lot {lot.lot_id}: evidence matches the logged events"
    withheld = [e for e in evaluation if e.document is None]
    if not evaluation:
        return failed(subject, "no evaluation event is logged")
    if withheld:
        until = withheld[0].withheld_until
        # Served once every lot is decided: the opened prices of the others are in them.
        return pending(subject, f"{len(withheld)} evaluation events are served {until}")
    problems = _bids(lot, evaluation, opened)
    problems += _decisions(lot, evaluation)
    problems += _award(lot, evaluation)
    if lot.auction is not None:
        problems += _auction(lot, auction)
    decision = "ranking and award" if lot.cancellation is None else "no award"
    verified = f"rules, {len(lot.bids)} bids, verdicts, scores, flags, {decision} as logged"
    return outcome(subject, problems, verified)


def _of(events: Sequence[LoggedEvent], *types: str) -> list[dict[str, Any]]:
    return [e.event for e in events if e.type in types]


def _dec(value: Any) -> Decimal | None:
    if isinstance(value, dict):
        value = value.get("amount")
    return None if value is None else Decimal(str(value))


def _bids(
    lot: DecidedLot, evaluation: Sequence[LoggedEvent], opened: dict[str, dict[str, Any]]
) -> list[str]:
    started = _of(evaluation, "EvaluationStarted")
    if not started:
        return ["no EvaluationStarted event"]
    facts, problems = started[0].get("facts", {}), []
    rules = lot.rules
    weights = {c["id"]: _dec(c["weight"]) for c in facts.get("quality_criteria", ())}
    estimate = next((_dec(x["estimated_value"]) for x in facts.get("lots", ()) if x["lot_id"] == lot.lot_id), None)  # fmt: skip
    if (
        _dec(facts.get("price_weight")) != rules.price_weight
        or _dec(facts.get("abnormally_low_share")) != rules.abnormally_low_share
        or weights != {c.criterion_id: c.weight for c in rules.criteria}
        or estimate != rules.estimated_value
    ):
        problems.append("the rules differ from the evaluation's facts")
    logged = {}
    for bid in started[0].get("bids", ()):
        for offer in bid.get("offers", ()):
            if offer.get("lot_id") == lot.lot_id:
                logged[bid["bid_id"]] = (bid["bidder_id"], _dec(offer["price"]), bid["received_at"])
    published = {b.bid_id: b for b in lot.bids if b.opened}
    for bid_id in sorted(set(logged) - set(published)):
        problems.append(f"bid {bid_id} was opened for the lot but is missing from the evidence")
    for bid_id in sorted(set(published) - set(logged)):
        problems.append(f"bid {bid_id} is in the evidence but was not opened for the lot")
    for bid_id in sorted(set(logged) & set(published)):
        bid, (bidder, price, received) = published[bid_id], logged[bid_id]
        if (bid.bidder_id, bid.price) != (bidder, price):
            problems.append(
                f"bid {bid_id}: {bid.bidder_id} {bid.price} published, {bidder} {price} logged"
            )
        if bid.received_at.isoformat() != _iso(received):
            problems.append(
                f"bid {bid_id}: received {bid.received_at.isoformat()}, logged {received}"
            )
        content = opened.get(bid_id)
        offers = (content or {}).get("content", {}).get("offers", ())
        as_opened = next((_dec(o["price"]) for o in offers if o.get("lot_id") == lot.lot_id), None)
        if as_opened != bid.price:
            problems.append(
                f"bid {bid_id}: price {bid.price} published, {as_opened} in its BidOpened event"
            )
    return problems


def _decisions(lot: DecidedLot, evaluation: Sequence[LoggedEvent]) -> list[str]:
    problems = []
    verdicts: dict[str, bool] = {}
    for e in evaluation:
        if e.type in ("BidQualified", "BidDisqualified") and lot.lot_id in e.event.get(
            "lot_ids", ()
        ):
            verdicts[e.event["bid_id"]] = e.type == "BidQualified"
    scores: dict[tuple[str, str, str], tuple[Decimal | None, int, str]] = {}
    for s in _of(evaluation, "QualityScored"):
        if s.get("lot_id") == lot.lot_id:
            key = (s["bid_id"], s["criterion_id"], s["officer_id"])
            if key not in scores or s["revision"] > scores[key][1]:
                scores[key] = (_dec(s["score"]), s["revision"], s["signature"])
    flags = {
        f["bid_id"]: f for f in _of(evaluation, "AbnormallyLowFlagged") if f["lot_id"] == lot.lot_id
    }
    decisions = {
        d["bid_id"]: "accepted"
        if "reason" in d and e.type == "JustificationAccepted"
        else "rejected"
        for e in evaluation
        if e.type in ("JustificationAccepted", "JustificationRejected")
        for d in [e.event]
        if d.get("lot_id") == lot.lot_id
    }
    for bid in (b for b in lot.bids if b.opened):
        if verdicts.get(bid.bid_id) != bid.admissible:
            problems.append(f"bid {bid.bid_id}: verdict differs from the logged one")
        mine = {
            (bid.bid_id, s.criterion_id, s.officer_id): (s.score, s.revision, s.signature)
            for s in bid.scores
        }
        theirs = {k: v for k, v in scores.items() if k[0] == bid.bid_id}
        latest = {k: v for k, v in mine.items() if theirs.get(k, (None, 0))[1] == v[1]}
        if latest != theirs:
            problems.append(f"bid {bid.bid_id}: quality scores differ from the logged ones")
        flag = flags.get(bid.bid_id)
        if (flag is None) != (bid.flag is None) or (
            flag is not None
            and bid.flag is not None
            and (flag["basis"], _dec(flag["threshold"]), decisions.get(bid.bid_id))
            != (bid.flag.basis, bid.flag.threshold, bid.flag.decision)
        ):
            problems.append(
                f"bid {bid.bid_id}: abnormally low flag or decision differs from the log"
            )
    return problems


def _award(lot: DecidedLot, evaluation: Sequence[LoggedEvent]) -> list[str]:
    if lot.cancellation is not None:
        return []  # no award stands: the cancellation's own check verifies it
    cancelled = [e for e in evaluation if _cancels(e, lot.lot_id)]
    if cancelled:
        found = cancelled[-1]
        return [f"the lot is published as awarded, but {found.type} #{found.sequence} is logged"]
    awards = [a for a in _of(evaluation, "AwardDecided") if a.get("lot_id") == lot.lot_id]
    if lot.award is None:
        return [f"an AwardDecided event is logged for {awards[-1]['bid_id']}"] if awards else []
    if not awards:
        return ["no AwardDecided event is logged for the lot"]
    logged, problems = awards[-1], []
    if (logged["bid_id"], _dec(logged["value"])) != (lot.award.bid_id, lot.award.value):
        problems.append(f"the award is logged to {logged['bid_id']} for {_dec(logged['value'])}")
    rows = [(r["bid_id"], _dec(r["price"]), _dec(r["total"])) for r in logged.get("ranking", ())]
    if rows != [(r.bid_id, r.price, r.total) for r in lot.ranking]:
        problems.append("the ranking differs from the one logged with the award")
    finals = {
        p["bid_id"]: _dec(p["price"])
        for r in _of(evaluation, "AuctionResultRecorded")
        if r.get("lot_id") == lot.lot_id
        for p in r["final_prices"]
    }
    for bid in lot.bids:
        if bid.bid_id in finals and finals[bid.bid_id] != bid.final_price:
            problems.append(
                f"bid {bid.bid_id}: final price {bid.final_price}, logged {finals[bid.bid_id]}"
            )
    return problems


def _cancels(logged: LoggedEvent, lot_id: str) -> bool:
    event = logged.event
    return (
        logged.type == "ProcedureCancelled"
        or (logged.type == "LotCancelled" and event.get("lot_id") == lot_id)
        or (
            logged.type == "ComplaintUpheld"
            and event.get("lot_id") == lot_id
            and event.get("remedy") == "cancel"
        )
    )


def _auction(lot: DecidedLot, auction: Sequence[LoggedEvent] | None) -> list[str]:
    assert lot.auction is not None
    if not auction:
        return ["the auction's events are not in the log"]
    if any(e.document is None for e in auction):
        return ["the auction's events are withheld"]
    logged = [
        (p["sequence"], p["bidder_id"], _dec(p["price"]))
        for p in _of(auction, "AuctionPriceAccepted")
    ]
    history = [(s.sequence, lot.auction.bidders.get(s.label), s.price) for s in lot.auction.steps]
    if sorted(logged) != sorted(history):
        return [
            f"the auction's price history ({len(history)} prices) is not its {len(logged)} logged prices"
        ]
    return []


def _iso(value: str) -> str:
    return datetime.fromisoformat(value).isoformat()
