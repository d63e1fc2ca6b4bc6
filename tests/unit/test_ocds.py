"""OCDS releases of whole procedures, validated by the standard's own validator (libcoveocds)
against the vendored schema, offline; their content event by event; and the compiled record
against the reference merge (ocdsmerge)."""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ocdsmerge import Merger  # type: ignore[import-untyped]

from bidding import keys
from contracts import contract as contracts
from procurement import evaluation as evaluations
from procurement import tender as tenders
from procurement.rules import ProcedureRules
from publication import ocds
from publication.ocds import PartyInfo
from schemas.bids import BidContent, Receipt
from schemas.commands import Actor, AmendTender, CancelTender, CloseTender, PublishTender, Role
from schemas.contracts import (
    AmendContract,
    AnyContractCommand,
    DrawContract,
    MilestoneStatus,
    Party,
    Period,
    RecordMilestone,
    RecordPayment,
    SignContract,
)
from schemas.evaluation import (
    AnyEvaluationCommand,
    CancelProcedure,
    CompleteLotEvaluation,
    DecideAward,
    DisqualifyBid,
    FileComplaint,
    QualifyBid,
    Remedy,
    StartEvaluation,
    UpholdComplaint,
)
from schemas.events import (
    AgencyRegistered,
    BidLogSealed,
    BidOpened,
    BidRejected,
    BidsOpened,
    BidSubmitted,
    Envelope,
    Event,
    SupplierRegistered,
    envelope,
)
from schemas.values import (
    AwardCriteria,
    Item,
    Lot,
    QualityCriterion,
    Requirements,
    Value,
)
from tests.ocds_validation import OCDS_DIR, assert_valid, validate
from tests.unit.examples import KEY_SHARES

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
BUYER = "agency-RO-CUI-4267117"
OCID = "ocds-000000-0042"
OFFICER = Actor(id="officer-ana", role=Role.OFFICER, agency_id=BUYER)
SYSTEM = Actor(id="platform", role=Role.SYSTEM)
WINNER, RIVAL, LATE = "supplier-RO-CUI-14399840", "supplier-RO-CUI-2", "supplier-RO-CUI-3"
SIGNING_KEYS = {who: Ed25519PrivateKey.generate() for who in (OFFICER.id, WINNER)}
PARTIES = {
    info.id: info
    for info in (
        ocds.party_info(
            AgencyRegistered(agency_id=BUYER, name="Primăria Cluj", identifier="RO-CUI-4267117")
        ),
        *(
            ocds.party_info(
                SupplierRegistered(
                    supplier_id=supplier,
                    name=f"Furnizor {n} SRL",
                    identifier=supplier.removeprefix("supplier-"),
                    is_sme=n != 2,
                    email=f"oferte{n}@example.ro",
                    signing_key=bytes(32),
                )
            )
            for n, supplier in enumerate((WINNER, RIVAL, LATE), 1)
        ),
    )
}


# Whole procedures, run through the domain itself


def item(item_id: str, cpv: str = "30197630-1", quantity: str = "500") -> Item:
    return Item(
        id=item_id,
        description=f"{item_id} as specified",
        cpv=cpv,
        quantity=Decimal(quantity),
        unit="piece",
    )


def ron(amount: str) -> Value:
    return Value(amount=Decimal(amount), currency="RON")


REQUIREMENTS = Requirements(
    cpv="30197630-1",
    lots=[
        Lot(id="lot-1", title="Office paper", value=ron("10000.00"), items=[item("paper")]),
        Lot(
            id="lot-2",
            title="Toner",
            value=ron("2500.50"),
            items=[item("toner", "30125110-5", "40.5")],
        ),
    ],
)


