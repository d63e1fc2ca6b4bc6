"""The award and contract page, ``/portal/contracts/{id}``: who won which lot at what price,
and the contract drawn from it, with its signatures, amendments, milestones and payments.
(``/contracts/{id}`` is the same contract as JSON.)"""

import base64

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from adapters.postgres import eventstore
from contracts import contract
from entrypoints.portal import reads as portal_reads
from entrypoints.portal.html import facts, link, money, not_found, page, segment, table, text
from schemas.values import Identifier

router = APIRouter(include_in_schema=False)


@router.get("/portal/contracts/{contract_id}", response_class=HTMLResponse)
async def contract_page(request: Request, contract_id: Identifier) -> HTMLResponse:
    pool = request.app.state.pool
    state = contract.replay(item.event for item in await eventstore.load(pool, contract_id))
    if state is None:
        return not_found(f"contract {contract_id}")
    drawn = state.drawn
    names = await portal_reads.party_names(pool, {drawn.buyer_id, drawn.supplier_id})
    award = next(
        (a for a in await portal_reads.awards(pool, drawn.ocid) if a["lot_id"] == drawn.lot_id),
        None,
    )
    body = (
        facts(
            [
                (
                    "Tender",
                    link(
                        f"/notices/{segment(drawn.ocid)}#{segment(drawn.lot_id)}",
                        f"{drawn.ocid}, lot {drawn.lot_id}",
                    ),
                ),
                (
                    "Buyer",
                    link(
                        f"/portal/buyers/{segment(drawn.buyer_id)}",
                        names.get(drawn.buyer_id, drawn.buyer_id),
                    ),
                ),
                (
                    "Supplier",
                    link(
                        f"/portal/suppliers/{segment(drawn.supplier_id)}",
                        names.get(drawn.supplier_id, drawn.supplier_id),
                    ),
                ),
                ("Status", f"<strong>{text(contract.ocds_status(state))}</strong>"),
                ("Value", money(state.value.amount, state.value.currency)),
                ("Value as signed", money(drawn.value.amount, drawn.value.currency)),
                ("Period", f"{text(state.period.start_date)} to {text(state.period.end_date)}"),
                ("CPV", text(drawn.cpv)),
                (
                    "SHA-256 of the signed document",
                    f'<span class="hash">{text(drawn.document_sha256)}</span>',
                ),
            ]
        )
        + _award(award)
        + _signatures(state)
        + _amendments(state)
        + _milestones_and_payments(state)
        + f'<p><small>As data, with the document: <a href="/contracts/{segment(contract_id)}">JSON</a></small></p>'
    )
    return page(f"Contract {contract_id}: {drawn.title}", body)


def _award(award: dict[str, object] | None) -> str:
    if award is None:
        return ""
    rows = [
        ("Awarded price", money(award["amount"], award["currency"])),
        (
            "Estimated value",
            money(award["estimated"], award["currency"]) if award["estimated"] else "-",
        ),
        ("Decided at", text(award["decided_at"])),
        ("Standstill ends", text(award["standstill_ends"])),
        ("Award status", text(award["status"])),
    ]
    return "<h2>Award</h2>" + facts(rows)


def _signatures(state: contract.Contract) -> str:
    rows = [
        [
            text(party),
            text(signed.signer_id),
            text(signed.signed_at.isoformat(timespec="seconds")),
            f'<span class="hash">{text(base64.b64encode(signed.public_key).decode())}</span>',
        ]
        for party, signed in state.signatures.items()
    ]
    return "<h2>Signatures (Ed25519, over the document hash)</h2>" + table(
        ["Party", "Signed by", "At", "Public key"], rows
    )


def _amendments(state: contract.Contract) -> str:
    if not state.amendments:
        return ""
    rows = [
        [
            text(a.amendment_id),
            money(a.value.amount, a.value.currency),
            text(a.end_date),
            f"{text(a.cumulative_change_percent)}%",
            "yes" if a.needs_new_procedure else "no",
            text(a.reason),
        ]
        for a in state.amendments
    ]
    headers = [
        "Amendment",
        "Value",
        "Ends",
        "Change since signed",
        "Needs a new procedure",
        "Reason",
    ]
    return "<h2>Amendments</h2>" + table(headers, rows, numeric=frozenset({1, 3}))


def _milestones_and_payments(state: contract.Contract) -> str:
    milestones = [
        [text(m.title), text(m.due_date), text(m.status), text(m.date_met)]
        for m in state.milestones.values()
    ]
    payments = [
        [text(p.payment_id), money(p.value.amount, p.value.currency), text(p.paid_at.date())]
        for p in state.payments.values()
    ]
    return (
        "<h2>Milestones</h2>"
        + table(["Milestone", "Due", "Status", "Met on"], milestones)
        + "<h2>Payments</h2>"
        + table(["Payment", "Amount", "Paid on"], payments, numeric=frozenset({1}))
    )
