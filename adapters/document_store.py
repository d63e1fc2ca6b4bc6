"""Where the tenders' procurement documents' bytes are kept, by their SHA-256.

One small port, ``DocumentStore``: PostgreSQL by default (``PROCUREMENT_DOCUMENT_STORE``
unset), or a directory (``file:///srv/documents``). An S3 store is one more class with these
two methods. Keys are digests the caller computed from the bytes, so a ``put`` of the same
bytes twice is harmless, and a stored document cannot be changed without changing its key.
"""

import asyncio
import hashlib
import os
import re
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class DocumentStore(Protocol):
    async def put(self, sha256: str, content: bytes) -> None: ...

    async def get(self, sha256: str) -> bytes | None: ...


def _digest_of(sha256: str, content: bytes | None = None) -> str:
    if not _DIGEST.match(sha256) or (content is not None and sha256_of(content) != sha256):
        raise ValueError(f"{sha256!r} is not the SHA-256 of the document")
    return sha256


class MemoryDocuments:
    """For tests of the write side without PostgreSQL."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    async def put(self, sha256: str, content: bytes) -> None:
        self.kept[_digest_of(sha256, content)] = content

    async def get(self, sha256: str) -> bytes | None:
        return self.kept.get(_digest_of(sha256))


class PostgresDocuments:
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def put(self, sha256: str, content: bytes) -> None:
        await self.pool.execute(
            "INSERT INTO document_contents (sha256, content) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            _digest_of(sha256, content),
            content,
        )

    async def get(self, sha256: str) -> bytes | None:
        found = await self.pool.fetchval(
            "SELECT content FROM document_contents WHERE sha256 = $1", _digest_of(sha256)
        )
        return bytes(found) if found is not None else None


class DirectoryDocuments:
    """Files named by their digest, under two levels of directories, written whole or not
    at all (a temporary file renamed into place)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        digest = _digest_of(sha256)
        return self.root / digest[:2] / digest

    async def put(self, sha256: str, content: bytes) -> None:
        _digest_of(sha256, content)
        await asyncio.to_thread(self._write, self._path(sha256), content)

    @staticmethod
    def _write(path: Path, content: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        partial.write_bytes(content)
        os.replace(partial, path)

    async def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        content = await asyncio.to_thread(lambda: path.read_bytes() if path.is_file() else None)
        if content is not None and sha256_of(content) != sha256:
            raise ValueError(f"the stored document {sha256} was altered on disk")
        return content


def parse_document_store(text: str, name: str = "PROCUREMENT_DOCUMENT_STORE") -> str:
    """A ``file:///absolute/directory`` URL, as the setting takes it."""
    parts = urlsplit(text)
    if (
        parts.scheme != "file"
        or parts.netloc not in ("", "localhost")
        or not parts.path.startswith("/")
    ):
        msg = f"{name}={text!r} is not a file:///absolute/directory URL (unset: PostgreSQL)"
        raise ValueError(msg)
    return text


def document_store(url: str | None, pool: Any) -> DocumentStore:
    """The store the setting names: None for PostgreSQL, ``file:///dir`` for a directory."""
    if url is None:
        return PostgresDocuments(pool)
    return DirectoryDocuments(Path(unquote(urlsplit(parse_document_store(url)).path)))
