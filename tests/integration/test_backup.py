"""A backup of a small market, restored on a new database and data directory, serves the
same platform: receipts verify against its key, its bid logs prove the same trees, and the
read models rebuilt from the restored store are the original's. A wrong passphrase and a
corrupted file are refused, and nothing is restored from them."""

import asyncio
import base64
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.embedded import EmbeddedBroker
from adapters.postgres import backup
from adapters.postgres.backup import BackupRefused
from bidding import verify
from bidding.receipts import leaf_hash
from schemas.bids import SignedReceipt
from tests.integration.catalogue_world import catalogue_world
from tests.integration.conftest import create_database
from tests.integration.market import (
    bid_content,
    buyer_with_committee,
    conclude_contract,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack, eventually
from tests.integration.test_ocds_publication import award_the_cheaper

PASSPHRASE = "correct horse battery staple"

# Every read model the workers rebuild, each with the columns that order it; positions
# assigned as rows are projected are left out, since a replay may interleave the topics
# differently.
READ_MODELS = {
    "agencies": "SELECT * FROM agencies ORDER BY agency_id",
    "tenders": "SELECT ocid, status, version, document FROM tenders ORDER BY ocid",
    "public_bid_logs": "SELECT * FROM public_bid_logs ORDER BY ocid",
    "public_bidders": "SELECT * FROM public_bidders ORDER BY ocid, bidder_id",
    "awards": "SELECT * FROM awards ORDER BY ocid, lot_id",
    "auctions": "SELECT * FROM auctions ORDER BY auction_id",
    "contracts": "SELECT * FROM contracts ORDER BY contract_id",
    "lot_savings": "SELECT * FROM lot_savings ORDER BY ocid, lot_id",
    "releases": "SELECT release_id, ocid, tags, status, release FROM releases ORDER BY release_id",
    "records": "SELECT ocid, record::text FROM records ORDER BY ocid",
    "party_contacts": "SELECT * FROM party_contacts ORDER BY party_id",
    "catalogue_offers": "SELECT offer_id, supplier_id, status, cpv, cpv_prefixes, unit_price,"
    " currency, valid_until, words::text, version, updated_at, document"
    " FROM catalogue_offers ORDER BY offer_id",
    "catalogue_procedures": "SELECT * FROM catalogue_procedures ORDER BY ocid",
}
# The auction rules of the market's second tender: its auction is scheduled a day ahead, so
# it is still scheduled, as backed up, while the test compares.
AUCTION_RULES = {"minimum_decrement": "1.00", "ends": "inactivity", "inactivity_seconds": 5}


@dataclass(frozen=True)
class Market:
    ocid: str
    receipts: list[SignedReceipt]
    token: str  # the last bidder's
    path: Path  # the backup taken once the award was projected
    summary: dict[str, Any]


async def read_models(stack: Stack) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [dict(row) for row in await stack.pool.fetch(query)]
        for name, query in READ_MODELS.items()
    }


async def served(stack: Stack, ocid: str, receipts: list[SignedReceipt]) -> dict[str, Any]:
    """What the public is served of the bid log: its head and each receipt's proof (a
    receipt names no position: its leaf is found among the sealed log's)."""
    async with stack.client() as public:
        key = (await public.get("/platform/keys")).json()
        head = (await public.get(f"/tenders/{ocid}/bid-log")).json()
        leaves = (await public.get(f"/tenders/{ocid}/bid-log/leaves")).json()["leaves"]
        proofs = [
            (
                await public.get(
                    f"/tenders/{ocid}/bid-log/inclusion",
                    params={"leaf_index": leaves.index(leaf_hash(receipt.receipt).hex())},
                )
            ).json()
            for receipt in receipts
        ]
    return {"key": key, "head": head, "proofs": proofs}


