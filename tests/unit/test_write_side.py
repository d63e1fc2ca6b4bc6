"""The write side on the in-memory store: the command bus, the unit of work with its
policies, idempotency and retries, and the bids' group commit. No database."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.settings import Settings
from app.bid_intake import BidIntake
from app.command_bus import COMMANDS, CommandBus
from app.memory_store import MemoryEventStore, MemoryShareVault, MemoryTransaction
from app.opening import OpeningCeremony
from app.policies import POLICIES
from app.records import Credential, HandOver
from app.store import ConcurrentWrite
from app.unit_of_work import ATTEMPTS
from bidding import committee_material, committee_sealing, keys, receipts, shamir, suites
from bidding.entries import BidLimits
from bidding.log import bid_log_id
from procurement import auction, evaluation
from procurement.errors import Rejected, WrongState
from schemas.auction import CloseAuction
from schemas.claims import ClaimDecision, DecideRegistrationClaim, RegistrationClaimed
from schemas.commands import Actor, AmendTender, CloseTender, Role
from schemas.committee import (
    CommitteeConfirmed,
    CommitteeMaterial,
    CommitteeMember,
    CommitteeNamed,
    SealedShareForMember,
)
from schemas.events import BidSubmitted, Envelope, Event, envelope
from sdk import committee as member_side
from tests.unit import evaluation_examples as examples
from tests.unit.examples import (
    BID,
    BUYER,
    DEADLINE,
    NOW,
    OCID,
    OFFICER,
    OPERATOR,
    SYSTEM,
    publish_command,
)
from tests.unit.examples import EXAMPLE_EVENTS as EXAMPLES
from tests.unit.test_auction import FIXED_60, INVITED, PLATFORM, T0, seconds
from tests.unit.test_evaluation import ready_for_auction
from tests.unit.test_group_commit import CountingStore

OFFICERS = ("officer-1", "officer-2", "officer-3")
ENCRYPTION = {o: suites.MemberPrivateKeys.generate() for o in OFFICERS}
SIGNING = {o: Ed25519PrivateKey.generate() for o in OFFICERS}
MATERIAL = CommitteeMaterial(
    ocid=OCID,
    suite="x25519",
    threshold=2,
    members=[
        CommitteeMember(
            officer_id=o,
            encryption_key=ENCRYPTION[o].public("x25519"),
            signing_key=keys.raw_public(SIGNING[o]),
        )
        for o in OFFICERS
    ],
)
PLATFORM_KEY = Ed25519PrivateKey.generate()
BIDDERS = {f"supplier-{n}": Ed25519PrivateKey.generate() for n in range(3)}


class Clock:
    """A clock the test sets."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def given(store: MemoryEventStore, aggregate_id: str, *events: Event) -> None:
    """Events already recorded, as if earlier commands had decided them."""
    for number, event in enumerate(events, start=len(store._streams.get(aggregate_id, [])) + 1):
        item = envelope(
            event,
            event_id=uuid.uuid4(),
            aggregate_id=aggregate_id,
            sequence=number,
            actor="officer-ana",
            occurred_at=NOW,
        )
        store._streams.setdefault(aggregate_id, []).append(item)
        store.recorded.append(item)


def a_tender_taking_sealed_bids(store: MemoryEventStore) -> None:
    """The example tender with its committee named and confirmed by two of three."""
    confirmed = [
        CommitteeConfirmed(confirmation=committee_material.confirm(MATERIAL, o, SIGNING[o]))
        for o in OFFICERS[:2]
    ]
    given(store, OCID, EXAMPLES["TenderPublished"])
    given(
        store,
        bid_log_id(OCID),
        CommitteeNamed(material=MATERIAL, named_by="officer-ana"),
        *confirmed,
    )


def bus(store: MemoryEventStore, clock: Clock) -> CommandBus:
    return CommandBus(None, Settings(), clock, store=store)


def types(items: list[Envelope]) -> list[str]:
    return [item.type for item in items]


async def test_closing_a_tender_seals_its_bid_log_in_the_same_transaction() -> None:
    """The closing and the seal it causes are one commit (policy: tender closed -> seal),
    and so is the end of a tender whose log is empty (policy: sealed empty -> unsuccessful)."""
    store = MemoryEventStore()
    a_tender_taking_sealed_bids(store)
    before = len(store.recorded)
    outcome = await bus(store, Clock(DEADLINE)).dispatch(CloseTender(ocid=OCID), SYSTEM)
    assert types(outcome.events) == ["TenderClosed"]
    assert types(store.recorded[before:]) == ["TenderClosed", "BidLogSealed", "TenderUnsuccessful"]
    sealed = store.recorded[-2]
    assert (sealed.aggregate_id, sealed.sequence) == (bid_log_id(OCID), 4)
    assert (store.recorded[-1].aggregate_id, store.recorded[-1].sequence) == (OCID, 3)


