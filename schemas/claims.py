"""Claims on a registration number another party already holds, decided by the operator.

A squatter who registers a real company's number first must not lock the company out:
the second registration is recorded as a claim, and the operator transfers the number or
refuses the claim, with a reason either way.
"""

from enum import StrEnum
from typing import Literal

from schemas.base import PartyEvent
from schemas.bids import PublicKey
from schemas.commands import Command
from schemas.values import Email, Identifier, Text, Title


class ClaimDecision(StrEnum):
    ACCEPT = "accept"  # the claimant takes the number; the holder is suspended
    REFUSE = "refuse"  # the holder keeps it


class RegistrationClaimed(PartyEvent):
    """A supplier registered a number that is, or reads as, one already registered."""

    public = False
    type: Literal["RegistrationClaimed"] = "RegistrationClaimed"
    claim_id: Identifier
    claimant_id: Identifier  # the supplier id the claimant becomes if the claim is accepted
    identifier: Identifier  # as the claimant wrote it
    holder_id: Identifier
    holder_identifier: Identifier  # the same number, or the registered look-alike
    name: Title
    is_sme: bool
    email: Email
    signing_key: PublicKey  # its proof was checked before the claim was recorded


class RegistrationClaimDecided(PartyEvent):
    public = False
    type: Literal["RegistrationClaimDecided"] = "RegistrationClaimDecided"
    claim_id: Identifier
    decision: ClaimDecision
    reason: Text
    decided_by: Identifier
    claimant_id: Identifier
    holder_id: Identifier  # suspended if the claim was accepted


class DecideRegistrationClaim(Command):
    claim_id: Identifier
    decision: ClaimDecision
    reason: Text