@dataclass
class Story:
    """The envelopes of one procedure in store order, each aggregate numbered from 1."""

    now: datetime = NOW
    history: list[Envelope] = field(default_factory=list)
    sequences: Counter[str] = field(default_factory=Counter)

    def record(self, aggregate_id: str, events: Sequence[Event], actor: Actor = SYSTEM) -> None:
        for event in events:
            self.sequences[aggregate_id] += 1
            self.history.append(
                envelope(
                    event,
                    event_id=UUID(int=len(self.history) + 1),
                    aggregate_id=aggregate_id,
                    sequence=self.sequences[aggregate_id],
                    actor=actor.id,
                    occurred_at=self.now,
                )
            )
        self.now += timedelta(minutes=1)

    def events(self, aggregate_id: str) -> list[Event]:
        return [e.event for e in self.history if e.aggregate_id == aggregate_id]

    @property
    def tender(self) -> tenders.Tender:
        tender = tenders.replay(self.events(OCID))
        assert tender is not None
        return tender

    @property
    def evaluation(self) -> evaluations.Evaluation:
        state = evaluations.replay(self.events(f"{OCID}:evaluation"))
        assert state is not None
        return state


def published(requirements: Requirements = REQUIREMENTS) -> Story:
    story = Story()
    command = PublishTender(
        title="Rechizite pentru 2030",
        description="Hârtie și toner livrate lunar.",
        requirements=requirements,
        submission_deadline=NOW + timedelta(days=40),
    )
    events = tenders.publish(
        command, OFFICER, story.now, ProcedureRules(), tender_id="t-42", ocid=OCID
    )
    story.record(OCID, events, OFFICER)
    return story


def amended(story: Story) -> None:
    """A new title, a larger estimate for lot-1 and a week more to bid: three events."""
    lots = [
        lot.model_copy(update={"value": ron("12000.00")}) if lot.id == "lot-1" else lot
        for lot in REQUIREMENTS.lots
    ]
    command = AmendTender(
        ocid=OCID,
        reason="Bidders asked for a larger quantity",
        title="Rechizite pentru anul 2030",
        requirements=REQUIREMENTS.model_copy(update={"lots": lots}),
        submission_deadline=story.tender.submission_deadline + timedelta(days=7),
    )
    events = tenders.amend(story.tender, command, OFFICER, story.now, ProcedureRules())
    story.record(OCID, events, OFFICER)


def receipt(bidder_id: str, index: int) -> Receipt:
    return Receipt(
        kind="bid",
        bid_id=f"bid-{index}",
        ocid=OCID,
        bidder_id=bidder_id,
        lots=("lot-1",),
        version=1,
        ciphertext_sha256=f"{index:02x}" * 32,
        received_at=NOW + timedelta(days=1, minutes=index),
        log_index=index,
    )


PRICES = {WINNER: "9700.00", RIVAL: "9900.00"}  # for lot-1; LATE's bid does not open


def bids_submitted(story: Story) -> None:
    for index, bidder_id in enumerate((WINNER, RIVAL, LATE)):
        sealed = BidSubmitted(
            receipt=receipt(bidder_id, index),
            ciphertext=b"sealed",
            key_commitment="c0" * 32,
            material_sha256="7e" * 32,
            key_shares=KEY_SHARES,
            signature=bytes(64),
        )
        story.record(f"{OCID}:bids", [sealed], Actor(id=bidder_id, role=Role.SUPPLIER))


def closed(story: Story) -> None:
    story.now = story.tender.submission_deadline
    story.record(f"{OCID}:bids", [BidLogSealed(tree_size=3, root="ab" * 32)])
    story.record(OCID, tenders.close(story.tender, CloseTender(ocid=OCID), SYSTEM, story.now))


def opened(
    story: Story,
    offers: dict[str, dict[str, Value]] | None = None,
    rejected: Sequence[str] = (LATE,),
) -> None:
    """The bids of ``offers`` open, those of ``rejected`` do not."""
    if offers is None:
        offers = {bidder: {"lot-1": ron(price)} for bidder, price in PRICES.items()}
    events: list[Event] = [
        BidOpened(bid_id=f"bid-{n}", bidder_id=bidder, version=1, content=content(bidder, prices))
        for n, (bidder, prices) in enumerate(offers.items())
    ]
    events += [
        BidRejected(
            bid_id=f"bid-{len(offers) + n}",
            bidder_id=bidder,
            version=1,
            reason_code="tampered",
            reason="the ciphertext differs from its receipt",
        )
        for n, bidder in enumerate(rejected)
    ]
    summary = BidsOpened(
        participants=[OFFICER.id],
        opened=len(offers),
        rejected=len(rejected),
        tree_size=len(events),
        root="ab" * 32,
        log_matches_root=True,
    )
    story.record(f"{OCID}:bids", [*events, summary])