@pytest.fixture(scope="module")
async def market(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Market:
    """A tender with two sealed bids, opened, awarded and contracted; a second one whose lot goes to an
    auction, scheduled; catalogue offers, a direct purchase and a price quotation; and a
    backup taken after, once every read model holds them."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, standstill_days=0)
    auctioned, auction_key, auction_deadline = await sealed_tender(
        stack, buyer, auction=AUCTION_RULES
    )
    receipts, bids, auction_bids, bidders = [], {}, {}, []
    for name, amount in (("Ieftin SRL", "880.00"), ("Scump SA", "960.00")):
        bidder = await register_supplier(stack, name)
        bidders.append(bidder)
        answer = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, amount), tender_key, bidder)
        )
        assert answer.status_code == 201, answer.text
        receipt = SignedReceipt.model_validate(
            {k: v for k, v in answer.json().items() if k not in ("replayed", "signed_head")}
        )
        receipts.append(receipt)
        bids[bidder.id] = receipt.receipt.bid_id
        sealed = seal(bid_content(auctioned, bidder.id, amount), auction_key, bidder)
        answer = await submit(stack, bidder, sealed)
        assert answer.status_code == 201, answer.text
        auction_bids[bidder.id] = answer.json()["receipt"]["bid_id"]
    await until_sealed(stack, ocid, deadline)
    await until_sealed(stack, auctioned, auction_deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
        assert (await hand_in(stack, member, auctioned)).status_code == 200
    await award_the_cheaper(stack, ocid, buyer, bids)
    # Signed by both: a concluded contract, the only kind the savings count.
    await conclude_contract(stack, buyer.members[0], bidders[0], ocid)
    await schedule_an_auction(stack, auctioned, buyer, auction_bids)
    await catalogue_world(stack, bidders[0].token, bidders[1].token, buyer.officer.token)

    async def projected() -> bool:
        awarded = await stack.pool.fetchval("SELECT count(*) FROM awards WHERE ocid = $1", ocid)
        drawn = await stack.pool.fetchval("SELECT count(*) FROM contracts WHERE ocid = $1", ocid)
        scheduled = await stack.pool.fetchval(
            "SELECT count(*) FROM auctions WHERE ocid = $1 AND status = 'scheduled'", auctioned
        )
        offers = await stack.pool.fetchval("SELECT count(*) FROM catalogue_offers")
        procedures = await stack.pool.fetchval("SELECT count(*) FROM catalogue_procedures")
        waiting = await stack.pool.fetchval("SELECT count(*) FROM outbox")
        return bool(
            awarded and drawn and scheduled and offers == 2 and procedures == 2 and not waiting
        )

    await eventually(projected)
    path = tmp_path_factory.mktemp("backups") / "market.backup"
    summary = await backup.take(stack.pool, stack.settings.receipt_key_file, path, PASSPHRASE)
    return Market(ocid, receipts, bidder.token, path, summary)


async def schedule_an_auction(stack: Stack, ocid: str, buyer: Any, bids: dict[str, str]) -> None:
    """The committee qualifies both bids, the buyer completes the lot (which sends it to
    its auction) and schedules the auction a day ahead."""
    async with stack.client(buyer.members[0].token) as committee:
        for bid_id in bids.values():
            answer = await committee.post(
                f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bid_id}
            )
            assert answer.status_code == 201, answer.text
    async with stack.client(buyer.officer.token) as officer:
        completed = await officer.post(
            f"/tenders/{ocid}/evaluation/lot-completions", json={"lot_id": "lot-1"}
        )
        assert completed.status_code == 201, completed.text
        starts_at = datetime.now(UTC) + timedelta(days=1)
        scheduled = await officer.post(
            f"/tenders/{ocid}/auctions",
            json={"lot_id": "lot-1", "starts_at": starts_at.isoformat()},
        )
        assert scheduled.status_code == 201, scheduled.text


async def test_a_backup_is_private_and_holds_the_whole_event_store(
    stack: Stack, market: Market
) -> None:
    """The backup file is 0600 and its verified manifest counts every event up to the last."""
    assert stat.S_IMODE(market.path.stat().st_mode) == 0o600
    row = await stack.pool.fetchrow("SELECT count(*), max(position) FROM events")
    assert market.summary["events"] == {"count": row[0], "last_position": row[1]}


async def test_a_restored_platform_serves_the_same_market(
    stack: Stack, market: Market, postgres_server: str, tmp_path: Path
) -> None:
    """Restored on a new database and data directory, the platform signs with the same key,
    proves the same bid log, and rebuilds the same read models from the store."""
    original = await served(stack, market.ocid, market.receipts)
    original_models = await read_models(stack)
    settings = replace(stack.settings, data_dir=tmp_path / "restored")
    database_url = await create_database(postgres_server)
    await backup.restore(market.path, PASSPHRASE, database_url, settings.receipt_key_file)
    assert stat.S_IMODE(settings.receipt_key_file.stat().st_mode) == 0o600
    broker = EmbeddedBroker(log_dir=settings.data_dir / "logs")
    broker.start()
    restored = Stack(settings, database_url, broker)
    # The worker is started without the stack's warm-up registration, which would add an
    # agency the original never had.
    await restored.start(workers=0)
    restored.start_worker()
    try:

        async def rebuilt() -> bool:
            return await read_models(restored) == original_models

        assert set(original_models) == backup.REBUILT  # every read model, none left out
        assert all(original_models.values()), [n for n, v in original_models.items() if not v]
        try:
            await eventually(rebuilt, within=60)
        except AssertionError:
            now = await read_models(restored)
            differing = {
                n: (original_models[n], now[n]) for n in now if now[n] != original_models[n]
            }
            raise AssertionError(f"read models rebuilt otherwise: {differing}") from None
        # The notices are kept, not made again: the restored workers queue no mail twice.
        sent = "SELECT event_id, recipient_id, text FROM notices ORDER BY event_id, recipient_id"
        mail = "SELECT event_id, recipient_id, address FROM mail_outbox ORDER BY 1, 2, 3"
        for query in (sent, mail):
            assert await restored.pool.fetch(query) == await stack.pool.fetch(query)
        assert await stack.pool.fetch(sent)
        again = await served(restored, market.ocid, market.receipts)
        assert again == original
        key = base64.b64decode(again["key"]["receipt_keys"][0]["public_key"])
        head = again["head"]
        assert head["sealed_root"] == head["root"]
        for receipt, proof in zip(market.receipts, again["proofs"], strict=True):
            verify.check_receipt(receipt, key)
            verify.check_inclusion(receipt, proof, head["sealed_root"], head["tree_size"])
        async with restored.client(market.token) as bidder:  # the credentials came back too
            assert (await bidder.get("/me")).json()["id"] == market.receipts[-1].receipt.bidder_id
    finally:
        await restored.stop()


async def test_a_wrong_passphrase_is_refused_and_nothing_is_restored(
    market: Market, postgres_server: str, tmp_path: Path
) -> None:
    """The sealed key does not open with another passphrase: the restore says so and
    writes neither the key nor any event."""
    database_url = await create_database(postgres_server)
    key_path = tmp_path / "platform-signing-key.pem"
    with pytest.raises(BackupRefused, match="passphrase is wrong"):
        await backup.restore(market.path, "not the passphrase", database_url, key_path)
    assert not key_path.exists()


async def test_a_corrupted_backup_is_refused_by_verification(
    stack: Stack, market: Market, postgres_server: str, tmp_path: Path
) -> None:
    """One byte changed in the events of the file fails the manifest's SHA-256, and the
    restore writes nothing."""
    corrupted = tmp_path / "corrupted.backup"
    data = bytearray(market.path.read_bytes())
    at = data.index(b"BidSubmitted")
    data[at] ^= 0x01
    corrupted.write_bytes(bytes(data))
    database_url = await create_database(postgres_server)
    key_path = tmp_path / "platform-signing-key.pem"
    with pytest.raises(BackupRefused, match="corrupt: table events"):
        await backup.restore(corrupted, PASSPHRASE, database_url, key_path)
    assert not key_path.exists()


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("PROCUREMENT_", "DATABASE"))
    }
    command = [sys.executable, "-m", "entrypoints.cli", *args]
    return subprocess.run(command, env=inherited | env, capture_output=True, text=True, timeout=120)


async def test_the_cli_backs_up_and_restores_with_the_passphrase_from_the_environment(
    stack: Stack, postgres_server: str, tmp_path: Path
) -> None:
    """`procurement backup` and `procurement restore` read the passphrase from the
    environment, never an argument; a wrong one is refused with a clear message."""
    path = tmp_path / "cli.backup"
    taken = await asyncio.to_thread(
        cli,
        "backup",
        str(path),
        env={
            "DATABASE_URL": stack.database_url,
            "PROCUREMENT_RECEIPT_KEY": str(stack.settings.receipt_key_file),
            "PROCUREMENT_BACKUP_PASSPHRASE": PASSPHRASE,
        },
    )
    assert taken.returncode == 0, taken.stderr
    assert "backup written and verified" in taken.stdout
    data_dir = tmp_path / "restored"
    target = {
        "DATABASE_URL": await create_database(postgres_server),
        "PROCUREMENT_DATA_DIR": str(data_dir),
    }
    wrong = await asyncio.to_thread(
        cli,
        "restore",
        str(path),
        env=target | {"PROCUREMENT_BACKUP_PASSPHRASE": "a different passphrase"},
    )
    assert wrong.returncode == 1
    assert "the passphrase is wrong" in wrong.stderr
    assert not data_dir.exists()  # refused before anything was made
    restored = await asyncio.to_thread(
        cli, "restore", str(path), env=target | {"PROCUREMENT_BACKUP_PASSPHRASE": PASSPHRASE}
    )
    assert restored.returncode == 0, restored.stderr
    count = await stack.pool.fetchval("SELECT count(*) FROM events")
    assert f"restored {count} events" in restored.stdout
    assert stat.S_IMODE((data_dir / "platform-signing-key.pem").stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
