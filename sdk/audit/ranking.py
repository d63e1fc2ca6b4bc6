"""A lot's award recomputed from the published rules and the evidence alone.

Written from the rule as the platform documents it, not from its code:

- **Final prices.** Without an auction, each bid's price as opened. With one, each bidder's
  last accepted price in the auction's history (in sequence order), or its opened price if it
  sent none; the history's labels are mapped to bidders by the map revealed at the close.
- **Abnormally low.** Among the admissible bids, on their final prices: a price strictly
  below ``abnormally_low_share`` % of the average of the *other* admissible bids' prices, or
  else of the lot's estimated value, each threshold rounded half up to the cent. The others'
  average is tried first and named as the basis when both apply. A flagged bid whose
  justification was rejected leaves the ranking; one still undecided cannot win.
- **Score.** ``price score = price_weight * lowest price / price`` over the bids left in the
  ranking; ``quality part = Σ over criteria of weight * (average of the members' latest
  scores) / 100``; each computed to 28 significant digits and rounded once, half up, to
  0.0001 point; ``total = price score + quality part``. Weights and shares are percentages.
- **Order.** Highest total first; a tie goes to the price reached first: a price lowered in
  the auction by the sequence number of the accepted price that set it, earlier first; a
  price as opened counts as reached before any auction price, and among those the bid
  received first (``received_at``), then the lower ``bid_id``, wins. The auction's live
  ranking applies the same rule, so the award follows it. The award goes to the first of
  the ranking.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from itertools import pairwise

from sdk.audit.model import Bid, DecidedLot, QualityTerm, Row, Rules, Score, Terms
from sdk.audit.report import Check, failed, outcome, passed

POINT = Decimal("0.0001")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
_ARITHMETIC = Context(prec=28, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ExpectedFlag:
    bid_id: str
    basis: str
    reference: Decimal  # to the cent, as published
    threshold: Decimal


@dataclass(frozen=True)
class Recomputed:
    final_prices: dict[str, Decimal]  # every admissible bid
    flags: dict[str, ExpectedFlag]
    ranking: tuple[Row, ...]


def latest_scores(bid: Bid) -> list[Score]:
    """Each member's latest score (highest revision) of each criterion."""
    latest: dict[tuple[str, str], Score] = {}
    for score in bid.scores:
        key = (score.criterion_id, score.officer_id)
        if key not in latest or score.revision > latest[key].revision:
            latest[key] = score
    return list(latest.values())


def quality_terms(rules: Rules, bid: Bid) -> tuple[QualityTerm, ...]:
    """Per criterion, how many members scored the bid and the sum of their latest scores."""
    scores = latest_scores(bid)
    terms = []
    for criterion in rules.criteria:
        given = [s.score for s in scores if s.criterion_id == criterion.criterion_id]
        terms.append(
            QualityTerm(
                criterion.criterion_id, criterion.weight, len(given), sum(given, Decimal(0))
            )
        )
    return tuple(terms)


def quality_part(terms: tuple[QualityTerm, ...]) -> Decimal:
    with localcontext(_ARITHMETIC):
        part = Decimal(0)
        for term in terms:
            if term.scores:
                part += term.weight * term.score_sum / (term.scores * HUNDRED)
        return part.quantize(POINT)


def price_score(weight: Decimal, lowest: Decimal, price: Decimal) -> Decimal:
    with localcontext(_ARITHMETIC):
        return (weight * lowest / price).quantize(POINT)


def auction_final_prices(lot: DecidedLot) -> dict[str, Decimal]:
    """Each admissible bid's final price: its last accepted auction price, else as opened."""
    finals = {bid.bid_id: bid.price for bid in lot.bids if bid.admissible}
    if lot.auction is None:
        return finals
    by_bidder = {bid.bidder_id: bid.bid_id for bid in lot.bids if bid.admissible}
    for step in sorted(lot.auction.steps, key=lambda step: step.sequence):
        bid_id = by_bidder.get(lot.auction.bidders.get(step.label, ""))
        if bid_id is not None:
            finals[bid_id] = step.price
    return finals


