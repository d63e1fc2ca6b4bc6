"""The raw baselines of a run: plain asyncpg and plain aiokafka writes on the platform's own
PostgreSQL and broker, with their rate and the CPU their server spent per row or message."""

import asyncio
import json
import math
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from rich.console import Console

from benchmarks.figures import baseline_cost
from benchmarks.usage import Components, CpuMeter

PAYLOAD = json.dumps({"pad": "x" * 1000})  # the baselines' ~1 KiB row and message
SCRATCH_TOPIC = "bench.scratch"
ASYNCPG, AIOKAFKA = "raw asyncpg", "raw aiokafka"

console = Console()


async def raw_postgres(
    database_url: str,
    rows: int,
    concurrency: int,
    components: Callable[[], Components],
    idle_cores: float = 0.0,
) -> dict[str, Any]:
    """One transaction per ~1 KiB jsonb row, ``concurrency`` connections; PostgreSQL's CPU."""
    pool = await asyncpg.create_pool(database_url, min_size=concurrency, max_size=concurrency)
    try:
        await pool.execute(
            "CREATE TABLE IF NOT EXISTS bench_scratch (id bigserial PRIMARY KEY, body jsonb)"
        )
        numbers = iter(range(rows))

        async def one_writer() -> None:
            async with pool.acquire() as connection:
                for _ in numbers:
                    await connection.execute(
                        "INSERT INTO bench_scratch (body) VALUES ($1::jsonb)", PAYLOAD
                    )

        # Measured while the pool is open: a backend's CPU is lost once it has ended.
        meter = CpuMeter(lambda: {"PostgreSQL": components()["PostgreSQL"]}).start()
        started = time.monotonic()
        await asyncio.gather(*(one_writer() for _ in range(concurrency)))
        seconds = time.monotonic() - started
        used = meter.stop(whole_machine=False)["PostgreSQL"]
        await pool.execute("DROP TABLE bench_scratch")
        return baseline_cost(rows, seconds, used, "row", idle_cores)
    finally:
        await pool.close()


async def raw_kafka(
    bootstrap: str,
    messages: int,
    concurrency: int,
    components: Callable[[], Components],
    idle_cores: float = 0.0,
) -> dict[str, Any]:
    """``concurrency`` senders, each awaiting every ~1 KiB send, acks=all; the broker's CPU."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if SCRATCH_TOPIC not in await admin.list_topics():
            await admin.create_topics([NewTopic(SCRATCH_TOPIC, 6, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        value = PAYLOAD.encode()
        await producer.send_and_wait(SCRATCH_TOPIC, value, key=b"warm-up")
        numbers = iter(range(messages))

        async def one_sender() -> None:
            for n in numbers:
                await producer.send_and_wait(SCRATCH_TOPIC, value, key=str(n).encode())

        meter = CpuMeter(lambda: {"broker": components()["broker"]}).start()
        started = time.monotonic()
        await asyncio.gather(*(one_sender() for _ in range(concurrency)))
        seconds = time.monotonic() - started
        used = meter.stop(whole_machine=False)["broker"]
        return baseline_cost(messages, seconds, used, "msg", idle_cores)
    finally:
        await producer.stop()


async def measure_baselines(
    database_url: str,
    bootstrap: str,
    count: int,
    concurrency: int,
    components: Callable[[], Components],
    idle: Mapping[str, float] | None = None,
) -> dict[str, dict[str, Any]]:
    """Both baselines, each net of what its server uses ``idle`` (cores by component); one
    that fails is reported with its error and no figures, so that the run still ends."""
    idle = idle or {}
    console.print(f"baselines: {count} raw asyncpg rows, {count} raw aiokafka messages")
    figures: dict[str, dict[str, Any]] = {}
    pg_idle, broker_idle = idle.get("PostgreSQL", 0.0), idle.get("broker", 0.0)
    measures: list[tuple[str, str, Coroutine[Any, Any, dict[str, Any]]]] = [
        (ASYNCPG, "row", raw_postgres(database_url, count, concurrency, components, pg_idle)),
        (AIOKAFKA, "msg", raw_kafka(bootstrap, count, concurrency, components, broker_idle)),
    ]
    for name, unit, measure in measures:
        try:
            figures[name] = await measure
        except Exception as error:  # a baseline that fails must not end the run
            figures[name] = baseline_cost(0, math.nan, math.nan, unit) | {"error": repr(error)}
            console.print(f"{name} baseline failed: {error!r}")
    return figures
