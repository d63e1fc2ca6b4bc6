"""While PostgreSQL is away or refuses writes, every request gets a 503 problem document
with Retry-After, never a 500 with a traceback: the launcher restarts the database, and a
client that retries then gets its answer."""

import logging
import time

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from entrypoints.http.problems import PROBLEM

log = logging.getLogger(__name__)

RETRY_AFTER = "5"  # seconds: about what a restart of the embedded PostgreSQL takes
LOG_EVERY = 10.0  # seconds between two log lines about the same outage

# The database cannot be reached, is starting, stopping or recovering, or has no room for
# one more connection: all pass by themselves.
AWAY: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
)
# The database answers but takes no writes: read-only, out of disk or memory.
REFUSING_WRITES: tuple[type[Exception], ...] = (
    asyncpg.ReadOnlySQLTransactionError,
    asyncpg.InsufficientResourcesError,
)


def add_handlers(app: FastAPI) -> None:
    logged = [0.0]  # when the last line was logged

    def unavailable(detail: str, error: Exception) -> JSONResponse:
        if time.monotonic() - logged[0] > LOG_EVERY:
            logged[0] = time.monotonic()
            log.warning("answering 503: %s (%s: %s)", detail, type(error).__name__, error)
        body = {
            "type": "urn:procurement:problem:database_unavailable",
            "title": "Service unavailable",
            "status": 503,
            "detail": detail,
            "code": "database_unavailable",
        }
        headers = {"Retry-After": RETRY_AFTER}
        return JSONResponse(body, 503, headers=headers, media_type=PROBLEM)

    async def away(_: Request, error: Exception) -> JSONResponse:
        if isinstance(error, OSError) and not _is_connection_error(error):
            raise error  # a fault of its own, not the database's absence
        return unavailable("the database cannot be reached just now; try again soon", error)

    async def refusing_writes(_: Request, error: Exception) -> JSONResponse:
        detail = "the database takes no writes just now (read-only or out of space); try again"
        return unavailable(detail, error)

    for kind in (*AWAY, OSError):
        app.add_exception_handler(kind, away)
    for kind in REFUSING_WRITES:
        app.add_exception_handler(kind, refusing_writes)


def _is_connection_error(error: OSError) -> bool:
    """Refused, reset or broken; or the database's socket file missing (FileNotFoundError
    without a file name: a connect, not an open)."""
    return isinstance(error, ConnectionError) or (
        isinstance(error, FileNotFoundError) and error.filename is None
    )
