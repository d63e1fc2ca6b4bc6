"""Direct purchases and price quotations from the electronic catalogue as OCDS 1.1 releases.

Their ``procurementMethod`` and ``procurementMethodDetails`` come from the registry
(``procurement.procedures.PROCEDURES``): a direct purchase is ``limited``, a price quotation
``selective``. A direct purchase publishes its tender and pending award when ordered, then
the award ``active`` and its contract ``active`` (the accepted purchase is the contract) or
the award ``cancelled`` and the tender ``unsuccessful`` when the supplier declines; the
reason a dearer offer was taken is the ``procurementMethodRationale``. A price quotation
publishes its tender when asked (the estimate is the median catalogue price times the
quantity) and, at the opening, every quote as ``bids.details`` with the award to the lowest
(or an ``unsuccessful`` tender when no quote opened). Snapshots, ids and dates follow
``publication.ocds``.
"""

import copy
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from procurement.procedures import PROCEDURES
from procurement.procedures.catalogue import total
from publication.ocds import LANGUAGE, PartyInfo, Release
from schemas.catalogue import (
    DirectPurchaseAccepted,
    DirectPurchaseDeclined,
    DirectPurchaseOrdered,
    QuotesOpened,
    QuotesRequested,
)
from schemas.events import Envelope
from schemas.values import ProcedureType, Value

# The events that write a release; the sealed quotes write none.
READS = (
    "DirectPurchaseOrdered",
    "DirectPurchaseAccepted",
    "DirectPurchaseDeclined",
    "QuotesRequested",
    "QuotesOpened",
)


def releases(history: Sequence[Envelope], parties: Mapping[str, PartyInfo]) -> list[Release]:
    """One release per public event of one purchase or quotation, in order."""
    written: list[Release] = []
    state: dict[str, Any] = {}
    for item in history:
        event = item.event
        if isinstance(event, DirectPurchaseOrdered):
            state = _ordered(event, item.occurred_at)
            tags = ["tender", "award"]
        elif isinstance(event, DirectPurchaseAccepted):
            state["award"]["status"] = "active"
            state["contract"] = _contract(state, item.occurred_at)
            state["tender"]["status"] = "complete"
            tags = ["awardUpdate", "contract"]
        elif isinstance(event, DirectPurchaseDeclined):
            state["award"]["status"] = "cancelled"
            state["tender"]["status"] = "unsuccessful"
            tags = ["awardCancellation", "tenderUpdate"]
        elif isinstance(event, QuotesRequested):
            state = _requested(event, item.occurred_at)
            tags = ["tender"]
        elif isinstance(event, QuotesOpened):
            tags = _opened(state, event, item.occurred_at)
        else:
            continue
        written.append(_release(state, item, tags, parties))
    return written


def _ordered(event: DirectPurchaseOrdered, when: datetime) -> dict[str, Any]:
    terms = event.offer.terms
    tender = _tender(
        ProcedureType.DIRECT_PURCHASE,
        event.ocid,
        terms.description,
        _item(event.ocid, terms.description, terms.cpv, event.quantity, terms.unit),
        event.value,
        event.buyer_id,
        "active",
    )
    if event.reason_not_cheapest:
        tender["procurementMethodRationale"] = event.reason_not_cheapest
    award = {
        "id": f"{event.ocid}-award",
        "status": "pending",
        "date": when.isoformat(),
        "value": _value(event.value),
        "suppliers": [event.offer.supplier_id],
        "items": tender["items"],
    }
    return {"ocid": event.ocid, "buyer": event.buyer_id, "tender": tender, "award": award}


def _requested(event: QuotesRequested, when: datetime) -> dict[str, Any]:
    estimate = total(event.reference_unit_price, event.quantity)
    tender = _tender(
        ProcedureType.PRICE_QUOTATION,
        event.ocid,
        event.title,
        _item(event.ocid, event.title, event.cpv, event.quantity, event.unit),
        estimate,
        event.buyer_id,
        "active",
    )
    tender["tenderPeriod"] = {"startDate": when.isoformat(), "endDate": event.deadline.isoformat()}
    return {"ocid": event.ocid, "buyer": event.buyer_id, "tender": tender, "requested": event}


