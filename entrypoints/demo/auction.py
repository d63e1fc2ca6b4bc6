"""The electronic reverse auctions of the demo: the buyer schedules one per lot that went to
auction, the platform opens it on time, the bidders lower their prices in a few rounds, and
the auction closes after a few seconds without a new price; the evaluation then takes the
final prices by itself and the lot can be awarded."""

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sdk.market import ApiRefused, Market, until

if TYPE_CHECKING:
    from entrypoints.demo.story import Tender

ROUNDS = 3
BETWEEN_ROUNDS = 1.0  # seconds; well inside the auctions' 5 s of allowed inactivity
NOTICE = timedelta(seconds=3)  # the demo's platform runs with a minimum notice of 2 s
WITHIN = 90.0  # seconds for an auction to open, close and reach the evaluation


async def run_auctions(
    market: Market, pending: list[tuple["Tender", str]], say: Callable[[str], None]
) -> None:
    rng = random.Random(35)  # Article 35 of Directive 2014/24/EU
    results = await asyncio.gather(*(_auction(market, t, lot, rng) for t, lot in pending))
    for (tender, lot_id), result in zip(pending, results, strict=True):
        tender.lots[lot_id].update(outcome="ranked", auction=result)
        say(
            f"auction of {tender.ocid} {lot_id}: {result['bidders']} bidders, "
            f"{result['accepted']} lower prices in {ROUNDS} rounds ({result['refused']} refused); "
            f"best price {result['best_before']:,.2f} -> {result['best_after']:,.2f} RON"
        )


async def _auction(
    market: Market, tender: "Tender", lot_id: str, rng: random.Random
) -> dict[str, Any]:
    lead, ocid = tender.buyer.lead, tender.ocid
    lot = next(
        lot for lot in (await market.evaluation(lead, ocid))["lots"] if lot["lot_id"] == lot_id
    )
    prices = {row["bidder_id"]: Decimal(row["price"]["amount"]) for row in lot["ranking"]}
    starts_at = datetime.now(UTC) + NOTICE
    body = {"lot_id": lot_id, "starts_at": starts_at.isoformat()}
    await market.call("POST", f"/tenders/{ocid}/auctions", lead.token, json=body)
    path = f"/tenders/{ocid}/auctions/{lot_id}"
    await _until_status(market, path, {"open"})
    before = min(prices.values())
    accepted = refused = 0
    bidders = {b.id: b for b in tender.bidders}
    for _ in range(ROUNDS):
        for bidder_id in list(prices):
            if rng.random() < 0.3:
                continue  # this bidder stays where it is, this round
            price = (prices[bidder_id] * Decimal(str(rng.uniform(0.975, 0.99)))).quantize(
                Decimal("0.01")
            )
            try:
                await market.call(
                    "POST", f"{path}/prices", bidders[bidder_id].token, json={"price": str(price)}
                )
            except ApiRefused:
                refused += 1
                continue
            prices[bidder_id] = price
            accepted += 1
        await asyncio.sleep(BETWEEN_ROUNDS)
    await _until_status(market, path, {"closed"})

    async def ranked() -> bool:
        return await market.lot_status(lead, ocid, lot_id) == "ranked"

    await until(ranked, WITHIN, f"the final prices of the auction of {ocid} {lot_id}")
    return {
        "bidders": len(prices),
        "accepted": accepted,
        "refused": refused,
        "best_before": before,
        "best_after": min(prices.values()),
    }


async def _until_status(market: Market, path: str, wanted: set[str]) -> None:
    async def reached() -> bool:
        try:
            return str((await market.read(path))["status"]) in wanted
        except ApiRefused as refused:
            if refused.status == 404:  # scheduled, but not in the public read model yet
                return False
            raise

    await until(reached, WITHIN, f"{path} becoming {' or '.join(sorted(wanted))}")
