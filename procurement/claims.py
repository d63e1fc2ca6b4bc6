"""Claims on a registered number: recorded for the operator, never first-come-first-served.

The number's holder may be a squatter, so a second registration of the same number, or of
one that reads as it, does not bounce: it becomes a claim that only the operator decides,
once. Accepting gives the number to the claimant and suspends the holder.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace

from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.parties import supplier_id_for
from schemas.claims import (
    ClaimDecision,
    DecideRegistrationClaim,
    RegistrationClaimDecided,
    RegistrationClaimed,
)
from schemas.commands import Actor, RegisterSupplier, Role
from schemas.events import Event, SupplierRegistered


@dataclass(frozen=True)
class Claim:
    claimed: RegistrationClaimed
    decision: ClaimDecision | None = None

    @property
    def claim_id(self) -> str:
        return self.claimed.claim_id


def claim_registration(
    command: RegisterSupplier,
    proof_valid: bool,
    holder_identifier: str | None,
    *,
    claim_id: str,
) -> list[Event]:
    """``holder_identifier`` is the registered number equal to, or read as, the command's."""
    if not proof_valid:
        msg = "proof is not the signing key's signature over the registration: is it the right key?"
        raise Rejected(msg, code="invalid_proof")
    if holder_identifier is None:
        msg = f"{command.identifier} is not registered yet: register it instead of claiming it"
        raise WrongState(msg, code="nothing_to_claim")
    return [
        RegistrationClaimed(
            claim_id=claim_id,
            claimant_id=supplier_id_for(command.identifier),
            identifier=command.identifier,
            holder_id=supplier_id_for(holder_identifier),
            holder_identifier=holder_identifier,
            name=command.name,
            is_sme=command.is_sme,
            email=command.email,
            signing_key=command.signing_key,
        )
    ]


def decide_claim(
    claim: Claim | None, command: DecideRegistrationClaim, actor: Actor
) -> list[Event]:
    if actor.role is not Role.OPERATOR:
        raise NotAllowed(f"only the platform operator decides claims; {actor.id} is {actor.role}")
    if claim is None:
        raise NotFound(f"there is no registration claim {command.claim_id}")
    if claim.decision is not None:
        msg = f"claim {claim.claim_id} was already decided: {claim.decision}"
        raise WrongState(msg, code="claim_decided")
    return [
        RegistrationClaimDecided(
            claim_id=claim.claim_id,
            decision=command.decision,
            reason=command.reason,
            decided_by=actor.id,
            claimant_id=claim.claimed.claimant_id,
            holder_id=claim.claimed.holder_id,
        )
    ]


def evolve_claim(claim: Claim | None, event: Event) -> Claim | None:
    if isinstance(event, RegistrationClaimed):
        return Claim(claimed=event)
    if isinstance(event, RegistrationClaimDecided) and claim is not None:
        return replace(claim, decision=event.decision)
    return claim


def replay_claim(events: Sequence[Event]) -> Claim | None:
    claim: Claim | None = None
    for event in events:
        claim = evolve_claim(claim, event)
    return claim


def transferred_registration(claim: Claim) -> SupplierRegistered:
    """The registration an accepted claimant holds: its own name, contact and signing key."""
    if claim.decision is not ClaimDecision.ACCEPT:
        msg = f"claim {claim.claim_id} was not accepted; the number stays with {claim.claimed.holder_id}"
        raise WrongState(msg, code="claim_not_accepted")
    claimed = claim.claimed
    return SupplierRegistered(
        supplier_id=claimed.claimant_id,
        name=claimed.name,
        identifier=claimed.identifier,
        is_sme=claimed.is_sme,
        email=claimed.email,
        signing_key=claimed.signing_key,
    )
