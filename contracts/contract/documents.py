"""The contract document, exactly what the parties sign, its hash and their signatures."""

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bidding import keys
from contracts.contract.state import Contract
from schemas.contracts import ContractDrawn, Party, Period
from schemas.values import Item, Value

DOCUMENT_FORMAT = "procurement-contract-document/1"
CONTRACT_SIGNATURE = "procurement-contract-signature/1"
CENT = Decimal("0.01")


def contract_document(
    *,
    contract_id: str,
    ocid: str,
    lot_id: str,
    award_id: str,
    buyer_id: str,
    supplier_id: str,
    title: str,
    cpv: str,
    items: Sequence[Item],
    value: Value,
    period: Period,
) -> dict[str, Any]:
    """Exactly what the parties sign, as JSON-ready data; see the package's docstring."""
    return {
        "format": DOCUMENT_FORMAT,
        "contract_id": contract_id,
        "ocid": ocid,
        "lot_id": lot_id,
        "award_id": award_id,
        "buyer_id": buyer_id,
        "supplier_id": supplier_id,
        "title": title,
        "cpv": cpv,
        "items": [
            {
                "id": item.id,
                "description": item.description,
                "cpv": item.cpv,
                "quantity": _plain(item.quantity),
                "unit": item.unit,
            }
            for item in items
        ],
        "value": {"amount": str(value.amount.quantize(CENT)), "currency": value.currency},
        "period": {
            "start_date": period.start_date.isoformat(),
            "end_date": period.end_date.isoformat(),
        },
    }


def document_sha256(document: dict[str, Any]) -> str:
    """The lowercase hex SHA-256 of the document's canonical JSON."""
    return hashlib.sha256(keys.canonical_json(document)).hexdigest()


def document_of(drawn: ContractDrawn) -> dict[str, Any]:
    """The document a ContractDrawn names by its hash, rebuilt from the event."""
    return contract_document(
        contract_id=drawn.contract_id,
        ocid=drawn.ocid,
        lot_id=drawn.lot_id,
        award_id=drawn.award_id,
        buyer_id=drawn.buyer_id,
        supplier_id=drawn.supplier_id,
        title=drawn.title,
        cpv=drawn.cpv,
        items=drawn.items,
        value=drawn.value,
        period=drawn.period,
    )


def _plain(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f")


def signature_fields(contract_id: str, document_sha256: str, party: Party) -> dict[str, Any]:
    """What a party signs, under the purpose ``CONTRACT_SIGNATURE`` (see bidding.keys)."""
    return {"contract_id": contract_id, "document_sha256": document_sha256, "party": str(party)}


def signature_verifies(
    contract: Contract, party: Party, public_key: bytes, signature: bytes
) -> bool:
    fields = signature_fields(contract.contract_id, contract.drawn.document_sha256, party)
    return keys.verify(public_key, signature, CONTRACT_SIGNATURE, fields)
