"""Sealed bids end to end, on the embedded default, beside raw baselines from the same run.

Run from the repository root::

    ./dev bench bids [--smes N] [--rounds R] [--opening-bids M] [--quick]

1. Sealing on the client: ``seal_bid`` per bid, beside one raw HPKE encryption of the same
   plaintext and one raw Ed25519 signature.
2. Submission: N registered SMEs, each with its own key, token and keep-alive connection,
   all submit at once to one tender, R rounds (version 1, 2, ...). Accepted bids per second
   (first send to last receipt), receipt latency (send to 201), the time each bid reached
   Kafka after its receipt (read back from ``procurement.bids``), and CPU per component.
3. Opening: a tender with M bids from M SMEs; after the deadline, one share, then the
   second share's request, which opens every bid, is timed; beside it the raw cost of one
   Ed25519 verification and one HPKE decryption per bid, single-threaded.
4. Raw PostgreSQL and Kafka writes measured in the same run (as in ``benchmarks.publish``).

It prints a table and writes the figures as JSON to ``--out``. It asserts nothing.
"""

import argparse
import asyncio
import base64
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from rich.table import Table

from benchmarks.publish import (
    API_SCRIPT,
    KeepAlive,
    Running,
    _log_tails,
    _stop_children,
    _stop_stray_postgres,
    console,
    cores_used,
    cpu_seconds,
    machine_busy,
    percentile,
    raw_kafka,
    raw_postgres,
    until,
)
from bidding import committee, keys, sealing
from entrypoints.launcher import (
    Platform,
    admin_token,
    start_worker,
    stop_process,
    worker_environment,
)
from schemas.bids import BidContent, EncryptedShare, SealedBid
from streams.embedded import free_port
from streams.settings import Settings

TARGETS = {"bids_per_s": 3000.0, "p99_receipt_ms": 50.0, "opening_s": 5.0}
REGISTER_CONCURRENCY = 32


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def content(ocid: str, bidder: str, amount: str) -> BidContent:
    return BidContent.model_validate(
        {
            "ocid": ocid,
            "bidder_id": bidder,
            "offers": [
                {
                    "lot_id": "lot-1",
                    "price": {"amount": amount, "currency": "RON"},
                    "items": [{"item_id": "paper", "unit_price": "9.5"}],
                }
            ],
            "valid_until": (date.today() + timedelta(days=90)).isoformat(),
            "declaration": {
                "no_exclusion_grounds": True,
                "meets_selection_criteria": True,
                "is_sme": True,
                "statement": "Delivered monthly from our warehouse in Cluj-Napoca.",
            },
            "documents": [{"title": "Technical offer", "sha256": "ab" * 32}],
        }
    )


class Sme:
    def __init__(self, supplier_id: str, token: str, key: Ed25519PrivateKey) -> None:
        self.id, self.token, self.key = supplier_id, token, key


async def register_smes(client: httpx.AsyncClient, count: int) -> list[Sme]:
    numbers = iter(range(count))
    smes: list[Sme] = []

    async def registrar() -> None:
        for _ in numbers:
            key = Ed25519PrivateKey.generate()
            identifier = f"RO-BENCH-{uuid.uuid4().hex[:12]}"
            public = keys.raw_public(key)
            proof = keys.sign(
                key,
                keys.SUPPLIER_REGISTRATION,
                keys.supplier_registration_fields(identifier, public),
            )
            body = {
                "name": "Benchmark SRL",
                "identifier": identifier,
                "is_sme": True,
                "email": "oferte@bench.ro",
                "signing_key": b64(public),
                "proof": b64(proof),
            }
            answer = await client.post("/suppliers", json=body)
            if answer.status_code != 201:
                msg = f"registering an SME: {answer.status_code} {answer.text[:500]}"
                raise RuntimeError(msg)
            smes.append(Sme(answer.json()["id"], answer.json()["token"], key))

    await asyncio.gather(*(registrar() for _ in range(REGISTER_CONCURRENCY)))
    return smes


