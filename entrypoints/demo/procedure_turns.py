"""The turns of a procedure the demo plays besides the usual steps, each through the API as
its parties would: the buyer's specification and a question answered before the deadline, a
significant amendment that the bidders reconfirm through the SDK, and a winner that refuses
to sign its contract."""

import asyncio
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from schemas.contracts import Party as ContractParty
from schemas.values import Requirements
from sdk.client import Client
from sdk.market import ApiRefused, Market, Party, until

SPECIFICATION = (
    "Caiet de sarcini: laptopuri 15,6 inch, 16 GB RAM, garanție 36 de luni; "
    "videoproiectoare 4000 lumeni; table interactive 86 inch.\n"
).encode()


async def enquire(market: Market, ocid: str, officer: Party, asker: Party) -> dict[str, Any]:
    """The buyer publishes its specification; a supplier asks about it in the enquiry period
    and the buyer answers, for everyone to read without the asker's name."""
    answer = await market.http.post(
        f"/tenders/{ocid}/documents",
        params={"title": "Caiet de sarcini", "file_name": "caiet-de-sarcini.txt"},
        content=SPECIFICATION,
        headers={"Content-Type": "text/plain", "Authorization": f"Bearer {officer.token}"},
    )
    answer.raise_for_status()
    document = answer.json()
    question = {
        "title": "Garanția laptopurilor",
        "description": "Este acceptată o garanție de 24 de luni cu extindere la cerere?",
    }
    path = f"/tenders/{ocid}/enquiries"
    enquiry_id = (await market.call("POST", path, asker.token, json=question))["enquiry_id"]
    reply = {"answer": "Nu: garanția cerută este de 36 de luni, la sediul școlii."}
    await market.call("POST", f"{path}/{enquiry_id}/answer", officer.token, json=reply)
    return {
        "document": {"file_name": "caiet-de-sarcini.txt", "sha256": document["sha256"]},
        "enquiry_id": enquiry_id,
        "question": question["description"],
        "answer": reply["answer"],
    }


async def amend_and_reconfirm(
    market: Market, ocid: str, officer: Party, reconfirming: list[Party]
) -> dict[str, Any]:
    """A significant amendment after bids arrived (more laptops); each of ``reconfirming``
    checks the amended requirements' digest against the public tender and signs its
    reconfirmation with the SDK, on its own side."""
    published = await public_tender(market, ocid, lambda _: True)
    requirements = {k: published[k] for k in Requirements.model_fields if k in published}
    first_lot = requirements["lots"][0]
    laptops = first_lot["items"][0]
    more = str(int(float(laptops["quantity"])) + 20)
    first_lot["items"] = [laptops | {"quantity": more}, *first_lot["items"][1:]]
    reason = f"{more} de laptopuri în loc de {laptops['quantity']}: încă două școli în program"
    body = {"reason": reason, "requirements": requirements}
    await market.call("PATCH", f"/tenders/{ocid}", officer.token, json=body)

    # The bidders check the digest against the public tender, which the stream updates.
    amended = await public_tender(
        market, ocid, lambda shown: Decimal(shown["lots"][0]["items"][0]["quantity"]) == int(more)
    )
    base_url = str(market.http.base_url)

    def reconfirm(bidder: Party) -> dict[str, Any]:
        with Client(base_url, bidder.token) as client:
            return client.reconfirm_bid(ocid, bidder.id, bidder.keys)

    taken = await asyncio.gather(*(asyncio.to_thread(reconfirm, b) for b in reconfirming))
    return {
        "reason": reason,
        "requirements_sha256": taken[0]["requirements_sha256"] if taken else None,
        "reconfirmed": [bidder.name for bidder in reconfirming],
        "deadline": amended["submission_deadline"],
    }


async def public_tender(
    market: Market, ocid: str, holds: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The tender as the public reads it, once the stream has brought it to where ``holds``."""

    async def shown() -> dict[str, Any] | None:
        try:
            tender: dict[str, Any] = await market.read(f"/tenders/{ocid}")
        except ApiRefused as refused:
            if refused.status != 404:  # 404: not in the public read model yet
                raise
            return None
        return tender if holds(tender) else None

    return await until(shown, 60, f"{ocid} as the public reads it")


async def annul_refused_award(
    market: Market, ocid: str, officer: Party, lot_id: str, refusing: Party
) -> dict[str, Any]:
    """The contract is drawn and signed by the buyer; the winner refuses to sign it, and the
    buyer annuls its award, which cancels the contract with it."""
    today = date.today()
    contract_id = await market.draw_contract(
        officer, ocid, lot_id, today, today + timedelta(days=365)
    )
    await market.sign_contract(officer, contract_id, ContractParty.BUYER)
    reason = f"{refusing.name} a refuzat în scris să semneze contractul."
    body = {"lot_id": lot_id, "reason_code": "refused_to_sign", "reason": reason}
    await market.evaluate(officer, ocid, "award-annulments", body)
    return {"by": refusing.name, "reason": reason, "cancelled_contract": contract_id}