def content(bidder_id: str, prices: dict[str, Value]) -> BidContent:
    offers = [{"lot_id": lot, "price": price.model_dump()} for lot, price in prices.items()]
    return BidContent.model_validate(
        {
            "ocid": OCID,
            "bidder_id": bidder_id,
            "offers": offers,
            "valid_until": "2030-09-01",
            "declaration": {
                "no_exclusion_grounds": True,
                "meets_selection_criteria": True,
                "is_sme": True,
            },
        }
    )


def evaluate(story: Story, command: AnyEvaluationCommand, actor: Actor = OFFICER) -> None:
    aggregate = f"{OCID}:evaluation"
    state = evaluations.replay(story.events(aggregate))
    story.record(aggregate, evaluations.decide(state, command, actor, story.now), actor)


def evaluated(story: Story) -> None:
    """Every opened bid qualified by the committee, whose only member is OFFICER."""
    bids = [
        evaluations.opened_bid(e.event, NOW)
        for e in story.history
        if isinstance(e.event, BidOpened)
    ]
    facts = evaluations.facts_from_tender(story.tender, [OFFICER.id])
    evaluate(story, StartEvaluation(ocid=OCID, facts=facts, bids=tuple(bids)), SYSTEM)
    for bid in bids:
        evaluate(story, QualifyBid(ocid=OCID, bid_id=bid.bid_id))


def awarded(story: Story, lots: Sequence[str] = ("lot-1",)) -> None:
    """Each lot of ``lots`` goes to its lowest price; the others had no bid, and ended
    unsuccessful by themselves when the evaluation started."""
    evaluated(story)
    for lot in story.tender.requirements.lots:
        if lot.id in lots:
            evaluate(story, CompleteLotEvaluation(ocid=OCID, lot_id=lot.id))
            evaluate(story, DecideAward(ocid=OCID, lot_id=lot.id))


CONTRACT = f"{OCID}:contract:lot-1"
SUPPLIER_ACTOR = Actor(id=WINNER, role=Role.SUPPLIER)


def contract_step(story: Story, command: AnyContractCommand, actor: Actor = OFFICER) -> None:
    state = contracts.replay(story.events(CONTRACT))
    award = contracts.award_facts(story.tender, story.evaluation, "lot-1")
    may_be_signed = evaluations.contract_may_be_signed(story.evaluation, "lot-1", story.now)
    signer = SIGNING_KEYS.get(actor.id)
    events = contracts.decide(
        state,
        command,
        actor,
        story.now,
        award=award,
        contract_id=CONTRACT,
        may_be_signed=may_be_signed,
        signer_key=None if signer is None else keys.raw_public(signer),
    )
    story.record(CONTRACT, events, actor)


def signed(story: Story) -> None:
    story.now += timedelta(days=11)  # the standstill is over
    period = Period(start_date=date(2030, 6, 1), end_date=date(2030, 12, 31))
    contract_step(story, DrawContract(ocid=OCID, lot_id="lot-1", period=period))
    digest = story.events(CONTRACT)[0].document_sha256  # type: ignore[attr-defined]
    for actor, party in ((SUPPLIER_ACTOR, Party.SUPPLIER), (OFFICER, Party.BUYER)):
        fields = contracts.signature_fields(CONTRACT, digest, party)
        signature = keys.sign(SIGNING_KEYS[actor.id], contracts.CONTRACT_SIGNATURE, fields)
        contract_step(story, SignContract(contract_id=CONTRACT, signature=signature), actor)


def carried_out(story: Story) -> None:
    """Amended, one milestone scheduled, a payment, and the milestone met: completed."""
    contract_step(
        story, AmendContract(contract_id=CONTRACT, reason="More paper", value=ron("10185.00"))
    )
    delivery = RecordMilestone(
        contract_id=CONTRACT,
        milestone_id="m-1",
        title="Delivery of paper",
        due_date=date(2030, 7, 1),
    )
    contract_step(story, delivery)
    contract_step(
        story,
        RecordPayment(
            contract_id=CONTRACT, payment_id="op-1", value=ron("5000.00"), paid_at=story.now
        ),
    )
    met = delivery.model_copy(update={"status": MilestoneStatus.MET, "date_met": story.now.date()})
    contract_step(story, met)