async def committee_and_officer(
    client: httpx.AsyncClient, operator: str
) -> tuple[str, list[tuple[str, str, X25519PrivateKey, Ed25519PrivateKey]]]:
    auth = {"Authorization": f"Bearer {operator}"}
    agency = await client.post(
        "/agencies", json={"name": "Benchmark Agency", "identifier": "RO-BIDS-1"}, headers=auth
    )
    agency.raise_for_status()
    officers = []
    for _ in range(4):
        officer = await client.post(
            "/officers",
            json={"agency_id": agency.json()["id"], "name": "Ana Pop", "email": "a@x.ro"},
            headers=auth,
        )
        officer.raise_for_status()
        officers.append((officer.json()["id"], officer.json()["token"]))
    members = []
    for officer_id, token in officers[1:]:
        encryption, signing = X25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        fields = keys.committee_keys_fields(
            officer_id, keys.raw_public(encryption), keys.raw_public(signing)
        )
        answer = await client.post(
            "/officers/me/committee-keys",
            json={
                "encryption_key": b64(keys.raw_public(encryption)),
                "signing_key": b64(keys.raw_public(signing)),
                "proof": b64(keys.sign(signing, keys.COMMITTEE_KEYS, fields)),
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        answer.raise_for_status()
        members.append((officer_id, token, encryption, signing))
    return officers[0][1], members


async def sealed_tender(
    client: httpx.AsyncClient,
    officer: str,
    members: Sequence[tuple[str, str, X25519PrivateKey, Ed25519PrivateKey]],
    deadline_in: timedelta,
) -> tuple[str, bytes, datetime]:
    deadline = datetime.now(UTC) + deadline_in
    tender = json.loads((Path(__file__).parent.parent / "examples" / "tender.json").read_text())
    tender["submission_deadline"] = deadline.isoformat()
    tender["procedure_type"] = "open"
    tender["requirements"]["lots"] = [
        {
            "id": "lot-1",
            "title": "Paper",
            "value": {"amount": "100000.00", "currency": "RON"},
            "items": [
                {
                    "id": "paper",
                    "description": "A4 paper box",
                    "cpv": "30197630-1",
                    "quantity": "10000",
                    "unit": "box",
                }
            ],
        }
    ]
    tender["requirements"]["cpv"] = "30197630-1"
    tender["requirements"]["additional_cpv"] = []
    auth = {"Authorization": f"Bearer {officer}"}
    published = await client.post("/tenders", json=tender, headers=auth)
    published.raise_for_status()
    ocid = published.json()["id"]
    setup = committee.make_opening_key(
        ocid, [(m[0], keys.raw_public(m[2])) for m in members], threshold=2
    )
    issued = await client.post(
        f"/tenders/{ocid}/opening-key",
        content=setup.model_dump_json(),
        headers=auth | {"Content-Type": "application/json"},
    )
    issued.raise_for_status()
    return ocid, setup.public_key, deadline


async def connect(url: str, path: str, token: str) -> KeepAlive:
    address = httpx.URL(url)
    connection = KeepAlive(*await asyncio.open_connection(address.host, address.port))
    connection.request = f"POST {path} HTTP/1.1\r\nHost: {address.host}\r\n".encode()
    connection.request += f"Authorization: Bearer {token}\r\n".encode()
    return connection


async def submit_all(
    connections: Sequence[KeepAlive], bodies: Sequence[bytes]
) -> tuple[float, list[float], Counter[int], list[dict[str, Any]]]:
    """Every connection sends its body at once: elapsed seconds, latencies, statuses, receipts."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    receipts: list[dict[str, Any]] = []
    head = [c.request for c in connections]

    async def one(connection: KeepAlive, prefix: bytes, body: bytes) -> None:
        connection.request = (
            prefix
            + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        sent = time.monotonic()
        status, answer = await connection.send()
        latencies.append(time.monotonic() - sent)
        statuses[status] += 1
        if status in {200, 201}:
            receipts.append(json.loads(answer) | {"_at": time.time()})

    started = time.monotonic()
    await asyncio.gather(*(one(c, h, b) for c, h, b in zip(connections, head, bodies, strict=True)))
    elapsed = time.monotonic() - started
    for connection, prefix in zip(connections, head, strict=True):
        connection.request = prefix
    return elapsed, latencies, statuses, receipts


class KafkaWatch:
    """Reads procurement.bids from its current end while the load runs, and notes when each
    bid id arrives (wall clock), to compare with the time its receipt came back."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=5
        )
        self.arrived: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        await self.consumer.topics()
        partitions = [
            TopicPartition("procurement.bids", p)
            for p in sorted(self.consumer.partitions_for_topic("procurement.bids") or ())
        ]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            now = time.time()
            for records in batch.values():
                for record in records:
                    event = json.loads(record.value or b"{}").get("event", {})
                    bid_id = event.get("receipt", {}).get("bid_id")
                    if bid_id is not None:
                        self.arrived.setdefault(bid_id, now)

    async def wait_for(self, wanted: set[str], within: float) -> None:
        async def arrived() -> bool:
            return not wanted - self.arrived.keys()

        with contextlib.suppress(RuntimeError):  # reported as how many were read back
            await until(arrived, within, "every bid on Kafka")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.consumer.stop()


def sealing_costs(ocid: str, tender_key: bytes, count: int) -> dict[str, float]:
    key = Ed25519PrivateKey.generate()
    bid = content(ocid, "supplier-RO-1", "91000.00")
    plaintext = keys.canonical_json(bid.model_dump(mode="json"))
    recipient = X25519PrivateKey.from_private_bytes(b"\x01" * 32).public_key()

    def per_call(action: Any) -> float:
        times = []
        for _ in range(count):
            started = time.perf_counter()
            action()
            times.append(time.perf_counter() - started)
        return percentile(times, 0.5) * 1e6

    seal = per_call(lambda: sealing.seal_bid(bid, 1, tender_key, key))
    hpke = per_call(lambda: sealing.SUITE.encrypt(plaintext, recipient, b"info"))
    sign = per_call(lambda: key.sign(plaintext))
    return {
        "seal_us": seal,
        "raw_hpke_us": hpke,
        "raw_sign_us": sign,
        "ratio": seal / (hpke + sign),
    }


def raw_opening_cost(count: int) -> float:
    """Seconds for ``count`` Ed25519 verifications and HPKE decryptions, one thread."""
    private = X25519PrivateKey.generate()
    signer = Ed25519PrivateKey.generate()
    public = keys.raw_public(signer)
    message = b"m" * 200
    signature = signer.sign(message)
    ciphertext = sealing.SUITE.encrypt(b"p" * 600, private.public_key(), b"info")
    started = time.perf_counter()
    for _ in range(count):
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
        sealing.SUITE.decrypt(ciphertext, private, b"info")
    return time.perf_counter() - started


async def measure(run: Running, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"args": vars(args) | {"out": str(args.out)}}
    async with httpx.AsyncClient(base_url=run.api_url, timeout=120) as client:

        async def api_up() -> bool:
            try:
                return (await client.get("/health")).status_code == 200
            except httpx.TransportError:
                return False

        await until(api_up, 30, "the API answering /health")
        officer, members = await committee_and_officer(
            client, run.platform.settings.admin_token or ""
        )
        started = time.monotonic()
        smes = await register_smes(client, max(args.smes, args.opening_bids))
        results["registration"] = {
            "smes": len(smes),
            "per_s": len(smes) / (time.monotonic() - started),
        }
        console.print(f"registered {len(smes)} SMEs")
        ocid, tender_key, _ = await sealed_tender(
            client, officer, members, timedelta(seconds=args.submission_window)
        )
        results["sealing"] = sealing_costs(ocid, tender_key, 2000)

        # Submission: every SME at once, one connection each, R rounds.
        bidders = smes[: args.smes]
        connections = [
            await connect(run.api_url, f"/tenders/{ocid}/bids", sme.token) for sme in bidders
        ]
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        receipts: list[dict[str, Any]] = []
        elapsed = 0.0
        watch = KafkaWatch(run.bootstrap)
        await watch.start()
        cpu_before, busy_before = cpu_seconds(run.components()), machine_busy()
        for version in range(1, args.rounds + 1):
            bodies = [
                seal_json(content(ocid, sme.id, f"{90000 - version}.00"), version, tender_key, sme)
                for sme in bidders
            ]
            took, lat, st, rec = await submit_all(connections, bodies)
            elapsed += took
            latencies += lat
            statuses += st
            receipts += rec
            console.print(f"round {version}: {len(bodies)} bids in {took:.2f}s")
        cores = cores_used(cpu_before, cpu_seconds(run.components()), elapsed)
        busy = (machine_busy() - busy_before) / elapsed
        for connection in connections:
            await connection.close()
        wanted = {r["receipt"]["bid_id"]: r["_at"] for r in receipts}
        await watch.wait_for(set(wanted), within=120)
        await watch.stop()
        arrived = {b: t for b, t in watch.arrived.items() if b in wanted}
        lags = [arrived[b] - wanted[b] for b in arrived]
        accepted = len(receipts)
        results["submission"] = {
            "smes": len(bidders),
            "rounds": args.rounds,
            "accepted": accepted,
            "statuses": dict(statuses),
            "bids_per_s": accepted / elapsed,
            "receipt_ms": {
                q: percentile(latencies, p) * 1000
                for q, p in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))
            },
            "on_kafka": len(arrived),
            "kafka_after_receipt_ms": {
                "p50": percentile(lags, 0.5) * 1000,
                "p99": percentile(lags, 0.99) * 1000,
            },
            "cpu_ms_per_bid": {name: c * elapsed / accepted * 1000 for name, c in cores.items()},
            "machine_cores_busy": busy,
        }

        # Opening: M bids from M SMEs, then the committee.
        window = timedelta(seconds=max(20.0, args.opening_bids / 300))
        ocid2, key2, deadline2 = await sealed_tender(client, officer, members, window)
        openers = smes[: args.opening_bids]
        bodies = [seal_json(content(ocid2, sme.id, "88000.00"), 1, key2, sme) for sme in openers]
        sent = 0
        for start in range(0, len(openers), 500):
            chunk = [
                await connect(run.api_url, f"/tenders/{ocid2}/bids", sme.token)
                for sme in openers[start : start + 500]
            ]
            _, _, st, _ = await submit_all(chunk, bodies[start : start + 500])
            sent += st.get(201, 0)
            for connection in chunk:
                await connection.close()
        console.print(f"{sent} bids in the opening tender; waiting for its deadline")
        database = await asyncpg.connect(run.database_url)
        try:

            async def sealed() -> bool:
                status = await database.fetchval(
                    "SELECT status FROM bid_logs WHERE ocid = $1", ocid2
                )
                return bool(status == "sealed")

            wait = (deadline2 - datetime.now(UTC)).total_seconds() + 30
            await until(sealed, wait, "the opening tender's bid log being sealed")
        finally:
            await database.close()
        first, second = members[0], members[1]
        await hand_in(client, ocid2, first)
        started = time.monotonic()
        opened = await hand_in(client, ocid2, second)
        opening_s = time.monotonic() - started
        raw_s = raw_opening_cost(sent)
        results["opening"] = {
            "bids": sent,
            "opened": opened.get("bids_opened"),
            "rejected": opened.get("bids_rejected"),
            "seconds": opening_s,
            "bids_per_s": sent / opening_s,
            "raw_verify_decrypt_s": raw_s,
            "ratio": opening_s / raw_s,
        }

    console.print("baselines: raw PostgreSQL and Kafka writes")
    postgres = await raw_postgres(run.database_url, 10_000, 32)
    kafka = await raw_kafka(run.bootstrap, 10_000, 32)
    rate = results["submission"]["bids_per_s"]
    results["baselines"] = {
        "postgres_rows_per_s": postgres,
        "kafka_messages_per_s": kafka,
        "platform_vs_postgres": rate / postgres,
        "platform_vs_kafka": rate / kafka,
    }
    return results


