"""``procurement demo`` on the real stack: a small market played from registration to
completed contracts, whose written summary agrees with what the API serves, and whose
written public record lets anyone check every award offline."""

import base64
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from bidding import verify
from entrypoints.demo import run as demo
from entrypoints.http.ocds_extensions import FOLDER as EXTENSIONS_DIR
from schemas.bids import SignedReceipt
from tests.integration.conftest import running_stack
from tests.integration.stack import OPERATOR_TOKEN, Stack
from tests.ocds_validation import assert_valid

# Tied bids and a completed contract, an auction, an abnormally low price and a complaint,
# a best price-quality ratio whose winner refuses to sign, and a tender with a question
# answered, a significant amendment, a bid rejected at the opening, a lot its buyer cancels
# and a lot with no bid: the first five tenders of the demo's market.
TENDERS = 5
PROCUREMENT = [sys.executable, "-m", "entrypoints.cli"]


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """A platform held to the demo's own rules, as ``procurement demo`` starts it."""
    async with running_stack(postgres_server, tmp_path_factory, rules=demo.DEMO_RULES) as platform:
        yield platform


@pytest.fixture(scope="module")
async def played(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's small market, played once on the module's platform."""
    out = tmp_path_factory.mktemp("demo")
    lines: list[str] = []
    target = demo.Target(stack.api_url, OPERATOR_TOKEN, stack.database_url)
    options = demo.Options(out, tenders=TENDERS, suppliers=8, bidding_seconds=12.0)
    summary = await demo.play(target, options, lines.append, suffix="-t")
    return {"out": out, "summary": summary, "lines": lines}


def lots(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [lot for tender in summary["tenders"] for lot in tender["lots"].values()]


async def test_the_summary_agrees_with_the_api(stack: Stack, played: dict[str, Any]) -> None:
    """Every lot is awarded or cancelled, the public awards show each winner at its value,
    and the savings written are those GET /savings serves, totals included."""
    summary, out = played["summary"], played["out"]
    assert json.loads((out / "summary.json").read_text()) == json.loads(
        json.dumps(summary, default=str)
    )
    awarded = [lot for lot in lots(summary) if lot["outcome"] == "awarded"]
    # office supplies, two lots of school meals, medical supplies, cleaning, laptops (the
    # IT tender's projectors are cancelled by its buyer, and nobody bids for its whiteboards)
    assert len(awarded) == 6
    async with stack.client() as public:
        assert (await public.get("/savings")).json() == summary["savings"]
        for tender in summary["tenders"]:
            shown = (await public.get(f"/tenders/{tender['ocid']}/awards")).json()["awards"]
            standing = [a for a in shown if a["status"] == "awarded"]
            assert {a["lot_id"]: (a["supplier_id"], a["value"]) for a in standing} == {
                lot_id: (lot["winner"]["id"], lot["value"])
                for lot_id, lot in tender["lots"].items()
                if lot["outcome"] == "awarded"
            }
    # Savings count a lot once its contract is concluded: the lot in its standstill not yet.
    contracted = [lot for lot in awarded if lot.get("contract")]
    assert 0 < len(contracted) < len(awarded)
    by_type = {g["key"]: g for g in summary["savings"]["currencies"]["RON"]["by_procedure_type"]}
    tendered = [by_type[key] for key in ("open", "open_with_auction") if key in by_type]
    estimated = sum((Decimal(group["estimated"]) for group in tendered), Decimal(0))
    assert estimated == sum(Decimal(lot["estimated_value"]) for lot in contracted)
    spent = sum((Decimal(group["awarded"]) for group in tendered), Decimal(0))
    assert spent == sum(Decimal(lot["value"]["amount"]) for lot in contracted)
    assert by_type["direct_purchase"]["lots"] == 2  # the catalogue's, beside the tenders
    assert summary["events"]["total"] == await stack.pool.fetchval("SELECT count(*) FROM events")


async def test_the_market_goes_through_every_turn_of_the_procedure(
    stack: Stack, played: dict[str, Any]
) -> None:
    """Sealed bids opened by 2 of 3, an auction, an abnormally low price justified, a
    complaint dismissed, contracts signed by both parties, one completed on its milestones."""
    summary = played["summary"]
    by_type = summary["events"]["by_type"]
    for event, count in {
        "BidDisqualified": 1,
        "ClarificationAnswered": 1,
        "JustificationAccepted": 1,
        "ComplaintDismissed": 1,
        "ContractAmended": 1,
        "ContractCompleted": 1,
        "EnquiryAnswered": 1,
        "AwardAnnulled": 1,
    }.items():
        assert by_type.get(event) == count, event
    auctioned = [lot for lot in lots(summary) if "auction" in lot]
    assert len(auctioned) == 2
    for lot in auctioned:
        assert Decimal(lot["auction"]["best_after"]) < Decimal(lot["auction"]["best_before"])
        assert lot["value"]["amount"] == str(lot["auction"]["best_after"])
    (complained,) = [lot for lot in lots(summary) if "complaint" in lot]
    assert complained["complaint"]["status"] == "dismissed"
    async with stack.client() as public:
        for contract in summary["contracts"]:
            shown = (await public.get(f"/contracts/{contract['id']}")).json()
            assert {s["party"] for s in shown["signatures"]} == {"buyer", "supplier"}
            completed = "completed" in contract["carried_out"]
            assert shown["status"] == ("terminated" if completed else "active")
    assert any("completed" in c["carried_out"] for c in summary["contracts"])


def compiled_release(out: Path, ocid: str) -> dict[str, Any]:
    """The procedure's compiled release, as the demo wrote it."""
    package = json.loads((out / "ocds" / "record-package.json").read_text())
    (record,) = [r for r in package["records"] if r["ocid"] == ocid]
    release: dict[str, Any] = record["compiledRelease"]
    return release


async def test_a_question_is_answered_before_the_deadline(
    stack: Stack, played: dict[str, Any]
) -> None:
    """The IT tender's buyer publishes its specification and answers a supplier's question
    before the deadline: narrated, served to anyone without the asker, and in OCDS."""
    summary, out = played["summary"], played["out"]
    (it,) = [t for t in summary["tenders"] if "enquiry" in t]
    asked = it["enquiry"]
    assert any(
        line.startswith(f"{it['ocid']}: the buyer published its specification")
        for line in played["lines"]
    )
    async with stack.client() as public:
        enquiries = (await public.get(f"/tenders/{it['ocid']}/enquiries")).json()["enquiries"]
        documents = (await public.get(f"/tenders/{it['ocid']}/documents")).json()["documents"]
    assert [(e["description"], e["answer"]) for e in enquiries] == [
        (asked["question"], asked["answer"])
    ]
    assert [d["versions"][-1]["sha256"] for d in documents] == [asked["document"]["sha256"]]
    tender = compiled_release(out, it["ocid"])["tender"]
    assert [e.get("answer") for e in tender["enquiries"]] == [asked["answer"]]
    assert asked["document"]["sha256"] in json.dumps(tender["documents"])


async def test_an_amendment_is_reconfirmed_and_the_bid_not_reconfirmed_is_rejected_alone(
    stack: Stack, played: dict[str, Any]
) -> None:
    """A significant amendment after the bids arrived: every bidder but one reconfirms
    through the SDK; that one's bid alone is rejected ``not_reconfirmed`` at the opening and
    the others open, as the demo says, the award evidence and OCDS show."""
    summary, out, lines = played["summary"], played["out"], played["lines"]
    (it,) = [t for t in summary["tenders"] if "amendment" in t]
    amended = it["amendment"]
    idle = amended["not_reconfirmed"]
    assert len(amended["reconfirmed"]) == it["bidders"] - 1
    assert it["rejected_at_opening"] == {idle: "not_reconfirmed"}
    assert it["bids_opened"] == it["bidders"] - 1
    assert any(line.startswith(f"{it['ocid']}: a significant amendment after") for line in lines)
    assert any(f"{idle} on {it['ocid']} (not_reconfirmed)" in line for line in lines)
    by_type = summary["events"]["by_type"]
    assert by_type["ReconfirmationRequested"] == it["bidders"]
    assert by_type["BidReconfirmed"] == it["bidders"] - 1
    async with stack.client() as public:
        evidence = (await public.get(f"/tenders/{it['ocid']}/award-evidence")).json()
    (laptops,) = [lot for lot in evidence["lots"] if lot["lot_id"] == "lot-1"]
    assert "not_reconfirmed" in json.dumps(laptops["bids"])
    release = compiled_release(out, it["ocid"])
    assert release["tender"]["amendments"]
    assert "neither reconfirmed it nor sent a new version" in json.dumps(release["bids"])


async def test_a_lot_with_no_bid_ends_unsuccessful(stack: Stack, played: dict[str, Any]) -> None:
    """Nobody bids for the IT tender's whiteboards: the lot ends unsuccessful by itself."""
    summary, out = played["summary"], played["out"]
    (it,) = [t for t in summary["tenders"] if "amendment" in t]
    assert it["lots"]["lot-3"]["outcome"] == "unsuccessful"
    assert any("1 lot unsuccessful by itself" in line for line in played["lines"])
    async with stack.client() as public:
        evidence = (await public.get(f"/tenders/{it['ocid']}/award-evidence")).json()
    assert {"lot_id": "lot-3", "status": "unsuccessful"} in evidence["lots"]
    lots = {lot["id"]: lot["status"] for lot in compiled_release(out, it["ocid"])["tender"]["lots"]}
    assert lots["lot-3"] == "unsuccessful"


async def test_a_winner_that_refuses_is_replaced_by_the_next_ranked(
    stack: Stack, played: dict[str, Any]
) -> None:
    """The cleaning tender's winner refuses to sign: its award is annulled with its
    contract, and the next-ranked bid is awarded and contracted by both parties."""
    summary, out = played["summary"], played["out"]
    (tender,) = [t for t in summary["tenders"] if "refused" in t["lots"]["lot-1"]]
    lot = tender["lots"]["lot-1"]
    refused = lot["refused"]
    assert refused["by"] != lot["winner"]["name"]
    assert any(f"{refused['by']} refused to sign the contract" in x for x in played["lines"])
    async with stack.client() as public:
        awards = (await public.get(f"/tenders/{tender['ocid']}/awards")).json()["awards"]
        cancelled = (await public.get(f"/contracts/{refused['cancelled_contract']}")).json()
    assert [(a["supplier_id"], a["status"]) for a in awards] == [(lot["winner"]["id"], "awarded")]
    assert cancelled["status"] == "cancelled"
    (contract,) = [c for c in summary["contracts"] if c["ocid"] == tender["ocid"]]
    assert contract["id"] == lot["contract"] != refused["cancelled_contract"]
    release = compiled_release(out, tender["ocid"])
    assert sorted(a["status"] for a in release["awards"]) == ["active", "cancelled"]
    statuses = {c["id"]: c["status"] for c in release["contracts"]}
    assert statuses[refused["cancelled_contract"]] == "cancelled"


def test_the_public_documents_and_ocds_data_are_written(played: dict[str, Any]) -> None:
    """The tenders, awards and contracts as the API served them, and OCDS packages."""
    summary, out = played["summary"], played["out"]
    for kind in ("tenders", "awards", "contracts"):
        assert summary["documents"][kind]
        assert all(Path(path).is_file() for path in summary["documents"][kind])
    assert len(list((out / "tenders").glob("*.json"))) == TENDERS
    package = json.loads((out / "ocds" / "release-package.json").read_text())
    assert {r["ocid"] for r in package["releases"]} == {t["ocid"] for t in summary["tenders"]}
    copied = out / "ocds" / "extensions" / "bids" / "release-schema.json"
    assert copied.read_bytes() == (EXTENSIONS_DIR / "bids" / "release-schema.json").read_bytes()
    assert any(line.startswith("opened ") for line in played["lines"])


def test_the_ocds_extensions_resolve_in_the_written_folder(played: dict[str, Any]) -> None:
    """The packages name their extensions relative to their folder, where the copies are;
    the data is valid with those copies applied."""
    folder = played["out"] / "ocds"
    for name in ("release-package.json", "record-package.json"):
        package = json.loads((folder / name).read_text())
        assert package["extensions"]
        for reference in package["extensions"]:
            assert "://" not in reference, reference  # no server of the demo's, long gone
            assert (folder / reference).is_file(), reference
        # The validator fetches extensions by URL: the same files, on a server of the folder.
        served = "https://demo.example/ocds/"
        package["extensions"] = [urljoin(served, ref) for ref in package["extensions"]]
        assert_valid(package)


async def test_every_bidders_receipts_and_the_platform_keys_are_written(
    stack: Stack, played: dict[str, Any]
) -> None:
    """One file per receipt the platform gave (bids, second versions, withdrawals), under its
    bidder, each signed by the key in platform-keys.json."""
    out = played["out"]
    keys = json.loads((out / "platform-keys.json").read_text())
    (served,) = keys["receipt_keys"]
    platform_key = base64.b64decode(served["public_key"])
    files = sorted((out / "receipts").glob("*/*.json"))
    assert [str(path) for path in files] == sorted(played["summary"]["documents"]["receipts"])
    for path in files:
        signed = SignedReceipt.model_validate_json(path.read_text())
        verify.check_receipt(signed, platform_key)
        receipt = signed.receipt
        assert path.relative_to(out / "receipts") == Path(
            receipt.bidder_id, f"{receipt.ocid}-{receipt.version}.json"
        )
        assert signed.key_id == served["key_id"]
    given = await stack.pool.fetchval(
        "SELECT count(*) FROM events WHERE type IN ('BidSubmitted', 'BidWithdrawn')"
        " AND aggregate_id LIKE ANY($1::text[])",
        [f"{tender['ocid']}%" for tender in played["summary"]["tenders"]],
    )
    assert len(files) == given


def test_the_first_lot_is_won_on_a_tie(played: dict[str, Any]) -> None:
    """Two bidders sent the same, lowest price for the office supplies: the ranking puts
    both first on points, and the award goes to one of them (the bid received first)."""
    office = played["summary"]["tenders"][0]
    first, second = office["lots"]["lot-1"]["ranking"][:2]
    assert first["price"] == second["price"]
    assert first["points"] == second["points"]
    assert office["lots"]["lot-1"]["winner"]["id"] == first["supplier_id"]


def test_the_audit_verifies_every_lot_of_every_tender_offline(played: dict[str, Any]) -> None:
    """The audit the demo ran on its live platform passed, and ``procurement audit --all``
    on the written record alone (its saved answers and the bidders' receipts) verifies
    every lot of every tender: the tie, the auctions, the best price-quality ratio, the
    cancelled lot, every receipt; no check fails or is skipped."""
    summary, out = played["summary"], played["out"]
    assert summary["audit"]["ok"], summary["audit"]["failures"]
    assert any(line.startswith("audited every procedure") for line in played["lines"])
    public, receipts = out / "public", out / "receipts"
    done = subprocess.run(
        [*PROCUREMENT, "audit", "--all", "--dir", str(public), "--receipts", str(receipts)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if "FAIL" in line or "skip" in line.lower()]
    assert lines[-1].endswith("all verified")
    verified = [line.removeprefix("ok").strip() for line in lines if line.startswith("ok")]
    for tender in summary["tenders"]:
        for lot_id, lot in tender["lots"].items():
            this_lot = f"{tender['ocid']} lot {lot_id}"
            if lot["outcome"] == "unsuccessful":  # no bid was received: nothing to rank
                assert f"{this_lot}: unsuccessful: no bid can win it" in " ".join(verified)
                continue
            decided = ("cancellation",) if lot["outcome"] == "cancelled" else ("ranking", "award")
            for check in ("bids in the sealed log", *decided):
                assert any(line.startswith(f"{this_lot}: {check}") for line in verified), (
                    this_lot,
                    check,
                )
            if lot["outcome"] == "cancelled":  # its logged event and time, not just a status
                (cancelled,) = [x for x in verified if x.startswith(f"{this_lot}: cancellation")]
                assert re.search(r"is logged for the lot at \d{4}-\d\d-\d\dT", cancelled), cancelled
            if "auction" in lot:
                assert any(
                    line.startswith(f"{this_lot}: auction final prices") for line in verified
                )
            if tender["award_criteria"] == "ratedCriteria":
                (scores,) = [line for line in verified if line.startswith(f"{this_lot}: quality")]
                signed_scores = re.search(r": (\d+) signed scores", scores)
                assert signed_scores is not None, scores
                assert int(signed_scores[1]) > 0, scores
    receipt_lines = [line for line in verified if line.startswith("receipt ")]
    assert len(receipt_lines) == len(list(receipts.glob("*/*.json")))


def test_procurement_demo_runs_on_a_platform_of_its_own(tmp_path: Path) -> None:
    """The command starts the embedded platform, plays one tender to a completed contract,
    writes its summary, and stops everything."""
    small = ["--tenders", "1", "--suppliers", "6", "--bidding-seconds", "5"]
    done = subprocess.run(
        [*PROCUREMENT, "demo", "--out", str(tmp_path), *small],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stopped the platform" in done.stdout
    assert "audited every procedure from public data alone" in done.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [c["carried_out"][-1] for c in summary["contracts"]] == ["completed"]


def test_a_demo_too_small_is_refused_clearly(tmp_path: Path) -> None:
    """Bad options are refused before anything starts."""
    done = subprocess.run(
        [*PROCUREMENT, "demo", "--out", str(tmp_path), "--tenders", "9"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "--tenders" in done.stderr
