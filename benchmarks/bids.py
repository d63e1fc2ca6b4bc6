"""The sealed-bid path end to end, on the embedded default, with figures to compare.

Run from the repository root::

    ./dev bench bids [--smes N] [--rounds R] [--opening-bids B] [--workers W] [--quick]

What it does, in one run on one machine (the platform is started as ``benchmarks.publish``
starts it, with a minimum tender period of 0 so that deadlines can be seconds ahead):

1. Sealing on the client: ``seal_bid`` end to end for a bid like ``examples/bid.json``,
   beside the raw cryptography it is made of, one HPKE encryption of a plaintext of the same
   size and one Ed25519 signature of a message of the same size (medians, in µs).
2. Registers ``max(N, B)`` suppliers through ``POST /suppliers``, each with its own Ed25519
   key and proof, over 64 keep-alive connections (timed on its own), and an officer of an
   agency with a committee of 3 (threshold 2).
3. Submission: one tender with an opening key; every one of the first ``N`` suppliers seals
   ``R`` versions of its bid beforehand (not timed), then all ``N`` submit at once, each on a
   keep-alive connection of its own, version after version. A bid is accepted when its 201
   receipt arrives (monotonic clock). Meanwhile an aiokafka consumer reads
   ``procurement.bids`` from the end offsets taken before the load and notes when each
   accepted bid (matched by ``bid_id``) arrives there, while one connection of its own
   polls the length of the outbox every 5 ms (the relay's side of that lag). The load starts
   once the relay has emptied the outbox of the registrations. CPU per component as in
   ``benchmarks.publish``.
4. Opening: a second tender whose deadline leaves ``B`` distinct suppliers three times the
   time to seal and submit one bid each, at the rates measured before. Once its bid log is
   sealed, one committee member hands in a share, and the second member's request, which
   opens every bid, is timed, with the CPU of every component (the API's worker processes
   included). Beside it, single-threaded on the client with the same bids and the rebuilt
   key: the raw cryptography (Ed25519 verify + HPKE decrypt per bid) and the bidding
   library's own per-bid checks (``bid_signature_valid`` + ``open_bid``).
5. Baselines on the same services (``benchmarks.baselines``), with their server's CPU per
   row or message, and the platform's accepted bids/s as a fraction of each. The CPU per
   bid, summed over the platform's components, is printed beside that of the baselines.

It prints a table and writes the figures as JSON to ``--out``. It asserts nothing.
"""

import argparse
import asyncio
import functools
import json
import math
import os
import signal
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from rich.table import Table

from benchmarks.baselines import measure_baselines
from benchmarks.bid_watch import OnKafka, Outbox
from benchmarks.connections import api_client
from benchmarks.figures import (
    baseline_ms,
    baseline_rows,
    cost_line,
    cost_table,
    cpu_cost,
    fmt,
    nothing_accepted,
    per,
    percentile,
)
from benchmarks.harness import Running, console, register_officer, run_with_short_periods, until
from benchmarks.raw_http import (
    connect_many,
    failures,
    latency_ms,
    send_all,
    send_lines,
)
from benchmarks.sealed_parties import (
    THRESHOLD,
    Party,
    bearer,
    bid_content,
    bid_request,
    committee_of,
    content_key,
    hand_in,
    register_suppliers,
    seal_bids,
    sealed_tender,
    share_of,
)
from benchmarks.usage import CpuMeter, idle_cores
from bidding import committee_sealing, keys, suites
from schemas.bids import BidContent, SealedBid
from schemas.committee import CommitteeMaterial, CommitteeMember

ON_KAFKA_WITHIN = 60.0  # seconds to wait, after the load, for the last bid on Kafka
RELAY_WITHIN = 180.0  # seconds to wait, before the load, for the relay to empty the outbox
SEALED_WITHIN = 60.0  # seconds to wait, after the deadline, for the bid log to be sealed
BASELINE_CONCURRENCY = 32  # as ``benchmarks.publish`` runs its baselines
TARGETS = {"bids_per_s": 3000.0, "p99_receipt_ms": 50.0, "opening_s": 5.0}


# 1. Sealing on the client