async def test_a_tender_without_a_bid_log_closes_unsuccessful() -> None:
    """No bid log, so no bid could come: nothing to seal, and the tender ends unsuccessful."""
    store = MemoryEventStore()
    given(store, OCID, EXAMPLES["TenderPublished"])
    await bus(store, Clock(DEADLINE)).dispatch(CloseTender(ocid=OCID), SYSTEM)
    assert types(store.recorded[1:]) == ["TenderClosed", "TenderUnsuccessful"]


AMEND = AmendTender(ocid=OCID, reason="A typo", title="Office paper for 2031")


async def test_a_command_under_one_key_is_handled_once() -> None:
    """Sent again with its Idempotency-Key, a command gets its first answer, replayed."""
    store = MemoryEventStore()
    given(store, OCID, EXAMPLES["TenderPublished"])
    commands, key = bus(store, Clock(NOW)), uuid.uuid4()
    first = await commands.dispatch(AMEND, OFFICER, key)
    again = await commands.dispatch(AMEND, OFFICER, key)
    assert (again.replayed, again.events) == (True, first.events)
    assert len(store.recorded) == 2


async def test_a_key_reused_for_another_request_is_refused() -> None:
    """The same key with other contents is refused, and nothing more is recorded."""
    store = MemoryEventStore()
    given(store, OCID, EXAMPLES["TenderPublished"])
    commands, key = bus(store, Clock(NOW)), uuid.uuid4()
    await commands.dispatch(AMEND, OFFICER, key)
    other = AMEND.model_copy(update={"title": "Something else"})
    with pytest.raises(Rejected) as refused:
        await commands.dispatch(other, OFFICER, key)
    assert refused.value.code == "idempotency_key_reused"
    assert len(store.recorded) == 2


class RacedStore(MemoryEventStore):
    """A store where another writer takes the next sequence first, ``races`` times."""

    def __init__(self, races: int) -> None:
        super().__init__()
        self.races = races

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        async with super().transaction() as transaction:
            yield transaction
            if self.races:
                self.races -= 1
                raise ConcurrentWrite("another writer won")


async def test_a_concurrent_write_makes_the_command_decide_again() -> None:
    """Lost races are retried; the command lands once."""
    store = RacedStore(races=ATTEMPTS - 1)
    given(store, OCID, EXAMPLES["TenderPublished"])
    await bus(store, Clock(NOW)).dispatch(AMEND, OFFICER)
    assert types(store.recorded) == ["TenderPublished", "TenderDetailsAmended"]


async def test_too_many_concurrent_writes_answer_busy() -> None:
    """After the last attempt the caller is told to try again, and nothing is recorded."""
    store = RacedStore(races=ATTEMPTS)
    given(store, OCID, EXAMPLES["TenderPublished"])
    with pytest.raises(WrongState) as busy:
        await bus(store, Clock(NOW)).dispatch(AMEND, OFFICER)
    assert busy.value.code == "busy"
    assert len(store.recorded) == 1


async def test_publications_sent_together_are_committed_together() -> None:
    """Commands of no tender share one group commit lane: ten publications at once take
    at most two transactions (the first alone, then the nine that waited), not one per
    free lane."""
    store = CountingStore()
    commands = bus(store, Clock(NOW))
    outcomes = await asyncio.gather(
        *(commands.dispatch(publish_command(), OFFICER) for _ in range(10))
    )
    assert len({outcome.aggregate_id for outcome in outcomes}) == 10
    assert types(store.recorded) == ["TenderPublished"] * 10
    assert store.transactions <= 2


async def test_a_tenders_commands_keep_to_their_lane_in_order() -> None:
    """Commands naming a tender go in its lane, so they are decided in the order sent."""
    store = CountingStore()
    given(store, OCID, EXAMPLES["TenderPublished"])
    commands = bus(store, Clock(NOW))
    titles = [f"Office paper, version {n}" for n in range(6)]
    await asyncio.gather(
        *(
            commands.dispatch(AmendTender(ocid=OCID, reason="wording", title=t), OFFICER)
            for t in titles
        )
    )
    amended = [item.event for item in store.recorded[1:]]
    assert [getattr(event, "title", None) for event in amended] == titles
    assert store.transactions <= 2