def whole_procedure() -> Story:
    story = published()
    amended(story)
    bids_submitted(story)
    closed(story)
    opened(story)
    awarded(story)
    signed(story)
    carried_out(story)
    return story


def cancelled_procedure() -> Story:
    story = published()
    bids_submitted(story)
    story.record(
        OCID,
        tenders.cancel(
            story.tender, CancelTender(ocid=OCID, reason="The budget was withdrawn"), OFFICER
        ),
        OFFICER,
    )
    return story


# The validator, offline, on the vendored schema


def packages(story: Story) -> tuple[dict[str, Any], dict[str, Any]]:
    """The procedure's release package and record package, published when the story ends."""
    written = ocds.releases(story.history, PARTIES)
    uri = f"https://achizitii.example.ro/ocds/{OCID}.json"
    publisher, extensions_at = "Achiziții Publice", "https://achizitii.example.ro/ocds/extensions/"
    return (
        ocds.release_package(
            written,
            uri=uri,
            published_date=story.now,
            publisher=publisher,
            extensions_at=extensions_at,
        ),
        ocds.record_package(
            [ocds.compile_record(written)],
            uri=uri,
            published_date=story.now,
            publisher=publisher,
            extensions_at=extensions_at,
        ),
    )


def types_and_tags(story: Story) -> list[tuple[str, list[str]]]:
    types = {f"{OCID}-{e.event_id}": e.type for e in story.history}
    return [(types[r["id"]], r["tag"]) for r in ocds.releases(story.history, PARTIES)]


def walk(value: Any) -> list[Any]:
    """Every value in a JSON-like tree, containers included."""
    if isinstance(value, dict):
        return [value, *(v for item in value.values() for v in walk(item))]
    if isinstance(value, list):
        return [value, *(v for item in value for v in walk(item))]
    return [value]


def leaves(value: Any) -> set[Any]:
    return {v for v in walk(value) if not isinstance(v, dict | list)}


# Validation by the standard's validator


def test_a_whole_procedure_is_a_valid_release_package() -> None:
    """Published, amended, closed, opened, evaluated, awarded, contracted, amended, carried out
    and completed: libcoveocds finds no error, no closed code outside its list, no extra field."""
    release_package, _ = packages(whole_procedure())
    assert_valid(release_package)


def test_a_whole_procedure_is_a_valid_record_package() -> None:
    """The record, with its releases and compiled release, passes the same validator."""
    _, record_package = packages(whole_procedure())
    assert_valid(record_package)


def test_a_cancelled_tender_is_valid_and_says_it_is_cancelled() -> None:
    """A tender cancelled before its deadline: two releases, the last one cancelled."""
    story = cancelled_procedure()
    release_package, record_package = packages(story)
    assert_valid(release_package)
    assert_valid(record_package)
    assert [tags for _, tags in types_and_tags(story)] == [["tender"], ["tenderCancellation"]]
    assert record_package["records"][0]["compiledRelease"]["tender"]["status"] == "cancelled"


def test_the_validator_catches_a_wrong_code_and_a_wrong_type() -> None:
    """The checks above are not vacuous: an award status OCDS does not have and a count in
    words are both reported."""
    release_package, _ = packages(whole_procedure())
    last = release_package["releases"][-1]
    last["awards"][0]["status"] = "awarded"
    last["tender"]["numberOfTenderers"] = "three"
    last["bids"]["details"][0]["status"] = "winning"  # the extensions are applied too
    last["tender"]["lots"][0]["value"] = "12000"
    result = validate(release_package)
    closed = result["additional_closed_codelist_values"]
    assert closed["releases/awards/status"]["values"] == ["awarded"]
    assert closed["releases/bids/details/status"]["values"] == ["winning"]
    assert sorted(error["path"] for error in result["validation_errors"]) == [
        "releases/14/tender/lots/0/value",
        "releases/14/tender/numberOfTenderers",
    ]