def _committee(ocid: str, suite: str, members: int = 3) -> CommitteeMaterial:
    return CommitteeMaterial(
        ocid=ocid,
        suite=suite,
        threshold=THRESHOLD,
        members=[
            CommitteeMember(
                officer_id=f"officer-{n}",
                encryption_key=suites.MemberPrivateKeys.generate().public(suite),
                signing_key=keys.raw_public(Ed25519PrivateKey.generate()),
            )
            for n in range(members)
        ],
    )


def _seal_one(
    content: BidContent, material: CommitteeMaterial, bidder: Ed25519PrivateKey, n: int
) -> object:
    return committee_sealing.seal_bid(content, n + 1, material, bidder)


def _seal_share(suite: str, share: bytes, member_key: bytes, _: int) -> object:
    return suites.seal(suite, share, member_key, b"info")


def sealing_cost(samples: int) -> dict[str, Any]:
    """Median µs of ``seal_bid`` to a committee of 3 in each suite, and of the raw
    cryptography it is made of: AES-256-GCM of the bid, one HPKE seal of a 67-byte share
    per member, one Ed25519 signature."""
    content = bid_content("ocds-000000-2026-000001", "supplier-RO-BENCH-0000000", 0)
    bidder_key = Ed25519PrivateKey.generate()

    def median_us(operation: Callable[[int], object]) -> float:
        times = []
        for n in range(samples):
            started = time.perf_counter()
            operation(n)
            times.append((time.perf_counter() - started) * 1e6)
        return percentile(times, 0.5)

    plaintext = os.urandom(len(keys.canonical_json(content.model_dump(mode="json"))))
    share = os.urandom(67)
    aead_key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
    aead_us = median_us(lambda _: AESGCM(aead_key).encrypt(nonce, plaintext, b"place"))
    message = os.urandom(400)
    sign_us = median_us(lambda _: bidder_key.sign(message))
    figures: dict[str, Any] = {"samples": samples, "plaintext_bytes": len(plaintext)}
    for suite in (suites.X25519, suites.HYBRID):
        material = _committee(content.ocid, suite)
        seal_us = median_us(functools.partial(_seal_one, content, material, bidder_key))
        member_key = bytes(material.members[0].encryption_key)
        hpke_us = median_us(functools.partial(_seal_share, suite, share, member_key))
        raw = aead_us + len(material.members) * hpke_us + sign_us
        figures[suite] = {
            "seal_bid_us": seal_us,
            "raw_hpke_seal_share_us": hpke_us,
            "raw_us": raw,
            "seal_over_raw": per(seal_us, raw),
        }
    figures |= {
        "seal_bid_us": figures[suites.X25519]["seal_bid_us"],
        "raw_aes_gcm_us": aead_us,
        "raw_ed25519_sign_us": sign_us,
    }
    return figures


# 2. Submission, and when the bids are on Kafka


