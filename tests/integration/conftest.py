"""Fixtures that start the real services: the embedded PostgreSQL once per session, and a
whole platform (database, broker, workers, API) per test module."""

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.embedded import EmbeddedBroker, EmbeddedPostgres
from tests.integration.stack import OPERATOR_TOKEN, Stack, settings_for_tests


@pytest.fixture(scope="session", autouse=True)
def own_user_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A platform started by a test saves its address in the user's config directory, as
    `procurement up` does: the tests' own, never the real user's."""
    previous = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("user-config"))
    yield
    if previous is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = previous


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One embedded PostgreSQL for the session; each stack gets a database of its own."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("postgres") / "data")
    url = server.start()
    yield url
    server.stop()


async def create_database(server_url: str) -> str:
    name = f"test_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return server_url.replace("/postgres?", f"/{name}?", 1)


@contextlib.asynccontextmanager
async def running_stack(
    postgres_server: str,
    tmp_path_factory: pytest.TempPathFactory,
    workers: int = 1,
    **settings: Any,
) -> AsyncIterator[Stack]:
    """A running platform: fresh database, its own broker, ``workers`` stream workers and
    the API, with the test settings changed by ``settings``."""
    data_dir: Path = tmp_path_factory.mktemp("platform")
    broker = EmbeddedBroker(log_dir=data_dir / "logs")
    broker.start()
    changed = replace(settings_for_tests(data_dir), **settings)
    platform = Stack(changed, await create_database(postgres_server), broker)
    try:  # a platform that failed to start still stops what it started, its broker included
        await platform.start(workers=workers)
        yield platform
    finally:
        await platform.stop()


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """A running platform: fresh database, its own broker, one stream worker, the API."""
    async with running_stack(postgres_server, tmp_path_factory) as platform:
        yield platform


async def register_officer(stack: Stack, identifier: str | None = None) -> dict[str, Any]:
    """Register a new agency and one officer of it; return the officer's ids and token."""
    identifier = identifier or f"RO-CUI-{uuid.uuid4().int % 10**8}"
    async with stack.client(OPERATOR_TOKEN) as operator:
        agency = await operator.post(
            "/agencies", json={"name": f"Agency {identifier}", "identifier": identifier}
        )
        assert agency.status_code == 201, agency.text
        agency_id = agency.json()["id"]
        officer = await operator.post(
            "/officers",
            json={"agency_id": agency_id, "name": "Ana Pop", "email": "ana.pop@example.ro"},
        )
        assert officer.status_code == 201, officer.text
    return {
        "agency_id": agency_id,
        "officer_id": officer.json()["id"],
        "token": officer.json()["token"],
    }


def tender_body(
    deadline_in: timedelta = timedelta(days=40), cpv: str = "30197630-1", amount: str = "1000.00"
) -> dict[str, Any]:
    """A valid PublishTender body with one lot."""
    return {
        "title": "Office paper for 2027",
        "description": "A4 paper, 80 g/m2, delivered monthly to the town hall.",
        "procedure_type": "open",
        "submission_deadline": (datetime.now(UTC) + deadline_in).isoformat(),
        "requirements": {
            "cpv": cpv,
            "lots": [
                {
                    "id": "lot-1",
                    "title": "Paper",
                    "value": {"amount": amount, "currency": "RON"},
                    "items": [
                        {
                            "id": "paper",
                            "description": "A4 paper box",
                            "cpv": cpv,
                            "quantity": "100",
                            "unit": "box",
                        }
                    ],
                }
            ],
        },
    }