def test_a_procedure_whose_award_is_overturned_and_then_cancelled_is_valid() -> None:
    """A complaint upheld cancels the award and reopens the tender; the procedure then ends."""
    story = published()
    closed(story)
    opened(story)
    awarded(story)
    rival = Actor(id=RIVAL, role=Role.SUPPLIER)
    evaluate(story, FileComplaint(ocid=OCID, lot_id="lot-1", grounds="Unfair"), rival)
    reviewer = Actor(id="reviewer-cnsc-1", role=Role.REVIEWER, agency_id="agency-CNSC")
    upheld = UpholdComplaint(
        ocid=OCID, complaint_id="complaint-1", remedy=Remedy.RE_EVALUATE, reason="Founded"
    )
    evaluate(story, upheld, reviewer)
    evaluate(story, CancelProcedure(ocid=OCID, reason="Budget withdrawn"))
    release_package, record_package = packages(story)
    assert_valid(release_package)
    assert_valid(record_package)
    tags = [tags for kind, tags in types_and_tags(story) if kind != "TenderPublished"]
    assert tags[-4:] == [
        ["award", "tenderUpdate"],  # lot-2 ended unsuccessful: the tender stage is complete
        ["awardUpdate"],  # the complaint, on the award it is about
        ["awardCancellation", "tenderUpdate"],  # upheld: it reopens the tender
        ["tenderCancellation"],
    ]
    compiled = record_package["records"][0]["compiledRelease"]
    assert compiled["tender"]["status"] == "cancelled"
    assert [a["status"] for a in compiled["awards"]] == ["unsuccessful", "cancelled"]
    roles = {party["id"]: party["roles"] for party in compiled["parties"]}
    assert roles[WINNER] == ["tenderer"]  # no longer a supplier


# What each event publishes


def test_each_event_that_changes_public_information_writes_one_release() -> None:
    """The tags, event by event; the bid log's internals, the evaluation's steps and a first
    signature write nothing."""
    assert types_and_tags(whole_procedure()) == [
        ("TenderPublished", ["tender"]),
        ("TenderDetailsAmended", ["tenderAmendment"]),
        ("TenderRequirementsAmended", ["tenderAmendment"]),
        ("TenderDeadlineExtended", ["tenderAmendment"]),
        ("TenderClosed", ["tenderUpdate"]),
        ("BidsOpened", ["tenderUpdate"]),
        ("LotUnsuccessful", ["award"]),  # lot-2 had no bid: it ends when evaluation starts
        ("AwardDecided", ["award", "tenderUpdate"]),
        ("ContractDrawn", ["awardUpdate", "contract"]),
        ("ContractActivated", ["contract"]),
        ("ContractAmended", ["contractAmendment"]),
        ("MilestoneRecorded", ["implementation"]),
        ("PaymentRecorded", ["implementation"]),
        ("MilestoneRecorded", ["implementationUpdate"]),
        ("ContractCompleted", ["contractTermination"]),
    ]


def test_nothing_about_bidders_is_published_before_the_opening() -> None:
    """Until BidsOpened no release names a bidder or counts them; then only the count, until
    the award names the tenderers."""
    story = whole_procedure()
    bidders = {WINNER, RIVAL, LATE}
    for kind, release in zip(
        [kind for kind, _ in types_and_tags(story)],
        ocds.releases(story.history, PARTIES),
        strict=True,
    ):
        ids = {v.get("id") for v in walk(release) if isinstance(v, dict)}
        tender = release["tender"]
        if kind in ("BidsOpened", "TenderClosed") or kind.startswith("Tender"):
            assert not ids & bidders
            assert "tenderers" not in tender
            assert ("numberOfTenderers" in tender) == (kind == "BidsOpened")
        elif kind == "LotUnsuccessful":  # lot-2, without bids, before any award: counted only
            assert not ids & bidders
            assert "tenderers" not in tender
            assert tender["numberOfTenderers"] == 3
        else:
            assert tender["numberOfTenderers"] == 3  # opened or not, three bidders sent a bid
            assert {t["id"] for t in tender["tenderers"]} == bidders


