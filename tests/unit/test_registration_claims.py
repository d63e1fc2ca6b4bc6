"""A registration number someone already holds is claimed, not refused: the claim waits
for the operator, who decides it once, and accepting gives the number to the claimant."""

import pytest

from procurement import claims
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from schemas.claims import (
    ClaimDecision,
    DecideRegistrationClaim,
    RegistrationClaimDecided,
    RegistrationClaimed,
)
from schemas.commands import Actor, RegisterSupplier, Role
from schemas.events import Event, SupplierRegistered

OPERATOR = Actor(id="operator", role=Role.OPERATOR)
HELD = "RO-CUI-4305857"
CLAIMANT_KEY = "B" * 43 + "="


def registration(identifier: str = HELD) -> RegisterSupplier:
    return RegisterSupplier.model_validate(
        {
            "name": "Hârtia Nouă SRL",
            "identifier": identifier,
            "is_sme": True,
            "email": "oferte@hartia.ro",
            "signing_key": CLAIMANT_KEY,
            "proof": "A" * 86 + "==",
        }
    )


def decision(verdict: ClaimDecision, claim_id: str = "claim-1") -> DecideRegistrationClaim:
    return DecideRegistrationClaim(claim_id=claim_id, decision=verdict, reason="Checked ONRC")


def replay(events: list[Event], claim: claims.Claim | None = None) -> claims.Claim | None:
    for event in events:
        claim = claims.evolve_claim(claim, event)
    return claim


def open_claim(identifier: str = HELD, holder: str = HELD) -> claims.Claim:
    events = claims.claim_registration(registration(identifier), True, holder, claim_id="claim-1")
    claim = replay(events)
    assert claim is not None
    return claim


def test_a_registered_number_is_claimed_for_the_operator_to_decide() -> None:
    """Registering a held number records a claim naming the holder, with the claimant's key."""
    [claimed] = claims.claim_registration(registration(), True, HELD, claim_id="claim-1")
    assert isinstance(claimed, RegistrationClaimed)
    assert claimed.holder_id == claimed.claimant_id == f"supplier-{HELD}"
    assert claimed.signing_key == registration().signing_key
    assert open_claim().decision is None


def test_a_look_alike_claims_the_number_it_reads_as() -> None:
    """A claim on a look-alike names the registered number, and the claimant keeps its spelling."""
    claim = open_claim(identifier="ro-cui-43O5857").claimed
    assert (claim.holder_identifier, claim.holder_id) == (HELD, f"supplier-{HELD}")
    assert claim.claimant_id == "supplier-ro-cui-43O5857"


def test_only_a_registered_number_can_be_claimed() -> None:
    """A number nobody holds is registered, not claimed."""
    with pytest.raises(WrongState) as refused:
        claims.claim_registration(registration(), True, None, claim_id="claim-1")
    assert refused.value.code == "nothing_to_claim"


def test_a_claim_needs_the_proof_of_its_signing_key() -> None:
    """A claimant must hold the key it would register, as any supplier must."""
    with pytest.raises(Rejected) as refused:
        claims.claim_registration(registration(), False, HELD, claim_id="claim-1")
    assert refused.value.code == "invalid_proof"


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.OPERATOR])
def test_only_the_operator_decides_a_claim(role: Role) -> None:
    """Neither the holder, the claimant nor any officer decides who owns a number."""
    actor = Actor(id=f"supplier-{HELD}", role=role)
    with pytest.raises(NotAllowed):
        claims.decide_claim(open_claim(), decision(ClaimDecision.ACCEPT), actor)


def test_an_unknown_claim_is_not_found() -> None:
    """Deciding a claim nobody made is a 404, not a new fact."""
    with pytest.raises(NotFound):
        claims.decide_claim(None, decision(ClaimDecision.REFUSE, "claim-2"), OPERATOR)


@pytest.mark.parametrize("first", list(ClaimDecision))
@pytest.mark.parametrize("second", list(ClaimDecision))
def test_a_decided_claim_cannot_be_decided_again(
    first: ClaimDecision, second: ClaimDecision
) -> None:
    """Once accepted or refused, a claim stays so, whatever the operator sends next."""
    claim = open_claim()
    decided = replay(claims.decide_claim(claim, decision(first), OPERATOR), claim)
    assert decided is not None
    assert decided.decision is first
    with pytest.raises(WrongState) as refused:
        claims.decide_claim(decided, decision(second), OPERATOR)
    assert refused.value.code == "claim_decided"


def test_accepting_transfers_the_number_to_the_claimant_and_suspends_the_holder() -> None:
    """The accepted claimant is registered with its own key; the decision names whom to suspend."""
    claim = open_claim(identifier="ro-cui-43O5857")
    [decided] = claims.decide_claim(claim, decision(ClaimDecision.ACCEPT), OPERATOR)
    assert isinstance(decided, RegistrationClaimDecided)
    assert (decided.holder_id, decided.reason) == (f"supplier-{HELD}", "Checked ONRC")
    accepted = replay([decided], claim)
    assert accepted is not None
    registered = claims.transferred_registration(accepted)
    assert registered == SupplierRegistered(
        supplier_id="supplier-ro-cui-43O5857",
        name="Hârtia Nouă SRL",
        identifier="ro-cui-43O5857",
        is_sme=True,
        email="oferte@hartia.ro",
        signing_key=registration().signing_key,
    )


@pytest.mark.parametrize("verdict", [None, ClaimDecision.REFUSE])
def test_a_claim_not_accepted_transfers_nothing(verdict: ClaimDecision | None) -> None:
    """An open or refused claim leaves the number with its holder."""
    claim = open_claim()
    if verdict is not None:
        claim = replay(claims.decide_claim(claim, decision(verdict), OPERATOR), claim) or claim
    with pytest.raises(WrongState):
        claims.transferred_registration(claim)
