"""A running stream worker listens on this machine only: its faust web server binds to
loopback, so nothing of the worker is reachable from the network."""

import psutil

from tests.integration.stack import Stack

LOOPBACK = {"127.0.0.1", "::1"}


def listening_addresses(pid: int) -> list[tuple[str, int]]:
    """Every (address, port) on which the process ``pid`` or one of its children listens."""
    process = psutil.Process(pid)
    found = []
    for each in (process, *process.children(recursive=True)):
        for connection in each.net_connections(kind="inet"):
            if connection.status == psutil.CONN_LISTEN:
                found.append((connection.laddr.ip, connection.laddr.port))
    return found


async def test_every_socket_a_running_worker_listens_on_is_loopback(stack: Stack) -> None:
    """The worker (joined and projecting) listens, at least with its web server, and on
    127.0.0.1 or ::1 only: never 0.0.0.0, ::, or a public address."""
    worker = stack.workers[0]
    assert worker.poll() is None, "the worker is not running"
    web_port = int(psutil.Process(worker.pid).environ()["PROCUREMENT_WORKER_WEB_PORT"])
    listening = listening_addresses(worker.pid)
    assert web_port in {port for _, port in listening}, listening
    for address, port in listening:
        assert address in LOOPBACK, (address, port)