def test_every_command_has_a_handler_and_the_flow_is_one_table() -> None:
    """The bus knows each command it routes; the procedure's reactions are named."""
    assert {AmendTender, CloseTender} <= set(COMMANDS)
    assert set(POLICIES) >= {"TenderClosed", "BidsOpened", "AuctionClosed"}


# The bids' group commit


def sealed(bidder_id: str, version: int = 1) -> Any:
    content = BID.model_copy(update={"bidder_id": bidder_id})
    return committee_sealing.seal_bid(content, version, MATERIAL, BIDDERS[bidder_id])


def intake(store: MemoryEventStore, clock: Clock) -> BidIntake:
    async def signing_key(bidder_id: str) -> bytes | None:
        return keys.raw_public(BIDDERS[bidder_id])

    return BidIntake(None, PLATFORM_KEY, clock, BidLimits(), store=store, signing_keys=signing_key)


def supplier(bidder_id: str) -> Actor:
    return Actor(id=bidder_id, role=Role.SUPPLIER)


class CountedStore(MemoryEventStore):
    """A store that counts its transactions."""

    def __init__(self) -> None:
        super().__init__()
        self.transactions = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryTransaction]:
        self.transactions += 1
        async with super().transaction() as transaction:
            yield transaction


async def test_bids_sent_together_are_committed_together_in_order() -> None:
    """Three bidders at once: one commit, log indexes 0..2 (kept with the entries, out of
    the receipts), each a receipt signed by the platform for its own entry."""
    store = CountedStore()
    a_tender_taking_sealed_bids(store)
    bids = intake(store, Clock(NOW))
    answers = await asyncio.gather(*(bids.submit(sealed(b), supplier(b)) for b in BIDDERS))
    assert all(a.receipt.receipt.log_index is None for a in answers)
    entries = [item.event for item in store.recorded[4:]]
    assert [e.position for e in entries if isinstance(e, BidSubmitted)] == [0, 1, 2]
    assert all(receipts.receipt_valid(a.receipt, keys.raw_public(PLATFORM_KEY)) for a in answers)
    assert types(store.recorded[4:]) == ["BidSubmitted"] * 3
    assert [e.sequence for e in store.recorded[4:]] == [4, 5, 6]
    assert store.transactions == 1


async def test_in_a_group_a_refused_bid_does_not_stop_the_others() -> None:
    """A late version number is refused to its sender alone; the group's others land."""
    store = MemoryEventStore()
    a_tender_taking_sealed_bids(store)
    bids = intake(store, Clock(NOW))
    good, skipped = sealed("supplier-0"), sealed("supplier-1", version=3)
    answers = await asyncio.gather(
        bids.submit(good, supplier("supplier-0")),
        bids.submit(skipped, supplier("supplier-1")),
        return_exceptions=True,
    )
    assert not isinstance(answers[0], BaseException)
    assert isinstance(answers[1], WrongState)
    assert answers[1].code == "version_not_next"
    assert types(store.recorded[4:]) == ["BidSubmitted"]


async def test_the_same_bid_sent_twice_gets_the_same_receipt() -> None:
    """A resent bid is answered with its first, replayed receipt, and stored once."""
    store = MemoryEventStore()
    a_tender_taking_sealed_bids(store)
    bids, bid = intake(store, Clock(NOW)), sealed("supplier-0")
    first = await bids.submit(bid, supplier("supplier-0"))
    again = await bids.submit(bid, supplier("supplier-0"))
    assert (again.replayed, again.receipt) == (True, first.receipt)
    assert types(store.recorded[4:]) == ["BidSubmitted"]


async def test_a_bid_after_the_seal_is_refused() -> None:
    """Once the tender closed and its log was sealed, bids are refused as closed."""
    store = MemoryEventStore()
    a_tender_taking_sealed_bids(store)
    await bus(store, Clock(DEADLINE)).dispatch(CloseTender(ocid=OCID), SYSTEM)
    early = Clock(DEADLINE - timedelta(days=1))  # even a clock behind the deadline
    with pytest.raises(WrongState) as refused:
        await intake(store, early).submit(sealed("supplier-0"), supplier("supplier-0"))
    assert refused.value.code == "tender_closed"


# The opening ceremony


async def every_key(_: Any, party_ids: Sequence[str]) -> dict[str, bytes]:
    known = {**BIDDERS, **SIGNING}
    return {p: keys.raw_public(known[p]) for p in party_ids if p in known}