def _opened(state: dict[str, Any], event: QuotesOpened, when: datetime) -> list[str]:
    requested: QuotesRequested = state["requested"]
    tender = state["tender"]
    tender["numberOfTenderers"] = len(event.quotes)
    tender["tenderers"] = [quote.supplier_id for quote in event.quotes]
    state["bids"] = [
        {"id": f"{requested.ocid}-quote-{quote.supplier_id}", "tenderers": [quote.supplier_id]}
        | (
            {"status": "valid", "value": _value(total(quote.unit_price, requested.quantity))}
            if quote.unit_price is not None
            else {"status": "disqualified"}
        )
        for quote in event.quotes
    ]
    if event.winner_id is None or event.value is None:
        tender["status"] = "unsuccessful"
        return ["tenderUpdate"]
    tender["status"] = "complete"
    state["award"] = {
        "id": f"{requested.ocid}-award",
        "status": "active",
        "date": when.isoformat(),
        "value": _value(event.value),
        "suppliers": [event.winner_id],
        "items": tender["items"],
    }
    return ["tenderUpdate", "award"]


def _tender(
    procedure_type: ProcedureType,
    ocid: str,
    title: str,
    item: dict[str, Any],
    value: Value,
    buyer_id: str,
    status: str,
) -> dict[str, Any]:
    entry = PROCEDURES[procedure_type]
    division = int(item["classification"]["id"][:2])
    category = "works" if division == 45 else "services" if division >= 50 else "goods"
    return {
        "id": ocid,
        "title": title,
        "status": status,
        "items": [item],
        "value": _value(value),
        "procuringEntity": buyer_id,
        "procurementMethod": entry.method,
        "procurementMethodDetails": entry.method_details,
        "mainProcurementCategory": category,
        "awardCriteria": "priceOnly",
        "submissionMethod": ["electronicSubmission"],
    }


def _item(ocid: str, description: str, cpv: str, quantity: Any, unit: str) -> dict[str, Any]:
    return {
        "id": f"{ocid}-item",
        "description": description,
        "classification": {"scheme": "CPV", "id": cpv},
        "quantity": quantity,
        "unit": {"name": unit},
    }


def _contract(state: dict[str, Any], when: datetime) -> dict[str, Any]:
    award = state["award"]
    return {
        "id": f"{state['ocid']}-contract",
        "awardID": award["id"],
        "title": state["tender"]["title"],
        "status": "active",
        "value": award["value"],
        "items": award["items"],
        "dateSigned": when.isoformat(),
    }


def _release(
    state: dict[str, Any], item: Envelope, tags: list[str], parties: Mapping[str, PartyInfo]
) -> Release:
    def reference(party_id: str) -> dict[str, str]:
        info = parties.get(party_id)
        return {"id": party_id} if info is None else {"id": party_id, "name": info.name}

    tender = dict(state["tender"])
    tender["procuringEntity"] = reference(state["buyer"])
    if "tenderers" in tender:
        tender["tenderers"] = [reference(t) for t in tender["tenderers"]]
    roles: dict[str, list[str]] = {state["buyer"]: ["buyer", "procuringEntity"]}
    for tenderer in state["tender"].get("tenderers", []):
        roles.setdefault(tenderer, []).append("tenderer")
    award = state.get("award")
    if award is not None and award["status"] in ("pending", "active"):
        for supplier in award["suppliers"]:
            roles.setdefault(supplier, []).append("supplier")
    release: Release = {
        "ocid": state["ocid"],
        "id": f"{state['ocid']}-{item.event_id}",
        "date": item.occurred_at.isoformat(),
        "tag": tags,
        "initiationType": "tender",
        "language": LANGUAGE,
        "parties": [_party(p, r, parties) for p, r in roles.items()],
        "buyer": reference(state["buyer"]),
        "tender": tender,
    }
    if "bids" in state:
        release["bids"] = {
            "details": [
                b | {"tenderers": [reference(t) for t in b["tenderers"]]} for b in state["bids"]
            ]
        }
    if award is not None:
        release["awards"] = [award | {"suppliers": [reference(s) for s in award["suppliers"]]}]
    if "contract" in state:
        release["contracts"] = [state["contract"]]
    return copy.deepcopy(release)


def _party(party_id: str, roles: list[str], parties: Mapping[str, PartyInfo]) -> dict[str, Any]:
    info = parties.get(party_id)
    party: dict[str, Any] = {"id": party_id, "roles": roles}
    if info is None:
        return party
    party["name"] = info.name
    if info.identifier is not None:
        identifier = {"id": info.identifier, "legalName": info.name}
        party["identifier"] = identifier | ({"scheme": info.scheme} if info.scheme else {})
    if info.is_sme is not None:
        party["details"] = {"scale": "sme" if info.is_sme else "large"}
    return party


def _value(value: Value) -> dict[str, Any]:
    return {"amount": value.amount, "currency": value.currency}
