"""Concrete values the unit tests share: who acts, when, and one example of every event."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import committee_material
from procurement.rules import ProcedureRules
from procurement.tender import Tender, publish, replay
from schemas.bids import BidContent, KeyShare, Receipt
from schemas.claims import ClaimDecision, RegistrationClaimDecided, RegistrationClaimed
from schemas.commands import Actor, PublishTender, Role
from schemas.committee import (
    CommitteeConfirmed,
    CommitteeMaterial,
    CommitteeMember,
    CommitteeNamed,
    OpeningSharesAccepted,
)
from schemas.conditions_complaints import (
    ConditionsComplaintDismissed,
    ConditionsComplaintFiled,
    ConditionsComplaintUpheld,
)
from schemas.events import (
    AgencyRegistered,
    BidLogSealed,
    BidOpened,
    BidRejected,
    BidsOpened,
    BidSubmitted,
    BidWithdrawn,
    CommitteeKeysRegistered,
    Event,
    LegacyEncryptedShare,
    OfficerRegistered,
    OpeningKeyIssued,
    OpeningShareAccepted,
    SupplierRegistered,
    TenderCancelled,
    TenderClosed,
    TenderDeadlineExtended,
    TenderDetailsAmended,
    TenderPublished,
    TenderRequirementsAmended,
    TenderUnsuccessful,
)
from schemas.reconfirmations import BidReconfirmed, ReconfirmationRequested
from schemas.values import Item, Lot, ProcedureType, Requirements, Value
from tests.unit.catalogue_examples import catalogue_events
from tests.unit.enquiry_examples import enquiry_events
from tests.unit.procedure_examples import auction_events, contract_events, evaluation_events

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
RULES = ProcedureRules()
DEADLINE = NOW + timedelta(days=40)

BUYER = "agency-RO-CUI-4267117"
OCID = "ocds-000000-0001"
OFFICER = Actor(id="officer-ana", role=Role.OFFICER, agency_id=BUYER)
OTHER_OFFICER = Actor(id="officer-ion", role=Role.OFFICER, agency_id="agency-RO-CUI-1")
OFFICER_WITHOUT_AGENCY = Actor(id="officer-nobody", role=Role.OFFICER)
OPERATOR = Actor(id="operator", role=Role.OPERATOR)
SYSTEM = Actor(id="deadline-service", role=Role.SYSTEM)


def requirements(
    amount: str = "1000.00",
    *,
    currency: str = "RON",
    lot_id: str = "lot-1",
    cpv: str = "30197630-1",
) -> Requirements:
    """One lot of office paper."""
    return Requirements(
        cpv=cpv,
        lots=[
            Lot(
                id=lot_id,
                title="Office paper",
                value=Value(amount=Decimal(amount), currency=currency),
                items=[
                    Item(
                        id=f"{lot_id}-paper",
                        description="A4 paper, 80 g/m2",
                        cpv=cpv,
                        quantity=Decimal(500),
                        unit="ream",
                    )
                ],
            )
        ],
    )


def publish_command(deadline: datetime = DEADLINE) -> PublishTender:
    return PublishTender(
        title="Office paper for 2030",
        description="A4 paper delivered monthly to the town hall.",
        requirements=requirements(),
        submission_deadline=deadline,
    )


def published(deadline: datetime = DEADLINE) -> Tender:
    """An active tender of BUYER, published at NOW."""
    events = publish(publish_command(deadline), OFFICER, NOW, RULES, tender_id="t-1", ocid=OCID)
    tender = replay(events)
    assert tender is not None
    return tender


RECEIPT = Receipt(
    kind="bid",
    bid_id="bid-1",
    ocid=OCID,
    bidder_id="supplier-RO-CUI-14399840",
    lots=("lot-1",),
    version=1,
    ciphertext_sha256="9f" * 32,
    material_sha256="7e" * 32,
    shares_sha256="5a" * 32,
    received_at=NOW,
    log_index=0,
)
# A committee of three, threshold 2, with real signing keys (seeds 0x11, 0x12, 0x13).
MEMBER_SIGNERS = {
    f"officer-{n}": Ed25519PrivateKey.from_private_bytes(bytes([0x10 + n]) * 32) for n in (1, 2, 3)
}
MATERIAL = CommitteeMaterial(
    ocid=OCID,
    suite="x25519",
    threshold=2,
    members=[
        CommitteeMember(
            officer_id=officer,
            encryption_key=bytes([n]) * 32,
            signing_key=signer.public_key().public_bytes_raw(),
        )
        for n, (officer, signer) in enumerate(MEMBER_SIGNERS.items(), start=1)
    ],
)
CONFIRMATIONS = [
    committee_material.confirm(MATERIAL, officer, signer)
    for officer, signer in MEMBER_SIGNERS.items()
]
KEY_SHARES = [
    KeyShare(
        officer_id=f"officer-{n}",
        x=n,
        sealed_share=bytes([n]) * 115,
        share_sha256=f"{n:02x}" * 32,
    )
    for n in (1, 2, 3)
]
BID = BidContent.model_validate(
    {
        "ocid": OCID,
        "bidder_id": "supplier-RO-CUI-14399840",
        "offers": [{"lot_id": "lot-1", "price": {"amount": "870.00", "currency": "RON"}}],
        "valid_until": "2030-06-01",
        "declaration": {
            "no_exclusion_grounds": True,
            "meets_selection_criteria": True,
            "is_sme": True,
        },
    }
)

EXAMPLE_EVENTS: dict[str, Event] = {
    type(event).__name__: event
    for event in reversed(
        evaluation_events()
        + auction_events()
        + contract_events()
        + catalogue_events()
        + enquiry_events()
    )  # the first of each type wins
} | {
    type(event).__name__: event
    for event in (
        AgencyRegistered(agency_id=BUYER, name="Town hall of Cluj", identifier="RO-CUI-4267117"),
        OfficerRegistered(
            officer_id="officer-ana", agency_id=BUYER, name="Ana Pop", email="ana.pop@example.ro"
        ),
        TenderPublished(
            tender_id="t-1",
            ocid=OCID,
            buyer_id=BUYER,
            title="Office paper for 2030",
            description="A4 paper delivered monthly to the town hall.",
            procedure_type=ProcedureType.OPEN_WITH_AUCTION,
            requirements=requirements(),
            submission_deadline=DEADLINE,
        ),
        TenderDetailsAmended(title="Paper for 2030", description="A4 paper.", reason="Typo"),
        TenderRequirementsAmended(requirements=requirements("1500.00"), reason="Larger budget"),
        TenderDeadlineExtended(
            previous_deadline=DEADLINE,
            submission_deadline=DEADLINE + timedelta(days=7),
            reason="Bidders asked for time",
            required_by_rules=False,
        ),
        TenderCancelled(reason="The budget was withdrawn"),
        ConditionsComplaintFiled(
            complaint_id="conditions-complaint-1",
            supplier_id="supplier-RO-CUI-14399840",
            grounds="The grammage names one brand's paper.",
        ),
        ConditionsComplaintUpheld(
            complaint_id="conditions-complaint-1",
            reason="Equivalent paper must be accepted.",
            reviewer_id="reviewer-cnsc-1",
            review_body_id="agency-CNSC",
            tender_version=1,
        ),
        ConditionsComplaintDismissed(
            complaint_id="conditions-complaint-1",
            reason="The grammage is needed by the printers.",
            reviewer_id="reviewer-cnsc-1",
            review_body_id="agency-CNSC",
        ),
        TenderClosed(submission_deadline=DEADLINE),
        TenderUnsuccessful(reason="The tender closed with no bid to evaluate: none was submitted."),
        SupplierRegistered(
            supplier_id="supplier-RO-CUI-14399840",
            name="Hârtia Nouă SRL",
            identifier="RO-CUI-14399840",
            is_sme=True,
            email="oferte@hartia.ro",
            signing_key=bytes(range(32)),
        ),
        RegistrationClaimed(
            claim_id="claim-1",
            claimant_id="supplier-RO-CUI-14399840",
            identifier="RO-CUI-14399840",
            holder_id="supplier-RO-CUI-14399840",
            holder_identifier="RO-CUI-14399840",
            name="Hârtia Nouă SRL",
            is_sme=True,
            email="oferte@hartia.ro",
            signing_key=bytes(range(1, 33)),
        ),
        RegistrationClaimDecided(
            claim_id="claim-1",
            decision=ClaimDecision.ACCEPT,
            reason="The trade register names the claimant",
            decided_by="operator",
            claimant_id="supplier-RO-CUI-14399840",
            holder_id="supplier-RO-CUI-14399840",
        ),
        CommitteeKeysRegistered(
            officer_id="officer-ana", encryption_key=b"\x01" * 32, signing_key=b"\x02" * 32
        ),
        CommitteeNamed(material=MATERIAL, named_by="officer-ana"),
        CommitteeConfirmed(confirmation=CONFIRMATIONS[0]),
        BidSubmitted(
            receipt=RECEIPT,
            ciphertext=b"\x00\xff sealed",
            key_commitment="c0" * 32,
            material_sha256="7e" * 32,
            key_shares=KEY_SHARES,
            signature=b"\x04" * 64,
        ),
        BidWithdrawn(
            receipt=RECEIPT.model_copy(
                update={
                    "kind": "withdrawal",
                    "lots": (),
                    "ciphertext_sha256": None,
                    "material_sha256": None,
                    "shares_sha256": None,
                    "version": 2,
                }
            ),
            signature=b"\x05" * 64,
        ),
        BidLogSealed(tree_size=2, root="ab" * 32),
        OpeningSharesAccepted(officer_id="officer-1", shares=1, problems=0),
        # legacy (version 1 sealing): still read from older stores
        OpeningKeyIssued(
            ocid=OCID,
            public_key=b"\x03" * 32,
            threshold=2,
            shares=[
                LegacyEncryptedShare(
                    officer_id=f"officer-{n}",
                    x=n,
                    encrypted_share=bytes([n]) * 115,
                    share_sha256=f"{n:02x}" * 32,
                )
                for n in (1, 2, 3)
            ],
        ),
        OpeningShareAccepted(officer_id="officer-1", x=1),
        BidOpened(bid_id="bid-1", bidder_id=RECEIPT.bidder_id, version=1, content=BID),
        BidRejected(
            bid_id="bid-2",
            bidder_id="supplier-RO-CUI-2",
            version=1,
            reason_code="tampered",
            reason="the stored ciphertext differs from its commitment",
        ),
        ReconfirmationRequested(
            bidder_id="supplier-RO-CUI-14399840",
            bid_id="bid-1",
            version=1,
            requirements_sha256="e3" * 32,
            reason="Larger budget",
        ),
        BidReconfirmed(
            bidder_id="supplier-RO-CUI-14399840",
            bid_id="bid-1",
            version=1,
            requirements_sha256="e3" * 32,
            signature=b"\x06" * 64,
            received_at=NOW,
        ),
        BidsOpened(
            participants=["officer-1", "officer-3"],
            opened=1,
            rejected=1,
            tree_size=2,
            root="ab" * 32,
            log_matches_root=True,
        ),
    )
}
