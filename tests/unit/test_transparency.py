"""The transparency log's formats and rules: entries, event documents, signed heads, what is
logged, and when a logged event's document may be served."""

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from bidding import keys, merkle
from publication import transparency
from publication.transparency import Logged
from schemas.events import EVENT_TYPES
from tests.unit.evaluation_examples import awarded, bid, facts

REPOSITORY = Path(__file__).resolve().parents[2]
MOMENT = datetime(2026, 12, 7, 5, 11, 1, 123456, tzinfo=UTC)


def document() -> dict[str, object]:
    return transparency.event_document(
        "ocds-000000-2026-000001",
        "0b6f6c9e-4d4a-4c36-9f0e-2f1a1e4d5a01",
        1,
        "TenderCancelled",
        "2026-12-07T05:11:01.123456Z",
        {"event": {"type": "TenderCancelled", "reason": "Budget withdrawn"}, "sequence": 1},
    )


def test_times_are_written_in_utc_with_microseconds_and_a_z() -> None:
    """One instant has one text, whatever the zone it was read in."""
    east = MOMENT.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Bucharest"))
    assert transparency.rfc3339(east) == "2026-12-07T05:11:01.123456Z"
    assert transparency.rfc3339(MOMENT.replace(microsecond=0)) == "2026-12-07T05:11:01.000000Z"


def test_an_entry_commits_to_the_sha256_of_its_documents_canonical_json() -> None:
    """The entry's digest is SHA-256 over the canonical JSON of the event document, and its
    leaf is RFC 9162's leaf hash of the entry's own canonical JSON."""
    doc = document()
    entry = transparency.entry_for(7, doc)
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry.event_sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    assert set(entry.as_json()) == {
        "aggregate_id",
        "event_id",
        "event_sha256",
        "leaf_index",
        "recorded_at",
        "sequence",
        "type",
    }
    assert entry.leaf_data() == keys.canonical_json(entry.as_json())
    assert entry.leaf_hash() == hashlib.sha256(b"\x00" + entry.leaf_data()).digest()
    assert transparency.entry_from_json({**entry.as_json(), "leaf_hash": "ab"}) == entry


def test_an_altered_document_no_longer_matches_its_entry() -> None:
    """Changing any byte of the stored event changes the digest the entry committed to."""
    doc = document()
    entry = transparency.entry_for(0, doc)
    altered = {**doc, "payload": {**doc["payload"], "sequence": 2}}  # type: ignore[dict-item]
    assert transparency.document_sha256(altered) != entry.event_sha256
    assert transparency.document_sha256(doc) == entry.event_sha256


def test_a_signed_head_verifies_with_the_platform_key_only_for_its_own_fields() -> None:
    """A head signed by the platform verifies; another size, root, time or key does not."""
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    head = transparency.sign_head(key, 3, b"\x01" * 32, MOMENT)
    assert head.fields() == {
        "root": "01" * 32,
        "timestamp": "2026-12-07T05:11:01.123456Z",
        "tree_size": 3,
    }
    assert keys.verify(
        keys.raw_public(key), head.signature, "procurement-transparency-head/1", head.fields()
    )
    assert transparency.head_valid(head, keys.raw_public(key))
    assert not transparency.head_valid(head, keys.raw_public(other))
    for changed in ({"tree_size": 4}, {"root": "02" * 32}, {"timestamp": "2026-12-07T05:11:02Z"}):
        forged = transparency.SignedHead(**{**head.__dict__, **changed})
        assert not transparency.head_valid(forged, keys.raw_public(key))


@given(st.lists(st.binary(min_size=32, max_size=32), max_size=70), st.integers(0, 70))
def test_the_frontier_grown_in_steps_has_the_root_of_rfc_9162(
    leaves: list[bytes], cut: int
) -> None:
    """Appending leaves in two batches gives the same root as the whole tree at once."""
    frontier = transparency.Frontier()
    frontier.extend(leaves[:cut])
    assert frontier.root() == merkle.root(leaves[:cut])
    frontier.extend(leaves[cut:])
    assert frontier.size == len(leaves)
    assert frontier.root() == merkle.root(leaves)