def test_a_lots_bid_prices_are_published_with_its_award() -> None:
    """No release before the award carries a price a bidder offered; from the award, the bids
    list each opened bid's price for the lot with the committee's verdict, and the bid that
    could not be opened, without a price."""
    prices = {Decimal(price) for price in PRICES.values()}
    written = ocds.releases(whole_procedure().history, PARTIES)
    for release in written:
        if "awards" not in release:
            assert "bids" not in release
            assert not prices & leaves(release)
    assert core(written[-1]["bids"]["details"]) == [
        offer("bid-0", WINNER, "lot-1", "9700.00", "valid"),
        offer("bid-1", RIVAL, "lot-1", "9900.00", "valid"),
        {"id": "bid-2", "status": "disqualified", "tenderers": [named(LATE)]},
    ]


def test_a_lot_still_in_evaluation_keeps_its_prices_to_itself() -> None:
    """lot-1 is awarded while lot-2 is still evaluated: lot-1's offers and verdicts are public,
    lot-2's prices are not, and the lots say where each stands."""
    story = published()
    closed(story)
    two_lots = {WINNER: {"lot-1": ron("9700.00"), "lot-2": ron("2400.00")}}
    opened(story, two_lots | {RIVAL: {"lot-1": ron("9600.00"), "lot-2": ron("2300.00")}})
    facts = evaluations.facts_from_tender(story.tender, [OFFICER.id])
    bids = [
        evaluations.opened_bid(e.event, NOW)
        for e in story.history
        if isinstance(e.event, BidOpened)
    ]
    evaluate(story, StartEvaluation(ocid=OCID, facts=facts, bids=tuple(bids)), SYSTEM)
    evaluate(story, QualifyBid(ocid=OCID, bid_id="bid-0"))
    evaluate(story, DisqualifyBid(ocid=OCID, bid_id="bid-1", reason="No quality certificate"))
    evaluate(story, CompleteLotEvaluation(ocid=OCID, lot_id="lot-1"))
    evaluate(story, DecideAward(ocid=OCID, lot_id="lot-1"))
    award = ocds.releases(story.history, PARTIES)[-1]
    assert award["tag"] == ["award"]
    assert core(award["bids"]["details"]) == [
        offer("bid-0", WINNER, "lot-1", "9700.00", "valid"),
        offer("bid-1", RIVAL, "lot-1", "9600.00", "disqualified"),
        {"id": "bid-2", "status": "disqualified", "tenderers": [named(LATE)]},
    ]
    assert not {Decimal("2400.00"), Decimal("2300.00")} & leaves(award)
    lots = {lot["id"]: lot["status"] for lot in award["tender"]["lots"]}
    assert lots == {"lot-1": "complete", "lot-2": "active"}
    assert award["awards"][0]["relatedLots"] == ["lot-1"]


