"""Savings against the estimated value, the Romanian way: per lot, and in total per buyer,
CPV division, procedure type and month, for anyone to read.

Summed on request from the savings read model (``readmodels.savings_view``), one row per
awarded lot, fed by the evaluation stream.
"""

import json
from typing import Any

from fastapi import APIRouter, Request

from publication import savings
from readmodels import savings_view

router = APIRouter()


@router.get("/savings", tags=["public"])
async def savings_summary(request: Request) -> dict[str, Any]:
    """Estimated against awarded value and the saving, per currency: every awarded lot, and
    totals per buyer, CPV division, procedure type (with or without auction) and month,
    with the average number of bidders and the SMEs' share."""
    by_currency: dict[str, list[savings.AwardedLot]] = {}
    for lot in await savings_view.awarded_lots(request.app.state.pool):
        by_currency.setdefault(lot.currency, []).append(lot)
    return {
        "currencies": {
            currency: json.loads(savings.summarise(lots).to_json())
            for currency, lots in sorted(by_currency.items())
        }
    }