def auction_sequences(lot: DecidedLot) -> dict[str, int]:
    """For each bid lowered in the auction, the sequence number of its last accepted price."""
    if lot.auction is None:
        return {}
    by_bidder = {bid.bidder_id: bid.bid_id for bid in lot.bids if bid.admissible}
    reached = {}
    for step in sorted(lot.auction.steps, key=lambda step: step.sequence):
        bid_id = by_bidder.get(lot.auction.bidders.get(step.label, ""))
        if bid_id is not None:
            reached[bid_id] = step.sequence
    return reached


def abnormally_low(lot: DecidedLot, prices: dict[str, Decimal]) -> dict[str, ExpectedFlag]:
    flags = {}
    for bid_id, price in sorted(prices.items()):
        others = [other for other_id, other in prices.items() if other_id != bid_id]
        references = [("estimated_value", lot.rules.estimated_value)]
        if others:
            with localcontext(_ARITHMETIC):
                average = sum(others, Decimal(0)) / len(others)
            references.insert(0, ("others_average", average))
        for basis, reference in references:
            threshold = _threshold(lot.rules.abnormally_low_share, reference)
            if price < threshold:
                flags[bid_id] = ExpectedFlag(
                    bid_id, basis, reference.quantize(CENT, rounding=ROUND_HALF_UP), threshold
                )
                break
    return flags


def recompute(lot: DecidedLot) -> Recomputed:
    finals = auction_final_prices(lot)
    flags = abnormally_low(lot, finals)
    rejected = {bid.bid_id for bid in lot.bids if bid.flag and bid.flag.decision == "rejected"}
    rejected |= lot.annulled  # a winner whose award was annulled leaves the ranking
    prices = {bid_id: price for bid_id, price in finals.items() if bid_id not in rejected}
    reached = auction_sequences(lot)
    rows = []
    if prices:
        lowest = min(prices.values())
        for bid_id, price in prices.items():
            bid = lot.bid(bid_id)
            assert bid is not None, "every price is of one of the lot's bids"
            by_price = price_score(lot.rules.price_weight, lowest, price)
            terms = Terms(lowest, lot.rules.price_weight, quality_terms(lot.rules, bid))
            by_quality = quality_part(terms.quality)
            rows.append((by_price + by_quality, bid, price, by_price, by_quality, terms))
    rows.sort(
        key=lambda row: (-row[0], reached.get(row[1].bid_id, 0), row[1].received_at, row[1].bid_id)
    )
    ranking = tuple(
        Row(rank, bid.bid_id, bid.bidder_id, price, by_price, by_quality, total, terms)
        for rank, (total, bid, price, by_price, by_quality, terms) in enumerate(rows, 1)
    )
    return Recomputed(finals, flags, ranking)


def check_lot(lot: DecidedLot) -> list[Check]:
    """The lot's final prices, abnormally low flags, ranking and award, each recomputed and
    compared with what was published."""
    subject = f"{lot.ocid} lot {lot.lot_id}"
    again = recompute(lot)
    checks = []
    if lot.auction is not None:
        checks.append(_final_prices(subject, lot, again))
    checks.append(_flags(subject, lot, again))
    checks.append(_ranking(subject, lot, again))
    checks.append(_award(subject, lot, again))
    return checks


