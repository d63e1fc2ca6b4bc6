"""The award a contract is drawn from, looked up in the tender and its evaluation."""

from procurement.evaluation import Evaluation, award_id
from procurement.tender import Tender
from schemas.contracts import AwardFacts

__all__ = ["award_facts", "award_id"]


def award_facts(tender: Tender, evaluation: Evaluation, lot_id: str) -> AwardFacts | None:
    """The award of the tender's lot, or None while the lot has none."""
    lot = next((lot for lot in tender.requirements.lots if lot.id == lot_id), None)
    state = evaluation.lots.get(lot_id)
    if lot is None or state is None or state.award is None or evaluation.ocid != tender.ocid:
        return None
    return AwardFacts(
        ocid=tender.ocid,
        award_id=state.award.award_id,
        buyer_id=tender.buyer_id,
        supplier_id=state.award.bidder_id,
        cpv=tender.requirements.cpv,
        lot=lot,
        value=state.award.value,
    )
