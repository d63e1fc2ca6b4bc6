"""The document stores keep bytes by their SHA-256 and give back exactly those bytes: the
same contract for the memory store and a directory (PostgreSQL's is tried on the real
services, tests/integration/test_enquiries.py)."""

import hashlib
from pathlib import Path

import pytest

from adapters.document_store import (
    DirectoryDocuments,
    DocumentStore,
    MemoryDocuments,
    PostgresDocuments,
    document_store,
)
from adapters.settings import Settings

CONTENT = b"%PDF-1.7\n\x00\xff specification"
DIGEST = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture(params=["memory", "directory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> DocumentStore:
    return MemoryDocuments() if request.param == "memory" else DirectoryDocuments(tmp_path)


async def test_bytes_come_back_exactly(store: DocumentStore) -> None:
    """What was put is what is got, and putting it again changes nothing."""
    await store.put(DIGEST, CONTENT)
    await store.put(DIGEST, CONTENT)
    assert await store.get(DIGEST) == CONTENT
    assert await store.get("0" * 64) is None


async def test_a_key_that_is_not_the_bytes_digest_is_refused(store: DocumentStore) -> None:
    """No document can be kept under another document's digest, nor a path for a key."""
    with pytest.raises(ValueError, match="SHA-256"):
        await store.put("0" * 64, CONTENT)
    with pytest.raises(ValueError, match="SHA-256"):
        await store.get("../../etc/passwd")


async def test_a_file_altered_on_disk_is_not_served(tmp_path: Path) -> None:
    """The directory store checks the digest again when it reads."""
    store = DirectoryDocuments(tmp_path)
    await store.put(DIGEST, CONTENT)
    (tmp_path / DIGEST[:2] / DIGEST).write_bytes(b"altered")
    with pytest.raises(ValueError, match="altered"):
        await store.get(DIGEST)


def test_the_setting_names_the_store(tmp_path: Path) -> None:
    """Unset: PostgreSQL; file:///dir: a directory; anything else stops the platform."""
    assert isinstance(document_store(None, pool=None), PostgresDocuments)
    chosen = Settings.from_env({"PROCUREMENT_DOCUMENT_STORE": tmp_path.as_uri()}).document_store
    directory = document_store(chosen, pool=None)
    assert isinstance(directory, DirectoryDocuments)
    assert directory.root == tmp_path
    with pytest.raises(ValueError, match="PROCUREMENT_DOCUMENT_STORE"):
        Settings.from_env({"PROCUREMENT_DOCUMENT_STORE": "s3://bucket/documents"})