async def submission(
    run: Running, client: httpx.AsyncClient, parties: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    smes: list[Party] = parties["suppliers"][: args.smes]
    tender = await sealed_tender(client, parties["officer"], parties["members"], timedelta(days=1))
    console.print(f"submission: sealing {args.rounds} version(s) of the bid of {len(smes)} SMEs")
    sealed, _ = seal_bids(tender, smes, args.rounds)
    lines = [
        [bid_request(run.api_url, bid, sme) for bid in mine]
        for mine, sme in zip(sealed, smes, strict=True)
    ]
    on_kafka = OnKafka(run.bootstrap)
    await on_kafka.start()
    watch = await asyncpg.connect(run.database_url)
    outbox = Outbox(watch)
    # The outbox poll's backend is the benchmark's cost, not the platform's.
    poll_backend = psutil.Process(await watch.fetchval("SELECT pg_backend_pid()"))
    bench = {"benchmark client": [psutil.Process(), poll_backend]}

    async def outbox_empty() -> bool:
        return not await watch.fetchval("SELECT count(*) FROM outbox")

    # Start from a platform at rest: the relay has taken every earlier event to Kafka.
    waited = time.monotonic()
    await until(outbox_empty, RELAY_WITHIN, "the relay emptying the outbox")
    waited = time.monotonic() - waited
    console.print(f"submission: the relay emptied the outbox after {waited:.1f}s")
    console.print("submission: the idle platform's CPU")
    idle = await idle_cores(run.components)
    connections = await connect_many(run.api_url, len(smes))
    console.print(
        f"submission: {len(smes)} SMEs at once, one connection each, {args.rounds} bid(s) each"
    )
    try:
        async with outbox.watching():
            meter = CpuMeter(lambda: run.components(poll_backend) | bench).start()
            answers = [
                a for line in await send_lines(run.api_url, connections, lines) for a in line
            ]
            used = meter.stop()
            for connection in connections:
                await connection.close()
            accepted = {
                json.loads(a.body)["receipt"]["bid_id"]: a for a in answers if a.status == 201
            }
            await on_kafka.wait_for(set(accepted), ON_KAFKA_WITHIN)
    finally:
        for connection in connections:
            await connection.close()
        await on_kafka.stop()
        await watch.close()

    first_sent = min((a.sent for a in answers), default=math.nan)
    last_answer = max((a.answered for a in accepted.values()), default=math.nan)
    seconds = last_answer - first_sent
    rate = per(len(accepted), seconds)
    why = nothing_accepted(
        len(accepted),
        ", ".join(f"{v} {k}" for k, v in failures(answers).items()) or "no bid was sent",
    )
    on_kafka_ms = [
        (on_kafka.seen[b] - a.answered) * 1000 for b, a in accepted.items() if b in on_kafka.seen
    ]
    last_on_kafka = max(
        (on_kafka.seen[b] for b in accepted if b in on_kafka.seen), default=math.nan
    )
    return {
        "ocid": tender.ocid,
        "outbox_emptied_before_load_s": waited,
        "smes": len(smes),
        "connections": len(smes),
        "rounds": args.rounds,
        "sent": len(answers),
        "accepted": len(accepted),
        "failed": failures(answers),
        "accepted_nothing": why,
        "seconds": seconds,
        "bids_per_s": rate,
        "receipt_ms": latency_ms([(a.answered - a.sent) * 1000 for a in accepted.values()]),
        # With every SME sending again at once, the mean receipt is N / rate (Little's law).
        "littles_law_mean_ms": per(len(smes), rate) * 1000,
        "on_kafka": {
            "topic_partitions": on_kafka.partitions,
            "seen": len(on_kafka_ms),
            "missing": len(accepted) - len(on_kafka_ms),
            "last_s_after_first_send": last_on_kafka - first_sent,
            "last_ms_after_last_receipt": (last_on_kafka - last_answer) * 1000,
            "after_receipt_ms": latency_ms(on_kafka_ms),
            "outbox_largest": outbox.largest(),
            "outbox_empty_ms_after_last_receipt": (outbox.empty_after(last_answer) - last_answer)
            * 1000,
        },
        "cpu_s": used,
        "idle_cores": idle,
    }


# 3. The opening


async def opening(
    run: Running,
    client: httpx.AsyncClient,
    parties: dict[str, Any],
    args: argparse.Namespace,
    hints: dict[str, float],
) -> dict[str, Any]:
    bidders: list[Party] = parties["suppliers"][: args.opening_bids]
    members: list[Party] = parties["members"]
    # Long enough to seal and submit every bid at the rates measured before, three times over.
    bids_per_s = hints["bids_per_s"] if math.isfinite(hints["bids_per_s"]) else 0.0
    ahead = 3 * len(bidders) * (hints["seal_us"] / 1e6 + 1 / max(bids_per_s, 100.0))
    tender = await sealed_tender(client, parties["officer"], members, timedelta(seconds=ahead + 10))
    console.print(
        f"opening: {len(bidders)} bidders seal one bid each (deadline in {ahead + 10:.0f}s)"
    )
    sealed, sealing_seconds = seal_bids(tender, bidders, 1)
    bids = [mine[0] for mine in sealed]
    requests = [bid_request(run.api_url, b, p) for b, p in zip(bids, bidders, strict=True)]
    started = time.monotonic()
    answers = await send_all(run.api_url, requests, args.smes)
    submit_seconds = time.monotonic() - started
    accepted = [b for b, a in zip(bids, answers, strict=True) if a.status == 201]
    console.print(
        f"opening: {len(accepted)} bids in, {failures(answers) or 'no failures'};"
        f" waiting for the deadline and the seal"
    )
    await asyncio.sleep(max(0.0, (tender.deadline - datetime.now(UTC)).total_seconds()))
    connection = await asyncpg.connect(run.database_url)
    try:

        async def log_sealed() -> bool:
            query = "SELECT status FROM bid_logs WHERE ocid = $1"
            return bool(await connection.fetchval(query, tender.ocid) == "sealed")

        await until(log_sealed, SEALED_WITHIN, f"the bid log of {tender.ocid} being sealed")
    finally:
        await connection.close()
    first = await hand_in(client, members[0], tender.ocid)
    first.raise_for_status()
    share = await share_of(client, members[1], tender.ocid)
    meter = CpuMeter(run.components, reaped=True).start()
    started = time.monotonic()
    answer = await client.post(
        f"/tenders/{tender.ocid}/opening/shares",
        content=share,
        headers=bearer(members[1].token) | {"Content-Type": "application/json"},
    )
    seconds = time.monotonic() - started
    used = meter.stop()
    result: dict[str, Any] = answer.json() if answer.status_code == 200 else {"error": answer.text}
    opened = int(result.get("bids_opened", 0))
    console.print(f"opening: {opened} bids opened in {seconds:.2f}s; now the same, raw")
    # The opening's events, one record with every opened bid among them, must reach Kafka.
    watch = await asyncpg.connect(run.database_url)
    try:

        async def relayed() -> bool:
            return not await watch.fetchval("SELECT count(*) FROM outbox")

        await until(relayed, RELAY_WITHIN, "the relay publishing the opening's events")
        relayed_after = time.monotonic() - started - seconds
    finally:
        await watch.close()
    content_keys = [content_key(tender, bid, members[:THRESHOLD]) for bid in accepted]
    bidder_keys = {p.id: keys.raw_public(p.signing_key) for p in bidders}
    raw = raw_opening(accepted, content_keys, bidder_keys)
    return {
        "ocid": tender.ocid,
        "bidders": len(bidders),
        "sealing_seconds": sealing_seconds,
        "submitted": len(accepted),
        "submit_failed": failures(answers),
        "submit_seconds": submit_seconds,
        "submit_per_s": per(len(accepted), submit_seconds),
        "status": answer.status_code,
        "result": result,
        "seconds": seconds,
        "relayed_s_after": relayed_after,
        "opened": opened,
        "bids_per_s": per(opened, seconds),
        "accepted_nothing": nothing_accepted(opened, f"nothing opened: {result}"),
        "cpu_s": used,
        "raw": raw,
        "opening_over_raw": per(seconds, raw["raw_seconds"]),
        "opening_over_library": per(seconds, raw["library_seconds"]),
    }


def raw_opening(
    bids: Sequence[SealedBid], content_keys: Sequence[bytes], bidder_keys: dict[str, bytes]
) -> dict[str, Any]:
    """Single-threaded seconds for these bids, their content keys rebuilt beforehand: the
    raw cryptography alone (Ed25519 verify + AES-256-GCM decrypt, messages made beforehand),
    and the bidding library's checks of each bid (its signature over the shares and the
    committee, the key against its commitment, the decryption and the contents)."""
    prepared = [
        (
            Ed25519PublicKey.from_public_bytes(bidder_keys[bid.bidder_id]),
            bid.signature,
            keys.signed_message(
                committee_sealing.BID_SIGNATURE, committee_sealing.bid_signature_fields(bid)
            ),
            bid.ciphertext,
            committee_sealing.bid_context(bid.ocid, bid.lots, bid.bidder_id, bid.version),
            key,
        )
        for bid, key in zip(bids, content_keys, strict=True)
    ]
    started = time.perf_counter()
    for public, signature, message, ciphertext, context, key in prepared:
        public.verify(signature, message)
        AESGCM(key).decrypt(ciphertext[:12], ciphertext[12:], context)
    raw_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for bid, key in zip(bids, content_keys, strict=True):
        if committee_sealing.bid_signature_valid(bid, bidder_keys[bid.bidder_id]):
            assert committee_sealing.key_commitment(key) == bid.key_commitment
            committee_sealing.decrypt_bid(
                bid.ocid, bid.lots, bid.bidder_id, bid.version, bid.ciphertext, key
            )
    library_seconds = time.perf_counter() - started
    return {"bids": len(bids), "raw_seconds": raw_seconds, "library_seconds": library_seconds}


# The whole run


async def measure(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    # SIGTERM cancels the run, so that every ``finally`` runs, as Ctrl-C does.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    operator = run.platform.settings.admin_token or ""
    async with api_client(run.api_url, timeout=600) as client:
        await run.until_answering(client)
        console.print(f"sealing: {args.seal_samples} bids, then the raw cryptography")
        seal = sealing_cost(args.seal_samples)
        officer = await register_officer(client, operator)
        agency_id = (await client.get("/me", headers=bearer(officer))).json()["agency_id"]
        members = await committee_of(client, operator, agency_id)
        suppliers, registration = await register_suppliers(
            run.api_url, max(args.smes, args.opening_bids)
        )
        parties = {"officer": officer, "members": members, "suppliers": suppliers}
        submitted = await submission(run, client, parties, args)
        hints = {"seal_us": seal["seal_bid_us"], "bids_per_s": submitted["bids_per_s"]}
        opened = await opening(run, client, parties, args, hints)

    idle = submitted["idle_cores"]
    rows = args.baseline_count
    baselines = await measure_baselines(
        run.database_url, run.bootstrap, rows, BASELINE_CONCURRENCY, run.components, idle
    )
    per_row = baseline_ms(baselines)
    submitted["cost"] = cpu_cost(
        submitted.pop("cpu_s"),
        submitted["accepted"],
        "bid",
        submitted["accepted_nothing"] or "",
        per_row,
        idle=idle,
        seconds=submitted["seconds"],
    )
    opened["cost"] = cpu_cost(
        opened.pop("cpu_s"),
        opened["opened"],
        "opened bid",
        opened["accepted_nothing"] or "",
        per_row,
        idle=idle,
        seconds=opened["seconds"],
    )
    return {
        "config": {
            "smes": args.smes,
            "rounds": args.rounds,
            "opening_bids": args.opening_bids,
            "workers": args.workers,
            "baseline_count": rows,
            "baseline_concurrency": BASELINE_CONCURRENCY,
            "client": "raw keep-alive HTTP/1.1, in one process",
            "cores": psutil.cpu_count(),
        },
        "sealing": seal,
        "registration": registration,
        "submission": submitted,
        "opening": opened,
        "baselines": baselines,
        "targets": TARGETS,
    }


def report(results: dict[str, Any]) -> None:
    seal, reg = results["sealing"], results["registration"]
    sub, opened, base = results["submission"], results["opening"], results["baselines"]
    raw = opened["raw"]
    kafka = sub["on_kafka"]
    summary = Table(title="Sealed-bid path, embedded default")
    for column in ("figure", "measured", "target"):
        summary.add_column(column, justify="left" if column == "figure" else "right")
    rows = [
        *(
            row
            for suite in (suites.X25519, suites.HYBRID)
            for row in (
                (
                    f"seal_bid µs (median), {suite}, 3 members",
                    f"{seal[suite]['seal_bid_us']:.0f}",
                    "",
                ),
                (
                    f"  raw: AES-GCM + 3 x HPKE share + Ed25519 sign µs, {suite}",
                    f"{seal['raw_aes_gcm_us']:.0f} + 3 x {seal[suite]['raw_hpke_seal_share_us']:.0f}"
                    f" + {seal['raw_ed25519_sign_us']:.0f}",
                    "",
                ),
                (f"  seal_bid / raw, {suite}", fmt(seal[suite]["seal_over_raw"]), ""),
            )
        ),
        (
            "suppliers registered (s, /s)",
            f"{reg['suppliers']:,} ({reg['seconds']:.1f} s, {fmt(reg['per_s'], 0)}/s)",
            "",
        ),
        (
            f"bids accepted/s, {sub['connections']:,} SMEs at once",
            fmt(sub["bids_per_s"], 0),
            ">= 3,000",
        ),
        ("platform CPU ms / bid", cost_line(sub["cost"]), ""),
        ("accepted / failed", f"{sub['accepted']:,} / {sum(sub['failed'].values())}", ""),
        ("failures", ", ".join(f"{k}: {v}" for k, v in sub["failed"].items()) or "none", ""),
        ("receipt p50 ms", fmt(sub["receipt_ms"]["p50"], 1), ""),
        ("receipt p99 ms", fmt(sub["receipt_ms"]["p99"], 1), "<= 50"),
        ("receipt max ms", fmt(sub["receipt_ms"]["max"], 1), ""),
        ("mean receipt by Little's law, N / rate ms", fmt(sub["littles_law_mean_ms"], 0), ""),
        ("last bid on Kafka, s after first send", fmt(kafka["last_s_after_first_send"]), ""),
        ("  ms after the last receipt", fmt(kafka["last_ms_after_last_receipt"], 0), ""),
        (
            "on Kafka - receipt p50 / p99 ms",
            f"{fmt(kafka['after_receipt_ms']['p50'], 1)}"
            f" / {fmt(kafka['after_receipt_ms']['p99'], 1)}",
            "",
        ),
        ("accepted bids not seen on Kafka", f"{kafka['missing']}", ""),
        (
            "outbox: largest / empty ms after last receipt",
            f"{kafka['outbox_largest']:,} / {fmt(kafka['outbox_empty_ms_after_last_receipt'], 0)}",
            "",
        ),
        (
            f"opening bids submitted (/s, {sub['connections']:,} conns)",
            f"{opened['submitted']:,} ({fmt(opened['submit_per_s'], 0)}/s)",
            "",
        ),
        (
            "opening: bids opened / rejected",
            f"{opened['result'].get('bids_opened', '?')} / {opened['result'].get('bids_rejected', '?')}",
            "",
        ),
        ("opening s (2nd share's request)", f"{opened['seconds']:.2f}", "< 5"),
        ("its events on Kafka, s after the answer", f"{opened['relayed_s_after']:.2f}", ""),
        ("opening bids/s", fmt(opened["bids_per_s"], 0), ">= 2,000"),
        ("platform CPU ms / opened bid", cost_line(opened["cost"]), ""),
        (
            "raw verify + decrypt s, 1 thread",
            f"{raw['raw_seconds']:.2f} ({raw['bids']:,} bids)",
            "",
        ),
        ("bidding library verify + key check + decrypt s", f"{raw['library_seconds']:.2f}", ""),
        ("opening / raw", fmt(opened["opening_over_raw"], 1), ""),
        ("opening / library", fmt(opened["opening_over_library"], 1), ""),
        *baseline_rows(base, sub["bids_per_s"], "bid"),
    ]
    for row in rows:
        summary.add_row(*row)
    console.print(summary)

    cores = results["config"]["cores"]
    title = f"During the submission ({sub['seconds']:.1f} s, {cores} cores)"
    console.print(cost_table(title, sub["cost"], sub["seconds"]))
    title = f"During the opening ({opened['seconds']:.2f} s)"
    console.print(cost_table(title, opened["cost"], opened["seconds"]))


def arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bids", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument("--smes", type=int, help="SMEs submitting at once (1000; quick: 100)")
    parser.add_argument(
        "--rounds", type=int, help="versions each SME submits (about 5,000 bids; quick: 1)"
    )
    parser.add_argument(
        "--opening-bids", type=int, help="bids in the opened tender (10,000; quick: 500)"
    )
    parser.add_argument("--workers", type=int, default=1, help="stream workers")
    parser.add_argument("--seal-samples", type=int, help="bids sealed for the median (2,000)")
    parser.add_argument("--baseline-count", type=int, help="rows and messages (10,000)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--out", type=Path, default=Path("bench-results/bids.json"))
    args = parser.parse_args(argv)
    quick = args.quick
    args.smes = args.smes or (100 if quick else 1000)
    args.rounds = args.rounds or (1 if quick else max(1, round(5000 / args.smes)))
    args.opening_bids = args.opening_bids or (500 if quick else 10_000)
    args.seal_samples = args.seal_samples or (200 if quick else 2000)
    # Fewer rows than this cost their server too few CPU ticks to measure, even in a quick run.
    args.baseline_count = args.baseline_count or 10_000
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = arguments(argv)
    # Each SME sends --rounds versions; the platform's cap on versions must allow them.
    versions = max(args.rounds, int(os.environ.get("PROCUREMENT_MAX_BID_VERSIONS", "10")))
    os.environ["PROCUREMENT_MAX_BID_VERSIONS"] = str(versions)
    run_with_short_periods(args, measure, report)


if __name__ == "__main__":
    main()