def core(details: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """bids.details without the awardEvidence extension's fields (test_ocds_award_evidence)."""
    evidence = {"receivedAt", "statusDetails", "openedValue", "abnormallyLowPrice"}
    return [{key: v for key, v in detail.items() if key not in evidence} for detail in details]


def offer(bid: str, bidder: str, lot: str, price: str, status: str) -> dict[str, Any]:
    return {
        "id": f"{bid}:{lot}",
        "status": status,
        "tenderers": [named(bidder)],
        "value": {"amount": Decimal(price), "currency": "RON"},
        "relatedLots": [lot],
    }


def named(party_id: str) -> dict[str, str]:
    return {"id": party_id, "name": PARTIES[party_id].name}


def test_lots_and_items_say_which_lot_is_which() -> None:
    """Each lot with its own estimate, each item with its lot, each award with its lot."""
    last = ocds.releases(whole_procedure().history, PARTIES)[-1]
    tender = last["tender"]
    assert [(lot["id"], lot["value"]["amount"], lot["status"]) for lot in tender["lots"]] == [
        ("lot-1", Decimal("12000.00"), "complete"),
        ("lot-2", Decimal("2500.50"), "unsuccessful"),
    ]
    assert {item["id"]: item["relatedLot"] for item in tender["items"]} == {
        "paper": "lot-1",
        "toner": "lot-2",
    }
    assert sorted(award["relatedLots"] for award in last["awards"]) == [["lot-1"], ["lot-2"]]
    assert {item["relatedLot"] for item in last["contracts"][0]["items"]} == {"lot-1"}


def test_winners_are_suppliers_and_every_reference_names_a_party() -> None:
    """The winner has the roles tenderer, supplier and payee; the buyer buyer, procuringEntity
    and payer; every organization referenced anywhere is in the release's parties."""
    for release in ocds.releases(whole_procedure().history, PARTIES):
        parties = {party["id"]: party for party in release["parties"]}
        references = [
            v
            for key, v in _references(release)
            if key in ("buyer", "procuringEntity", "suppliers", "tenderers", "payer", "payee")
        ]
        assert {ref["id"] for ref in references} <= set(parties)
        assert all(parties[ref["id"]]["name"] == ref["name"] for ref in references)
    roles = {party["id"]: party["roles"] for party in release["parties"]}
    assert roles[BUYER] == ["buyer", "procuringEntity", "payer"]
    assert roles[WINNER] == ["tenderer", "supplier", "payee"]
    assert roles[RIVAL] == roles[LATE] == ["tenderer"]
    scales = {party["id"]: party.get("details") for party in release["parties"]}
    assert scales[WINNER] == scales[LATE] == {"scale": "sme"}  # as each declared
    assert scales[RIVAL] == {"scale": "large"}
    assert scales[BUYER] is None
    assert parties[BUYER]["identifier"] == {
        "scheme": "RO-CUI",
        "id": "4267117",
        "legalName": "Primăria Cluj",
    }


def _references(value: Any, key: str = "") -> list[tuple[str, dict[str, Any]]]:
    if isinstance(value, list):
        return [pair for item in value for pair in _references(item, key)]
    if not isinstance(value, dict):
        return []
    found = [(key, value)] if key else []
    return found + [pair for k, v in value.items() for pair in _references(v, k)]


def test_release_ids_are_unique_stable_and_contracts_name_their_award() -> None:
    """ids are ocid-event id, the same each time; each contract's awardID is an award's id."""
    story = whole_procedure()
    first = ocds.releases(story.history, PARTIES)
    again = ocds.releases(story.history, PARTIES)
    ids = [release["id"] for release in first]
    assert len(set(ids)) == len(ids)
    assert ids == [release["id"] for release in again]
    assert all(i.startswith(f"{OCID}-") for i in ids)
    last = first[-1]
    assert {c["awardID"] for c in last["contracts"]} <= {a["id"] for a in last["awards"]}


def test_the_compiled_release_has_the_latest_values_as_the_reference_merge_has() -> None:
    """The amended title, the active award, the amended and completed contract; and it equals
    what ocdsmerge compiles from the same releases with the vendored schema."""
    release_package, record_package = packages(whole_procedure())
    record = record_package["records"][0]
    compiled = record["compiledRelease"]
    assert compiled["tender"]["title"] == "Rechizite pentru anul 2030"
    assert len(compiled["tender"]["amendments"]) == 3
    awards = {award["relatedLots"][0]: award["status"] for award in compiled["awards"]}
    assert awards == {"lot-1": "active", "lot-2": "unsuccessful"}
    contract = compiled["contracts"][0]
    assert (contract["status"], contract["value"]["amount"]) == ("terminated", Decimal("10185.00"))
    assert contract["implementation"]["milestones"][0]["status"] == "met"
    assert compiled["tag"] == ["compiled"]
    assert compiled["date"] == release_package["releases"][-1]["date"]
    schema = json.loads((OCDS_DIR / "release-schema.json").read_text(encoding="utf-8"))
    assert Merger(schema).create_compiled_release(release_package["releases"]) == compiled
    assert record["releases"] == release_package["releases"]


def test_amounts_are_written_exactly() -> None:
    """18 digits to the cent survive ocds.dumps exactly, where a float would round them."""
    amount = Decimal("1234567890123456.78")
    text = ocds.dumps({"value": {"amount": amount, "currency": "RON"}, "n": [1, True, None]})
    assert text == '{"value":{"amount":1234567890123456.78,"currency":"RON"},"n":[1,true,null]}'
    assert json.loads(text, parse_float=Decimal)["value"]["amount"] == amount
    assert float(amount) != amount


def test_a_registered_identifier_is_split_into_its_register_and_number() -> None:
    """RO-CUI-4267117 is 4267117 in RO-CUI; an identifier of no known shape is kept whole."""
    assert PARTIES[BUYER] == PartyInfo(BUYER, "Primăria Cluj", "4267117", "RO-CUI")
    assert PARTIES[RIVAL].is_sme is False
    agency = AgencyRegistered(agency_id="agency-x", name="Agenția X", identifier="12345")
    assert ocds.party_info(agency) == PartyInfo("agency-x", "Agenția X", "12345", None)


def test_no_history_writes_no_release() -> None:
    """An ocid with no event has nothing to publish."""
    assert ocds.releases([], PARTIES) == []


# Generated tenders


CPVS = ("30197630-1", "45210000-2", "79340000-9", "33600000-6", "72000000-5", "09310000-5")
CURRENCIES = ("RON", "EUR", "USD", "HUF", "BGN", "GBP")


@st.composite
def generated_requirements(draw: st.DrawFn) -> Requirements:
    """1 to 3 lots of 1 to 3 items, of any CPV division and currency, priceOnly or rated."""
    currency = draw(st.sampled_from(CURRENCIES))
    lots = []
    for n in range(1, draw(st.integers(1, 3)) + 1):
        items = [
            Item(
                id=f"item-{n}-{i}",
                description=f"Item {i} of lot {n}",
                cpv=draw(st.sampled_from(CPVS)),
                quantity=draw(st.decimals(Decimal("0.0001"), Decimal(10**9), places=4)),
                unit=draw(st.sampled_from(("piece", "kg", "hour", "m2"))),
            )
            for i in range(draw(st.integers(1, 3)))
        ]
        amount = draw(st.decimals(Decimal("10.00"), Decimal(10**12), places=2))
        lots.append(
            Lot(
                id=f"lot-{n}",
                title=f"Lot {n}",
                value=Value(amount=amount, currency=currency),
                items=items,
            )
        )
    rated = draw(st.booleans())
    return Requirements(
        cpv=draw(st.sampled_from(CPVS)),
        lots=lots,
        award_criteria=AwardCriteria.RATED_CRITERIA if rated else AwardCriteria.PRICE_ONLY,
        price_weight=Decimal(70 if rated else 100),
        quality_criteria=(QualityCriterion(id="tech", name="Technical merit", weight=Decimal(30)),)
        if rated
        else (),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generated_requirements())
def test_generated_tenders_are_valid_releases(requirements: Requirements) -> None:
    """Any tender the platform accepts publishes valid releases: opened with one bid per lot
    at 90 % of its estimate and, for priceOnly, awarded lot by lot."""
    story = published(requirements)
    closed(story)
    offers = {
        WINNER: {
            lot.id: Value(
                amount=(lot.value.amount * Decimal("0.9")).quantize(Decimal("0.01")),
                currency=lot.value.currency,
            )
            for lot in requirements.lots
        }
    }
    opened(story, offers, rejected=())
    if requirements.award_criteria is AwardCriteria.PRICE_ONLY:
        awarded(story, lots=[lot.id for lot in requirements.lots])
    release_package, record_package = packages(story)
    assert_valid(release_package)
    compiled = record_package["records"][0]["compiledRelease"]
    assert compiled["tender"]["value"] == {
        "amount": requirements.estimated_value.amount,
        "currency": requirements.estimated_value.currency,
        "valueAddedTaxIncluded": requirements.value_added_tax_included,
    }
    assert len(compiled["tender"]["items"]) == sum(len(lot.items) for lot in requirements.lots)


def test_each_release_is_the_procedure_as_it_stood_at_its_event() -> None:
    """A release written is never changed by the events after it: each equals the newest
    release of the history cut right after its own event."""
    history = whole_procedure().history
    written = ocds.releases(history, PARTIES)
    as_it_stood: list[dict[str, Any]] = []
    for end in range(1, len(history) + 1):
        cut = ocds.releases(history[:end], PARTIES)
        if cut and cut[-1]["id"] not in {r["id"] for r in as_it_stood}:
            as_it_stood.append(cut[-1])
    assert len(written) > 5
    assert written == as_it_stood