def _final_prices(subject: str, lot: DecidedLot, again: Recomputed) -> Check:
    assert lot.auction is not None
    problems = [
        f"{label} is revealed as {bidder}, who has no admissible bid in the lot"
        for label, bidder in sorted(lot.auction.bidders.items())
        if not any(bid.bidder_id == bidder and bid.admissible for bid in lot.bids)
    ]
    problems += [
        f"price #{step.sequence} is by {step.label}, a label the close did not reveal"
        for step in lot.auction.steps
        if step.label not in lot.auction.bidders
    ]
    labels = {bidder: label for label, bidder in lot.auction.bidders.items()}
    for bid in (b for b in lot.bids if b.admissible):
        label = labels.get(bid.bidder_id)
        initial = lot.auction.initial_prices.get(label or "")
        if label is None or initial is None:
            problems.append(f"admissible bid {bid.bid_id} took no part in the auction")
        elif initial != bid.price:
            problems.append(f"{label} started from {initial}, but bid {bid.bid_id} opened at {bid.price}")  # fmt: skip
    for bid in lot.bids:
        expected = again.final_prices.get(bid.bid_id)
        if expected is not None and bid.final_price != expected:
            problems.append(
                f"bid {bid.bid_id}'s final price is published as {bid.final_price}, "
                f"but its last price in the auction's history is {expected}"
            )
    steps = len(lot.auction.steps)
    verified = f"{len(again.final_prices)} final prices recomputed from {steps} auction prices"
    return outcome(f"{subject}: auction final prices", problems, verified)


def _flags(subject: str, lot: DecidedLot, again: Recomputed) -> Check:
    problems = []
    for bid in lot.bids:
        expected, published = again.flags.get(bid.bid_id), bid.flag
        if expected is None and published is not None:
            problems.append(
                f"bid {bid.bid_id} is flagged abnormally low, but its price "
                f"{again.final_prices.get(bid.bid_id)} is not below the rule's threshold"
            )
        elif expected is not None and published is None:
            problems.append(
                f"bid {bid.bid_id}'s price {again.final_prices[bid.bid_id]} is below "
                f"{expected.threshold} ({expected.basis}) but is not flagged abnormally low"
            )
        elif expected is not None and published is not None:
            mine = (expected.basis, expected.reference, expected.threshold)
            theirs = (published.basis, published.reference, published.threshold)
            if mine != theirs or published.share != lot.rules.abnormally_low_share:
                problems.append(
                    f"bid {bid.bid_id} is flagged on {theirs[0]} {theirs[1]}, threshold "
                    f"{theirs[2]}; the rule gives {mine[0]} {mine[1]}, threshold {mine[2]}"
                )
    verified = f"{len(again.flags)} abnormally low of {len(again.final_prices)} admissible bids"
    return outcome(f"{subject}: abnormally low prices", problems, verified)


def _ranking(subject: str, lot: DecidedLot, again: Recomputed) -> Check:
    published, expected = lot.ranking, again.ranking
    problems = []
    if [row.bid_id for row in published] != [row.bid_id for row in expected]:
        problems.append(_order_difference(lot, published, expected))
    by_id = {row.bid_id: row for row in expected}
    for row in published:
        mine = by_id.get(row.bid_id)
        if mine is None:
            continue
        for name in ("price", "price_score", "quality_part", "total"):
            if getattr(row, name) != getattr(mine, name):
                problems.append(
                    f"bid {row.bid_id}: {name.replace('_', ' ')} published {getattr(row, name)}, "
                    f"recomputed {getattr(mine, name)}"
                )
        problems += _terms(row, mine)
    terms = ", ".join(f"{row.bid_id} {row.total}" for row in expected)
    reached = auction_sequences(lot)
    ties = [
        f"tie at {a.total} to {a.bid_id}, {_first_by(reached, a.bid_id, b.bid_id)}"
        for a, b in pairwise(expected)
        if a.total == b.total
    ]
    verified = f"{len(expected)} bids ({terms})" + (f"; {'; '.join(ties)}" if ties else "")
    return outcome(f"{subject}: ranking", problems, verified)


def _first_by(reached: dict[str, int], first: str, second: str) -> str:
    """Why ``first`` wins its tie with ``second``."""
    if reached.get(first, 0) != reached.get(second, 0):
        return "reached first in the auction"
    return "received first"