def test_parties_and_everything_before_a_bid_logs_seal_are_never_logged() -> None:
    """Registrations, credentials, bids, withdrawals and quotes before the opening are never
    entries: their number would tell how many bids a tender has before its deadline."""
    for never in (
        "AgencyRegistered",
        "OfficerRegistered",
        "SupplierRegistered",
        "RegistrationClaimed",
        "RegistrationClaimDecided",
        "BidSubmitted",
        "BidWithdrawn",
        "OpeningKeyIssued",
        "QuoteSubmitted",
        "NoSuchEvent",
    ):
        assert not transparency.is_logged(never), never
    for logged in (
        "TenderPublished",
        "TenderClosed",
        "BidLogSealed",
        "OpeningSharesAccepted",
        "BidOpened",
        "BidsOpened",
        "EvaluationStarted",
        "QualityScored",
        "AwardDecided",
        "ComplaintFiled",
        "AuctionPriceAccepted",
        "ContractDrawn",
        "PaymentRecorded",
        "CatalogueOfferPublished",
        "QuotesOpened",
    ):
        assert transparency.is_logged(logged), logged


def test_every_bid_log_event_is_either_from_the_seal_on_or_never_logged() -> None:
    """A new bid-log event is not logged until it is named as one from the seal on, or as
    one of the committee's (its naming and confirmations, which tell nothing of bids)."""
    bid_events = {name for name, cls in EVENT_TYPES.items() if cls.topic == "procurement.bids"}
    assert {name for name in bid_events if transparency.is_logged(name)} <= (
        transparency.BID_LOG_FROM_THE_SEAL | transparency.COMMITTEE_EVENTS
    )


def test_the_key_log_holds_committee_keys_and_the_committees_naming_and_confirmations() -> None:
    """The key log is the transparency log: every event recording a committee member's keys
    is an entry, though other party events are not; a committee's naming and its members'
    confirmations are logged at once, before the seal, known by name even before their
    classes exist."""
    assert transparency.is_logged("CommitteeKeysRegistered")
    assert transparency.records_committee_keys("CommitteeKeysRegistered")
    for name in ("CommitteeNamed", "CommitteeConfirmed"):
        assert transparency.is_logged(name), name
        assert not transparency.records_committee_keys(name)
    for party_event in ("AgencyRegistered", "OfficerRegistered", "SupplierRegistered"):
        assert not transparency.records_committee_keys(party_event)
    assert transparency.withheld("procurement.bids", []) == {}
    assert transparency.withheld("procurement.parties", []) == {}


def test_tender_bid_log_contract_and_catalogue_documents_are_served_at_once() -> None:
    """Nothing of these aggregates waits: their events are public when recorded."""
    for topic, kind in (
        ("procurement.tenders", "TenderPublished"),
        ("procurement.bids", "BidOpened"),
        ("procurement.contracts", "PaymentRecorded"),
        ("procurement.catalogue", "QuotesOpened"),
    ):
        assert transparency.withheld(topic, [Logged(1, kind, None)]) == {}


def test_who_asked_a_question_is_never_served() -> None:
    """A question's event names its asker: only its entry is public; the answer, which
    repeats the question without the asker, is served at once."""
    logged = [
        Logged(1, "TenderPublished", None),
        Logged(2, "EnquiryAsked", None),
        Logged(3, "EnquiryAnswered", None),
    ]
    assert transparency.withheld("procurement.tenders", logged) == {2: transparency.NEVER}


def test_an_auctions_prices_are_withheld_until_it_closes() -> None:
    """The auction's public events are served at once, its prices once it closed."""
    running = [Logged(1, "AuctionScheduled", None), Logged(2, "AuctionOpened", None)]
    running.append(Logged(3, "AuctionPriceAccepted", None))
    assert transparency.withheld("procurement.auctions", running) == {
        3: transparency.AUCTION_CLOSED
    }
    closed = [*running, Logged(4, "AuctionClosed", None)]
    assert transparency.withheld("procurement.auctions", closed) == {}