async def hand_in(ceremony: OpeningCeremony, officer: str) -> dict[str, Any]:
    """What a member's machine does: its sealed shares, decrypted and signed there."""
    member = Actor(id=officer, role=Role.OFFICER, agency_id=BUYER)
    mine = [SealedShareForMember.model_validate(s) for s in await ceremony.my_shares(OCID, member)]
    handed = member_side.hand_in(MATERIAL, officer, mine, ENCRYPTION[officer], SIGNING[officer])
    return await ceremony.hand_in(OCID, handed, member)


async def sealed_with_two_bids(store: MemoryEventStore) -> OpeningCeremony:
    a_tender_taking_sealed_bids(store)
    bids = intake(store, Clock(NOW))
    for bidder in ("supplier-0", "supplier-1"):
        await bids.submit(sealed(bidder), supplier(bidder))
    after = Clock(DEADLINE + timedelta(minutes=1))
    await bus(store, after).dispatch(CloseTender(ocid=OCID), SYSTEM)
    return ceremony_on(store)


def ceremony_on(store: MemoryEventStore, vault: MemoryShareVault | None = None) -> OpeningCeremony:
    """A ceremony as one API process runs it, on the shared store and share vault."""
    after = Clock(DEADLINE + timedelta(minutes=1))
    return OpeningCeremony(None, vault or MemoryShareVault(), store, after, signing_keys=every_key)


async def test_the_opening_starts_the_evaluation_in_the_same_transaction() -> None:
    """Two bids in, the tender closed, two of three members hand in their shares: each bid's
    key is rebuilt, the bids are opened and the evaluation starts with them in the
    opening's commit (policy: bids opened -> start the evaluation)."""
    store = MemoryEventStore()
    ceremony = await sealed_with_two_bids(store)
    answers = [await hand_in(ceremony, officer) for officer in OFFICERS[:2]]
    assert answers[0]["opened"] is False
    assert (answers[1]["opened"], answers[1]["bids_opened"]) == (True, 2)
    opening = types(store.recorded[-4:])
    assert opening == ["BidOpened", "BidOpened", "BidsOpened", "EvaluationStarted"]
    assert store.recorded[-1].aggregate_id == f"{OCID}:evaluation"
    accepted = [e for e in store.recorded if e.type == "OpeningSharesAccepted"]
    assert [(e.actor, e.event.model_dump()["shares"]) for e in accepted] == [
        ("officer-1", 2),
        ("officer-2", 2),
    ]


async def test_one_member_opens_nothing_and_a_wrong_share_is_refused() -> None:
    """k - 1 members hand in: nothing opens. A member handing in another share than the one
    the bidder sealed to it is refused, and nothing it sent is held."""
    store = MemoryEventStore()
    ceremony = await sealed_with_two_bids(store)
    assert (await hand_in(ceremony, "officer-1"))["opened"] is False
    assert not [e for e in store.recorded if e.type in ("BidOpened", "BidsOpened")]
    member = Actor(id="officer-2", role=Role.OFFICER, agency_id=BUYER)
    mine = [SealedShareForMember.model_validate(s) for s in await ceremony.my_shares(OCID, member)]
    handed = member_side.hand_in(
        MATERIAL, "officer-2", mine, ENCRYPTION["officer-2"], SIGNING["officer-2"]
    )
    forged = [
        handed.shares[0].model_copy(update={"share": bytes([2]) + bytes(66)}),
        *handed.shares[1:],
    ]
    signature = committee_material.sign_opening_shares(
        OCID, "officer-2", forged, SIGNING["officer-2"]
    )
    with pytest.raises(Rejected) as refused:
        await ceremony.hand_in(
            OCID, handed.model_copy(update={"shares": forged, "signature": signature}), member
        )
    assert refused.value.code == "wrong_share"
    assert not [e for e in store.recorded if e.type == "BidsOpened"]
    assert (await hand_in(ceremony, "officer-3"))["bids_opened"] == 2


