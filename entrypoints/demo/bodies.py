"""What the demo sends: the body of a tender from its plan, prices, money and questions."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from entrypoints.demo.cast import TenderPlan
from schemas.bids import SignedReceipt

RESPOND_WITHIN = timedelta(hours=2)  # for clarifications and justifications


def tender_body(plan: TenderPlan, deadline: datetime, auctions: bool) -> dict[str, Any]:
    """The ``POST /tenders`` body of a plan."""
    requirements: dict[str, Any] = {
        "cpv": plan.cpv,
        "lots": [
            {
                "id": lot.id,
                "title": lot.title,
                "value": ron(lot.estimate),
                "items": [
                    {
                        "id": item.id,
                        "description": item.description,
                        "cpv": item.cpv,
                        "quantity": str(item.quantity),
                        "unit": item.unit,
                    }
                    for item in lot.items
                ],
            }
            for lot in plan.lots
        ],
        "award_criteria": "ratedCriteria" if plan.quality else "priceOnly",
        "price_weight": str(plan.price_weight),
        "quality_criteria": [
            {"id": id_, "name": name, "weight": str(weight)} for id_, name, weight in plan.quality
        ],
        "standstill_days": plan.standstill_days,
    }
    with_auction = plan.auction and auctions
    if with_auction:
        requirements["auction"] = {
            "minimum_decrement": "0.50",
            "ends": "inactivity",
            "inactivity_seconds": 5,
        }
    return {
        "title": plan.title,
        "description": plan.description,
        "procedure_type": "open_with_auction" if with_auction else "open",
        "submission_deadline": deadline.isoformat(),
        "requirements": requirements,
    }


def price(amount: Decimal, factor: float) -> Decimal:
    """``factor`` of ``amount``, to the whole leu."""
    return (amount * Decimal(str(round(factor, 4)))).quantize(Decimal(1))


def ron(amount: Decimal) -> dict[str, str]:
    return {"amount": str(amount.quantize(Decimal("0.01"))), "currency": "RON"}


def ask(question: str) -> dict[str, str]:
    respond_by = datetime.now(UTC) + RESPOND_WITHIN
    return {"question": question, "respond_by": respond_by.isoformat()}


def signed(answer: dict[str, Any]) -> SignedReceipt:
    return SignedReceipt.model_validate(
        {k: v for k, v in answer.items() if k not in ("replayed", "signed_head")}
    )