def test_an_evaluations_inner_events_wait_for_every_lot_to_be_decided() -> None:
    """Scores and qualifications are withheld until each lot is decided; complaints and
    awards, public anyway, are served at once."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "850.00"))
    events, lots_decided_at = procedure.events, len(procedure.events)
    logged = [Logged(i + 1, e.type, e) for i, e in enumerate(events)]
    before = transparency.withheld("procurement.evaluations", logged[: lots_decided_at - 1])
    assert before
    assert all(reason == transparency.EVALUATION_DECIDED for reason in before.values())
    assert all(not EVENT_TYPES[logged[s - 1].type].public for s in before)
    assert transparency.withheld("procurement.evaluations", logged[:lots_decided_at]) == {}


def test_an_unreadable_evaluation_event_keeps_what_follows_withheld() -> None:
    """An event that no longer reads (altered in the store) decides nothing."""
    logged = [Logged(1, "EvaluationStarted", None), Logged(2, "AwardDecided", None)]
    assert transparency.withheld("procurement.evaluations", logged) == {
        1: transparency.EVALUATION_DECIDED
    }


def test_a_procedures_aggregates_are_its_ocid_and_the_ids_under_it() -> None:
    """The evaluation, bid log, auctions, contracts, purchase and quotation share the ocid."""
    ocid = "ocds-000000-2026-000001"
    for mine in ("", ":bids", ":evaluation", ":auction:lot-1", ":contract:lot-1", ":purchase"):
        assert transparency.belongs_to(ocid, ocid + mine)
    assert not transparency.belongs_to(ocid, ocid + "0")
    assert not transparency.belongs_to(ocid, "ocds-000000-2026-000002:bids")


def test_head_timestamps_are_the_time_signed() -> None:
    """The head says when it was signed, to the microsecond."""
    now = MOMENT
    head = transparency.sign_head(Ed25519PrivateKey.generate(), 0, merkle.EMPTY_ROOT, now)
    later = transparency.sign_head(
        Ed25519PrivateKey.generate(), 0, merkle.EMPTY_ROOT, now + timedelta(microseconds=1)
    )
    assert head.timestamp < later.timestamp


def test_the_worked_example_of_docs_transparency_md_is_what_the_code_computes() -> None:
    """The hashes and the signature printed in docs/transparency.md, computed again."""
    event_id = "6f0d2b6e-3c1a-4a47-9d7e-2b1f0c9a7e55"
    envelope = {
        "actor": "officer-4f1c2a",
        "aggregate_id": "ocds-000000-2026-000001",
        "command_id": None,
        "event": {"reason": "Budget withdrawn", "type": "TenderCancelled"},
        "event_id": event_id,
        "occurred_at": "2026-12-07T05:11:01.120000Z",
        "schema_version": 1,
        "sequence": 2,
    }
    doc = transparency.event_document(
        "ocds-000000-2026-000001",
        event_id,
        2,
        "TenderCancelled",
        "2026-12-07T05:11:01.123456Z",
        envelope,
    )
    cancelled = transparency.entry_for(1, doc)
    assert cancelled.event_sha256 == (
        "a153e452b5b791179010bf81bade2f3db3f10def5afd4b0608ce34d542c518c3"
    )
    assert cancelled.leaf_hash().hex() == (
        "ac9028a642fb895805c2a88c71f031680426b31004bd9e8ddeaf506466456821"
    )
    published = transparency.Entry(
        0,
        "ocds-000000-2026-000001",
        "1c9e8f0a-7b52-4d7e-8d0f-3e6a5b4c2d10",
        1,
        "TenderPublished",
        "2026-12-07T05:10:12.000001Z",
        "ab" * 32,
    )
    assert published.leaf_hash().hex() == (
        "84df1c6d3c1ef506e7003bcec54fe34b2f27b90fafd1482e63e17a0386286d88"
    )
    root = merkle.root([published.leaf_hash(), cancelled.leaf_hash()])
    assert root.hex() == "bcf10475839269accf52488c921fd039a1f227491c279225fb74f971f29dc875"
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    head = transparency.sign_head(key, 2, root, datetime(2026, 12, 7, 5, 11, 2, tzinfo=UTC))
    assert keys.key_id(keys.raw_public(key)) == "56475aa75463474c"
    assert base64.b64encode(head.signature).decode() == (
        "5LHTSnIabryllPOThvTkURpOFOhPOi2yngsArt8F9lQkaJZvXdaTodND1fW9WZJ+aIOFAoL1QVpIckXAVL2QBg=="
    )
    text = (REPOSITORY / "docs" / "transparency.md").read_text()
    for shown in (cancelled.event_sha256, cancelled.leaf_hash().hex(), root.hex(), head.root):
        assert shown in text
    assert base64.b64encode(head.signature).decode() in text
