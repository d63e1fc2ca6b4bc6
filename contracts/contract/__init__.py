"""A contract's life, as pure functions: drawn from an award, signed by both parties, amended,
carried out, and completed or terminated.

One aggregate per contract, id ``contract_id``. ``decide`` turns a command into events,
``evolve`` applies one, ``replay`` rebuilds the contract from its own events. Time, ids, the
award, whether the award's standstill is over and the signer's registered public key are all
arguments: the caller looks them up (``award_facts`` and
``procurement.evaluation.contract_may_be_signed`` do it from the tender and its evaluation).

**The document.** ``contract_document`` is exactly what is signed: its SHA-256 over the
canonical JSON (``bidding.keys.canonical_json``) is ``ContractDrawn.document_sha256``. Amounts
are written with two decimals and quantities without trailing zeros, so 10 and 10.0000 pieces
are the same document.

**Signatures.** Each party signs, with Ed25519, ``signature_fields`` (contract id, document
hash and the party: ``buyer`` or ``supplier``) under the purpose ``CONTRACT_SIGNATURE``: an
officer of the buyer with the signing key it registered, the supplier with its own. Once both
have signed, the same decision records ``ContractActivated``: the contract is in force. The
activation is an event of its own, not derived, so that read models and notices need not
count signatures. Amendments are not signed again in this version.

**Amendments** (Directive 2014/24/EU, Article 72(2)): percentages are of the ORIGINAL value;
the cumulative one is the net change over all amendments, (value now - original) / original.
A new procedure is needed when that cumulative change is an increase strictly above the
threshold: 10 % for supplies and services, 15 % for works (the tender's main CPV code is in
division 45). The comparison is exact; the published percentages are rounded half up to
0.01. The amendment is recorded either way, with ``needs_new_procedure``: the platform
publishes what happened, the law decides what follows.

**Completion.** Recording the milestone that leaves every milestone met completes the
contract in the same decision (``on_last_milestone``), so schedule every milestone before
marking any of them met. An officer may also complete it explicitly once no milestone is
still scheduled (each met or not met). Completed and terminated are final; a contract
terminated before activation was never in force (OCDS ``cancelled``).

Where each part lives:

- ``state``: the contract, its status and ``LIFECYCLE``, and its OCDS status;
- ``documents``: the contract document, its hash and the parties' signatures;
- ``awards``: the award a contract is drawn from, looked up in the tender and its evaluation;
- ``rules``: the rules, named as the sentences they enforce, and the amendment limits;
- ``decisions``: every command, decided; ``evolution``: every event, applied.
"""

from contracts.contract.awards import award_facts, award_id
from contracts.contract.decisions import (
    HUNDRED,
    amend,
    cancel_with_the_award,
    complete,
    decide,
    draw,
    record_milestone,
    record_payment,
    sign,
    terminate,
)
from contracts.contract.documents import (
    CENT,
    CONTRACT_SIGNATURE,
    DOCUMENT_FORMAT,
    contract_document,
    document_of,
    document_sha256,
    signature_fields,
    signature_verifies,
)
from contracts.contract.evolution import evolve, replay
from contracts.contract.rules import (
    AMENDMENT_LIMITS,
    WORKS_DIVISION,
    AmendmentLimits,
    award_must_be_for_the_lot,
    contract_must_be,
    contract_must_be_drawn,
    is_works,
    milestone_must_not_be_met_already,
    must_not_be_in_the_future,
    no_milestone_may_be_pending,
    party_must_not_have_signed,
    payment_must_be_new,
    payment_must_fit_the_value,
    payment_must_not_be_dated_after_now,
    period_must_not_end_before_it_starts,
    signature_must_verify,
    signer_must_be_a_party,
    standstill_must_be_over,
    value_must_be_in_the_contract_currency,
    value_must_cover_the_payments,
)
from contracts.contract.state import (
    FINAL,
    LIFECYCLE,
    Amendment,
    Contract,
    ContractStatus,
    Milestone,
    Payment,
    Signed,
    contract_id_for,
    ocds_status,
)

__all__ = [
    "AMENDMENT_LIMITS",
    "CENT",
    "CONTRACT_SIGNATURE",
    "DOCUMENT_FORMAT",
    "FINAL",
    "HUNDRED",
    "LIFECYCLE",
    "WORKS_DIVISION",
    "Amendment",
    "AmendmentLimits",
    "Contract",
    "ContractStatus",
    "Milestone",
    "Payment",
    "Signed",
    "amend",
    "award_facts",
    "award_id",
    "award_must_be_for_the_lot",
    "cancel_with_the_award",
    "complete",
    "contract_document",
    "contract_id_for",
    "contract_must_be",
    "contract_must_be_drawn",
    "decide",
    "document_of",
    "document_sha256",
    "draw",
    "evolve",
    "is_works",
    "milestone_must_not_be_met_already",
    "must_not_be_in_the_future",
    "no_milestone_may_be_pending",
    "ocds_status",
    "party_must_not_have_signed",
    "payment_must_be_new",
    "payment_must_fit_the_value",
    "payment_must_not_be_dated_after_now",
    "period_must_not_end_before_it_starts",
    "record_milestone",
    "record_payment",
    "replay",
    "sign",
    "signature_fields",
    "signature_must_verify",
    "signature_verifies",
    "signer_must_be_a_party",
    "standstill_must_be_over",
    "terminate",
    "value_must_be_in_the_contract_currency",
    "value_must_cover_the_payments",
]
