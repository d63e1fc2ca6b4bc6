"""A platform of just the API and its database, with limits of the test's choosing: what
refuses requests at the door needs no broker or workers."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from adapters.embedded import EmbeddedBroker
from adapters.http_limits import HttpLimits
from tests.integration.conftest import create_database
from tests.integration.stack import Stack, settings_for_tests


@asynccontextmanager
async def api_only(
    postgres_server: str, data_dir: Path, limits: HttpLimits
) -> AsyncIterator[Stack]:
    settings = replace(settings_for_tests(data_dir), http=limits)
    broker = EmbeddedBroker(log_dir=data_dir / "logs")  # never started: nothing here uses it
    platform = Stack(settings, await create_database(postgres_server), broker)
    await platform.start(workers=0)
    try:
        yield platform
    finally:
        await platform.stop()
