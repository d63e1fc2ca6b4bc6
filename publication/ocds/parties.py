"""The parties of a release and the references to them: the buyer, and the tenderers,
suppliers, payers and payees once each role is public."""

from typing import Any

from publication.ocds.procedure import Procedure


def parties_of(procedure: Procedure) -> list[dict[str, Any]]:
    roles: dict[str, list[str]] = {procedure.published.buyer_id: ["buyer", "procuringEntity"]}
    if procedure.tenderers_public:
        for bidder in procedure.bidders:
            roles.setdefault(bidder, []).append("tenderer")
    for award in procedure.awards.values():
        if award["status"] in ("pending", "active"):
            for supplier in award["suppliers"]:
                roles.setdefault(supplier["id"], []).append("supplier")
    for body in procedure.review_bodies:
        roles.setdefault(body, []).append("reviewBody")
    for contract in procedure.contracts.values():
        if contract.payments:
            roles[contract.buyer_id].append("payer")
            roles.setdefault(contract.supplier_id, []).append("payee")
    return [_party(procedure, party_id, list(dict.fromkeys(r))) for party_id, r in roles.items()]


def _party(procedure: Procedure, party_id: str, roles: list[str]) -> dict[str, Any]:
    party: dict[str, Any] = {**reference(procedure, party_id)}
    info = procedure.parties.get(party_id)
    if info is not None and info.identifier is not None:
        identifier = {"id": info.identifier, "legalName": info.name}
        party["identifier"] = identifier | ({"scheme": info.scheme} if info.scheme else {})
    if info is not None and info.is_sme is not None:
        party["details"] = {"scale": "sme" if info.is_sme else "large"}
    party["roles"] = roles
    return party


def reference(procedure: Procedure, party_id: str) -> dict[str, str]:
    info = procedure.parties.get(party_id)
    return {"id": party_id} if info is None else {"id": party_id, "name": info.name}
