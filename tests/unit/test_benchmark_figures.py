"""The benchmarks' pure parts: cost figures, reconnecting connections and their arguments."""

import asyncio
import contextlib
import importlib
import io
import math
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from rich.console import Console

from benchmarks import connections, publish
from benchmarks.connections import KeepAlive, event_lines
from benchmarks.figures import baseline_cost, cost_line, cost_table, cpu_cost, cpu_used, per

BENCHMARKS = ("publish", "bids", "auction", "procedure", "reads", "soak")
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bool:
    """Read one request's head and body; False when the client closed instead."""
    length = 0
    line = await reader.readline()
    if not line:
        return False
    while (line := await reader.readline()) not in {b"\r\n", b""}:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return True


async def one_answer_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A server that answers one request per connection, then closes it, as uvicorn closes
    a keep-alive connection that idled too long."""
    if await read_request(reader):
        writer.write(ANSWER)
        await writer.drain()
    writer.close()


async def closes_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A server that closes every connection without reading from it."""
    writer.close()


@contextlib.asynccontextmanager
async def serving(handler: Serve) -> AsyncIterator[str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
async def closing_server() -> AsyncIterator[str]:
    async with serving(one_answer_then_close) as url:
        yield url


def post(url: str) -> bytes:
    host = httpx.URL(url).host
    return f"POST /x HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\n\r\n{{}}".encode()


def test_no_units_gives_no_figures_and_says_why() -> None:
    """A phase that accepted nothing has NaN costs and says why instead of dividing by zero."""
    cost = cpu_cost({"API": 1.5, "PostgreSQL": 0.5}, 0, "command", "32 ConnectionError")
    assert cost["accepted_nothing"] == "accepted nothing: 32 ConnectionError"
    assert math.isnan(cost["platform_ms_per_unit"])
    assert all(math.isnan(ms) for ms in cost["ms_per_unit"].values())
    assert cost_line(cost) == "accepted nothing: 32 ConnectionError"


def test_the_platform_sum_leaves_out_the_client_and_compares_with_the_baselines() -> None:
    """CPU ms per unit sums the platform's components only, and divides by each baseline."""
    used = {
        "API": 1.0,
        "stream workers": 0.5,
        "PostgreSQL": 0.25,
        "broker": 0.25,
        "benchmark client": 9.0,
        "whole machine": 11.0,
    }
    cost = cpu_cost(used, 1000, "bid", baselines_ms={"raw asyncpg": 0.1, "raw aiokafka": 0.0})
    assert cost["platform_ms_per_unit"] == pytest.approx(2.0)
    assert cost["ms_per_unit"]["benchmark client"] == pytest.approx(9.0)
    assert cost["over_baselines"]["raw asyncpg"] == pytest.approx(20.0)
    assert math.isnan(cost["over_baselines"]["raw aiokafka"])  # a baseline that cost nothing
    assert cost["accepted_nothing"] is None


async def test_a_load_whose_every_send_fails_reports_it() -> None:
    """The publication load with every connection closed ends with its figures, saying why
    nothing was accepted, instead of dividing by zero."""

    async def closed() -> tuple[int, bytes]:
        raise ConnectionError("the API closed the connection")

    load = await publish.publish([closed] * 4, 10, publish.Visibility(None))
    assert load["accepted"] == 0
    assert load["accepted_nothing"] == "accepted nothing: 10 ConnectionError"
    assert load["commands_per_s"] == 0
    assert math.isnan(load["answer_ms"]["p99"])


def test_the_idle_platforms_background_is_taken_out_of_the_net_figure() -> None:
    """What the platform burns idle over the phase's duration is not charged to its units,
    nor to the baselines' writes."""
    used = {"API": 1.0, "stream workers": 1.0, "broker": 0.5, "benchmark client": 2.0}
    idle = {"API": 0.0, "stream workers": 0.05, "broker": 0.05, "benchmark client": 1.0}
    raw = baseline_cost(1000, 2.0, 0.2, "msg", idle_cores=0.05)
    assert raw["server_ms_per_unit"] == pytest.approx(0.1)
    cost = cpu_cost(used, 100, "bid", "", {"raw aiokafka": 0.1}, idle=idle, seconds=10.0)
    assert cost["platform_ms_per_unit"] == pytest.approx(25.0)
    assert cost["background_ms_per_unit"] == pytest.approx(10.0)  # the client's not in it
    assert cost["net_platform_ms_per_unit"] == pytest.approx(15.0)
    assert cost["over_baselines"]["raw aiokafka"] == pytest.approx(150.0)
    starved = cpu_cost(used, 100, "bid", idle={"stream workers": 0.3}, seconds=10.0)
    assert starved["net_platform_ms_per_unit"] == pytest.approx(15.0)  # not the API's work


def test_tables_print_a_phase_with_nothing_accepted() -> None:
    """The cost table renders with no units and shows why, not a number."""
    out = io.StringIO()
    cost = cpu_cost({"API": 1.0, "benchmark client": 1.0}, 0, "price", "5 HTTP 409")
    Console(file=out, width=200).print(cost_table("During the auction", cost, seconds=0.0))
    assert "accepted nothing: 5 HTTP 409" in out.getvalue()


def test_rates_over_nothing_are_nan() -> None:
    """A count over a zero, negative or unknown duration is NaN, not an error."""
    assert per(10, 2) == 5
    assert math.isnan(per(10, 0))
    assert math.isnan(per(10, -1))
    assert math.isnan(per(10, math.nan))


def test_cpu_used_counts_a_new_process_from_zero() -> None:
    """A process born during the phase counts its whole CPU; a known one only the increase."""
    before = {"API": {1: 2.0}}
    after = {"API": {1: 3.0, 2: 0.5}, "broker": {3: 1.0}}
    assert cpu_used(before, after) == {"API": 1.5, "broker": 1.0}


async def test_a_connection_the_server_closed_opens_again(closing_server: str) -> None:
    """Requests after the server closed the connection go on a new one, and are answered."""
    connection = await KeepAlive.open(closing_server)
    try:
        assert await connection.send(post(closing_server)) == (200, b"ok")
        await asyncio.sleep(0.05)  # the server's close has arrived: reopened before sending
        assert await connection.send(post(closing_server)) == (200, b"ok")
        assert await connection.send(post(closing_server)) == (200, b"ok")  # perhaps sent again
        assert connection.reconnects == 2
    finally:
        await connection.close()


async def test_a_connection_closed_before_answering_sends_once_more() -> None:
    """A server that closes every connection unanswered ends in an error, after one retry."""
    async with serving(closes_at_once) as url:
        connection = await KeepAlive.open(url)
        with pytest.raises(ConnectionError):
            await connection.send(post(url))
        assert connection.reconnects == 1
        await connection.close()


async def test_httpx_opens_a_new_connection_by_itself(closing_server: str) -> None:
    """The benchmarks' httpx clients need no help: a closed pooled connection is replaced."""
    async with httpx.AsyncClient(base_url=closing_server) as client:
        for _ in range(3):
            assert (await client.post("/x", content=b"{}")).status_code == 200
            await asyncio.sleep(0.05)


async def test_the_api_client_drops_idle_connections_before_the_server_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A benchmark's httpx client opens a new connection after idling half the server's
    keep-alive, so it never writes on a connection the server is closing."""
    monkeypatch.setattr(connections, "SERVER_KEEP_ALIVE", 0.2)
    opened = 0

    async def keeps_alive(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal opened
        opened += 1
        while await read_request(reader):
            writer.write(ANSWER)
            await writer.drain()
        writer.close()

    async with serving(keeps_alive) as url, connections.api_client(url, timeout=5) as client:
        await client.post("/x", content=b"{}")
        await client.post("/x", content=b"{}")
        assert opened == 1  # kept alive while busy
        await asyncio.sleep(0.15)
        await client.post("/x", content=b"{}")
        assert opened == 2


async def test_an_event_stream_is_asked_for_again_when_it_ends() -> None:
    """An SSE stream the server ends is opened again while the caller wants more."""
    opened = 0

    async def one_event(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal opened
        opened += 1
        await reader.readline()
        writer.write(b"HTTP/1.1 200 OK\r\n\r\ndata: " + str(opened).encode() + b"\n\n")
        writer.close()

    seen: list[bytes] = []
    async with serving(one_event) as url:
        stream = event_lines(url, b"GET /live HTTP/1.1\r\n\r\n", lambda: len(seen) < 3)
        async for data in stream:
            seen.append(data.strip())
        assert seen == [b"1", b"2", b"3"]


@pytest.mark.parametrize("name", BENCHMARKS)
def test_each_benchmark_has_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``--help`` of every benchmark prints its usage and exits 0, starting nothing."""
    module = importlib.import_module(f"benchmarks.{name}")
    with pytest.raises(SystemExit) as exit_:
        module.main(["--help"])
    assert exit_.value.code == 0
    assert f"python -m benchmarks.{name}" in capsys.readouterr().out


@pytest.mark.parametrize("name", BENCHMARKS)
def test_each_benchmark_parses_its_defaults(name: str) -> None:
    """Every benchmark's parser gives a number of stream workers and a file for the figures."""
    module = importlib.import_module(f"benchmarks.{name}")
    args = module.arguments([])
    assert args.workers == 1
    assert args.out.name == f"{name}.json"