def seal_json(bid: BidContent, version: int, tender_key: bytes, sme: Sme) -> bytes:
    sealed: SealedBid = sealing.seal_bid(bid, version, tender_key, sme.key)
    return sealed.model_dump_json().encode()


async def hand_in(
    client: httpx.AsyncClient,
    ocid: str,
    member: tuple[str, str, X25519PrivateKey, Ed25519PrivateKey],
) -> dict[str, Any]:
    officer_id, token, encryption, signing = member
    auth = {"Authorization": f"Bearer {token}"}
    mine = await client.get(f"/tenders/{ocid}/opening-key/my-share", headers=auth)
    mine.raise_for_status()
    share = committee.hand_in_share(
        ocid, officer_id, EncryptedShare.model_validate(mine.json()), encryption, signing
    )
    answer = await client.post(
        f"/tenders/{ocid}/opening/shares",
        content=share.model_dump_json(),
        headers=auth | {"Content-Type": "application/json"},
    )
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def report(results: dict[str, Any]) -> None:
    s, o, seal, base = (
        results["submission"],
        results["opening"],
        results["sealing"],
        results["baselines"],
    )
    table = Table("figure", "measured", "target")
    table.add_row(
        "sealing one bid on the client (median)",
        f"{seal['seal_us']:.0f} µs (raw HPKE {seal['raw_hpke_us']:.0f} + raw sign "
        f"{seal['raw_sign_us']:.0f} µs; ratio {seal['ratio']:.2f})",
        "",
    )
    table.add_row(
        f"sealed bids accepted per second, {s['smes']} SMEs at once x {s['rounds']} rounds",
        f"{s['bids_per_s']:,.0f} ({s['accepted']} accepted; statuses {s['statuses']})",
        f"≥ {TARGETS['bids_per_s']:,.0f}",
    )
    r = s["receipt_ms"]
    table.add_row(
        "receipt latency p50 / p99 / max",
        f"{r['p50']:.0f} / {r['p99']:.0f} / {r['max']:.0f} ms",
        f"p99 ≤ {TARGETS['p99_receipt_ms']:.0f} ms",
    )
    k = s["kafka_after_receipt_ms"]
    table.add_row(
        "on Kafka after the receipt, p50 / p99",
        f"{k['p50']:.0f} / {k['p99']:.0f} ms ({s['on_kafka']} of {s['accepted']} read back)",
        "",
    )
    table.add_row(
        f"opening {o['bids']:,} bids (second share's request)",
        f"{o['seconds']:.2f} s, {o['bids_per_s']:,.0f} bids/s; raw verify + decrypt "
        f"{o['raw_verify_decrypt_s']:.2f} s (ratio {o['ratio']:.2f})",
        f"< {TARGETS['opening_s']:.0f} s for 10,000",
    )
    table.add_row(
        "raw PostgreSQL, one transaction per 1 KiB row, 32 connections",
        f"{base['postgres_rows_per_s']:,.0f} rows/s (platform {base['platform_vs_postgres']:.2f})",
        "",
    )
    table.add_row(
        "raw aiokafka, acks=all, 32 senders awaiting each 1 KiB message",
        f"{base['kafka_messages_per_s']:,.0f} msg/s (platform {base['platform_vs_kafka']:.2f})",
        "",
    )
    cpu = ", ".join(f"{name} {ms:.2f}" for name, ms in s["cpu_ms_per_bid"].items())
    table.add_row(
        "CPU per accepted bid (ms), while submitting",
        f"{cpu}; machine {s['machine_cores_busy']:.2f} of {psutil.cpu_count()} cores",
        "",
    )
    console.print(table)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sealed_bids")
    parser.add_argument("--smes", type=int, default=1000, help="SMEs submitting at once")
    parser.add_argument("--rounds", type=int, default=5, help="versions each SME submits")
    parser.add_argument("--opening-bids", type=int, default=10_000, help="bids to open")
    parser.add_argument("--submission-window", type=float, default=600, help="seconds")
    parser.add_argument("--workers", type=int, default=1, help="stream workers")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--out", type=Path, default=Path("bench-results/sealed-bids.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.smes, args.rounds, args.opening_bids = 100, 1, 300

    data_dir = Path(tempfile.mkdtemp(prefix="procurement-bench-"))
    settings = replace(Settings.from_env(), data_dir=data_dir)
    settings = replace(settings, admin_token=admin_token(settings))
    platform = Platform(settings, workers=args.workers)
    logs = data_dir / "logs"
    api: subprocess.Popen[bytes] | None = None
    try:
        database_url, bootstrap = platform.start_services()
        env = worker_environment(settings, database_url, bootstrap)
        env["PROCUREMENT_MIN_TENDER_PERIOD"] = "0"  # deadlines within the run
        platform.worker_processes = [
            start_worker(env, logs / f"worker-{n}.log") for n in range(args.workers)
        ]
        port = free_port()
        with (logs / "api.log").open("ab") as output:
            api = subprocess.Popen(
                [sys.executable, "-c", API_SCRIPT, str(port)],
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        run = Running(platform, database_url, bootstrap, api, f"http://127.0.0.1:{port}")
        results = asyncio.run(measure(run, args))
        report(results)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2, default=str) + "\n")
        console.print(f"figures written to {args.out}")
    except KeyboardInterrupt:
        raise SystemExit(128 + signal.SIGINT) from None
    except Exception:
        for tail in _log_tails(logs):
            print(tail, file=sys.stderr)
        raise
    finally:
        if api is not None:
            stop_process(api)
        platform.stop_services()
        _stop_stray_postgres(data_dir / "postgres" / "postmaster.pid")
        _stop_children()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