class WatchedVault(MemoryShareVault):
    """A vault that also notes whose shares were ever written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    async def keep(
        self, connection: Any, ocid: str, officer_id: str, shares: Mapping[str, shamir.Share]
    ) -> None:
        self.written.append(officer_id)
        await super().keep(connection, ocid, officer_id, shares)


async def test_any_process_completes_the_opening_and_the_last_shares_are_never_kept() -> None:
    """A member hands in through one API process, the next through another that shares
    only the store and the vault: the bids open. The hand-in that reaches the threshold is
    used at once and never kept, and the vault holds nothing once the bids are open."""
    store = MemoryEventStore()
    vault = WatchedVault()
    await sealed_with_two_bids(store)
    first, second = ceremony_on(store, vault), ceremony_on(store, vault)
    assert (await hand_in(first, "officer-1"))["opened"] is False
    assert set(vault.shares[OCID]) == {"officer-1"}
    answer = await hand_in(second, "officer-2")
    assert (answer["opened"], answer["handed_in"], answer["bids_opened"]) == (True, 2, 2)
    assert vault.written == ["officer-1"]
    assert OCID not in vault.shares


async def test_the_last_two_hand_ins_at_once_on_two_processes_open_the_bids_once() -> None:
    """The k-th and (k+1)-th members hand in at the same moment through two processes: the
    bid log's lock orders them, one opens the bids and the other is told they are open."""
    store = MemoryEventStore()
    vault = MemoryShareVault()
    await sealed_with_two_bids(store)
    await hand_in(ceremony_on(store, vault), "officer-1")
    answers = await asyncio.gather(
        hand_in(ceremony_on(store, vault), "officer-2"),
        hand_in(ceremony_on(store, vault), "officer-3"),
        return_exceptions=True,
    )
    opened = [a for a in answers if isinstance(a, dict) and a["opened"]]
    refused = [a for a in answers if isinstance(a, WrongState)]
    assert len(opened) == 1
    assert [r.code for r in refused] == ["opened"]
    assert types(store.recorded).count("BidsOpened") == 1


async def test_a_member_whose_shares_are_held_cannot_hand_in_twice_on_another_process() -> None:
    """The vault, not one process's memory, says who has handed in."""
    store = MemoryEventStore()
    vault = MemoryShareVault()
    await sealed_with_two_bids(store)
    await hand_in(ceremony_on(store, vault), "officer-1")
    with pytest.raises(WrongState) as refused:
        await hand_in(ceremony_on(store, vault), "officer-1")
    assert refused.value.code == "share_already_handed_in"


# The auction


async def test_closing_an_auction_records_its_result_in_the_evaluation() -> None:
    """The timer closes a due auction; the evaluation gets each bid's final price in the
    same commit (policy: auction closed -> record the result)."""
    procedure = ready_for_auction()
    store = MemoryEventStore()
    given(store, evaluation.evaluation_id(examples.OCID), *procedure.events)
    assert procedure.evaluation is not None
    (scheduled,) = auction.schedule_from_evaluation(
        None,
        procedure.evaluation,
        FIXED_60,
        examples.BUYERS_OFFICER,
        lot_id=examples.LOT,
        starts_at=T0,
        now=INVITED,
    )
    opened = auction.open_auction(auction.evolve(None, scheduled), PLATFORM, T0)
    auction_id = auction.auction_id(examples.OCID, examples.LOT)
    given(store, auction_id, scheduled, *opened)
    close = CloseAuction(ocid=examples.OCID, lot_id=examples.LOT)
    outcome = await bus(store, Clock(seconds(60))).dispatch(close, PLATFORM)
    assert types(outcome.events) == ["AuctionClosed"]
    recorded = store.recorded[-1]
    assert recorded.aggregate_id == evaluation.evaluation_id(examples.OCID)
    assert recorded.sequence == len(procedure.events) + 1
    assert recorded.type == "AuctionResultRecorded"


# Registration claims


async def test_an_accepted_claim_hands_the_number_over_in_one_commit() -> None:
    """The operator accepts a claim: the decision, the claimant's registration (policy:
    claim decided -> registration handed over), the holder's suspension and the claimant's
    credential are one commit, and the token is shown once to the operator."""
    store = MemoryEventStore()
    claimed = EXAMPLES["RegistrationClaimed"]
    assert isinstance(claimed, RegistrationClaimed)
    given(store, claimed.holder_id, EXAMPLES["SupplierRegistered"])
    given(store, claimed.claim_id, claimed)
    decide = DecideRegistrationClaim(
        claim_id=claimed.claim_id, decision=ClaimDecision.ACCEPT, reason="The register says so"
    )
    outcome = await bus(store, Clock(NOW)).dispatch(decide, OPERATOR)
    assert types(outcome.events) == ["RegistrationClaimDecided"]
    handed = store.recorded[-1]
    assert (handed.type, handed.aggregate_id, handed.sequence) == (
        "SupplierRegistered",
        claimed.claimant_id,
        2,
    )
    assert outcome.token is not None
    [hand_over, credential] = store.records
    assert hand_over == HandOver(claimed)
    assert isinstance(credential, Credential)
    assert (credential.token, credential.actor.id) == (outcome.token, claimed.claimant_id)
