"""Savings against the estimated value, the Romanian way: per lot, and in total per buyer,
CPV division, procedure type and month, for anyone to read.

Computed on request from the recorded evaluations (procurement.savings); a read model fed
by the stream is the next step when the number of tenders makes this slow.
"""

import json
from typing import Any

from fastapi import APIRouter, Request

from procurement import evaluation, savings, tender
from streams import eventstore

router = APIRouter()


async def awarded_lots(pool: Any) -> list[savings.AwardedLot]:
    ocids = [
        row["aggregate_id"].removesuffix(":evaluation")
        for row in await pool.fetch(
            "SELECT aggregate_id FROM events WHERE type = 'EvaluationStarted' ORDER BY position"
        )
    ]
    lots: list[savings.AwardedLot] = []
    async with pool.acquire() as connection:
        for ocid in ocids:
            published = tender.replay([e.event for e in await eventstore.load(connection, ocid)])
            evaluated = evaluation.replay(
                e.event for e in await eventstore.load(connection, evaluation.evaluation_id(ocid))
            )
            if published is not None and evaluated is not None:
                lots += savings.awarded_lots(published, evaluated)
    return lots


@router.get("/savings", tags=["public"])
async def savings_summary(request: Request) -> dict[str, Any]:
    """Estimated against awarded value and the saving, per currency: every awarded lot, and
    totals per buyer, CPV division, procedure type (with or without auction) and month,
    with the average number of bidders and the SMEs' share."""
    by_currency: dict[str, list[savings.AwardedLot]] = {}
    for lot in await awarded_lots(request.app.state.pool):
        by_currency.setdefault(lot.currency, []).append(lot)
    return {
        "currencies": {
            currency: json.loads(savings.summarise(lots).to_json())
            for currency, lots in sorted(by_currency.items())
        }
    }