def _terms(row: Row, mine: Row) -> list[str]:
    theirs, expected = row.terms, mine.terms
    problems = []
    if (theirs.lowest_price, theirs.price_weight) != (expected.lowest_price, expected.price_weight):
        problems.append(
            f"bid {row.bid_id}: published with lowest price {theirs.lowest_price} and price "
            f"weight {theirs.price_weight}, the rule gives {expected.lowest_price} and "
            f"{expected.price_weight}"
        )
    if sorted(theirs.quality, key=_criterion) != sorted(expected.quality, key=_criterion):
        shown = [(t.criterion_id, t.scores, str(t.score_sum)) for t in expected.quality]
        problems.append(
            f"bid {row.bid_id}: its quality terms are not the latest signed scores {shown}"
        )
    return problems


def _order_difference(lot: DecidedLot, published: Iterable[Row], expected: tuple[Row, ...]) -> str:
    theirs = [row.bid_id for row in published]
    mine = [row.bid_id for row in expected]
    missing, extra = set(mine) - set(theirs), set(theirs) - set(mine)
    if missing or extra:
        return (
            f"the published ranking {theirs} should hold {mine}: "
            + (f"missing {sorted(missing)} " if missing else "")
            + (f"not entitled {sorted(extra)}" if extra else "")
        ).strip()
    for place, (a, b) in enumerate(zip(theirs, mine, strict=True), 1):
        if a != b:
            first, second = lot.bid(b), lot.bid(a)
            totals = {row.bid_id: row.total for row in expected}
            reached = auction_sequences(lot)
            if totals[a] == totals[b] and reached.get(a, 0) != reached.get(b, 0):
                return (
                    f"place {place}: {a} and {b} tie at {totals[a]} points; the tie goes to the "
                    f"price reached first in the auction, {b}'s (auction price "
                    f"#{reached.get(b, 0)}; 0: as opened), not {a}'s (#{reached.get(a, 0)})"
                )
            if first and second and totals[a] == totals[b]:
                return (
                    f"place {place}: {a} and {b} tie at {totals[a]} points; the tie goes to the "
                    f"bid received first, {b} ({first.received_at.isoformat()}), not {a} "
                    f"({second.received_at.isoformat()})"
                )
            return f"place {place} is published as {a}, recomputed as {b} ({totals[b]} points)"
    return f"the order {theirs} differs from {mine}"


def _award(subject: str, lot: DecidedLot, again: Recomputed) -> Check:
    name = f"{subject}: award"
    if not again.ranking:
        if lot.award is None:
            return passed(name, "unsuccessful: no bid is left in the ranking")
        return failed(name, f"awarded to {lot.award.bid_id}, but no bid is left in the ranking")
    winner = again.ranking[0]
    if lot.award is None:
        return failed(name, f"published without an award, but {winner.bid_id} ranks first")
    problems = []
    if lot.award.bid_id != winner.bid_id:
        problems.append(f"awarded to {lot.award.bid_id}, but {winner.bid_id} ranks first")
    elif lot.award.value != winner.price:
        problems.append(f"awarded for {lot.award.value}, but the winning price is {winner.price}")
    winning = lot.bid(lot.award.bid_id)
    flagged = winning is not None and winning.bid_id in again.flags
    if flagged and (winning is None or winning.flag is None or winning.flag.decision != "accepted"):
        problems.append(
            f"{lot.award.bid_id}'s price is abnormally low and its justification was not accepted"
        )
    verified = f"{winner.bid_id} of {winner.bidder_id} for {winner.price} {lot.rules.currency}"
    return outcome(name, problems, verified)


def _threshold(share: Decimal, reference: Decimal) -> Decimal:
    with localcontext(_ARITHMETIC):
        return (share * reference / HUNDRED).quantize(CENT)


def _criterion(term: QualityTerm) -> str:
    return term.criterion_id
