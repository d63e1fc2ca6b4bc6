"""Where the audit reads public data: the API, a directory of saved answers, or the API with
every answer saved to a directory, so that a later audit can run offline on exactly that.

A source has one method, ``get(path, params)``, which answers the JSON of ``GET path?params``
or raises ``Unavailable`` saying what could not be read.

**File names** (``answer_file``): an answer to ``GET /a/b/c?k=v&j=w`` is kept at
``a/b/c@j=w&k=v.json`` under the directory: one directory per path segment, the last one
becoming the file, then the query, its parameters sorted by name, after ``@``. Every
character other than ASCII letters, digits, ``.``, ``_``, ``-`` and ``~`` is written as
``%XX`` (UTF-8, upper-case hex), in segments, names and values alike; so ``@``, ``&``, ``=``
and ``/`` inside a value cannot be confused with the separators, and ``:`` or ``?`` (not
allowed on some file systems) never appear. A segment of only dots, or one that Windows
reserves (``CON``, ``NUL``, ``COM1``...), has its first character written as ``%XX`` too. A
name longer than 120 characters keeps its first 100 and adds ``~`` and the first 16 hex
digits of the SHA-256 of the full name. The file holds the answer's JSON, UTF-8.
"""

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

Params = Mapping[str, str | int | None]

_WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{n}" for n in range(1, 10)}
    | {f"LPT{n}" for n in range(1, 10)}
)
_LONGEST = 120


class Unavailable(Exception):
    """An answer the audit needed could not be read; the message says which and why."""


class PublicSource(Protocol):
    def get(self, path: str, params: Params | None = None) -> Any:
        """The JSON answer of ``GET path`` with ``params``; raises ``Unavailable``."""
        ...


def describe(path: str, params: Params | None = None) -> str:
    """``GET path?query`` as a person reads it, for messages."""
    query = "&".join(f"{k}={v}" for k, v in _sorted(params))
    return f"GET {path}" + (f"?{query}" if query else "")


def answer_file(path: str, params: Params | None = None) -> Path:
    """The relative file that keeps the answer of ``GET path?params`` (see the module)."""
    segments = [_safe(segment) for segment in path.strip("/").split("/") if segment]
    if not segments:
        segments = ["%2F"]
    query = "&".join(f"{_escape(k)}={_escape(str(v))}" for k, v in _sorted(params))
    last = _shortened(segments[-1] + (f"@{query}" if query else "")) + ".json"
    return Path(*segments[:-1], last)


class HttpSource:
    """The platform's public API at ``api_url``, read without a token."""

    def __init__(self, api_url: str, timeout: float = 60) -> None:
        self.api_url = api_url.rstrip("/")
        self._http = httpx.Client(base_url=self.api_url, timeout=timeout)

    def get(self, path: str, params: Params | None = None) -> Any:
        query = dict(_sorted(params))
        try:
            response = self._http.get(path, params=query)
        except httpx.HTTPError as error:
            msg = f"{describe(path, params)}: cannot reach {self.api_url} ({error})"
            raise Unavailable(msg) from error
        if response.is_error:
            detail = response.text[:300]
            raise Unavailable(f"{describe(path, params)} answered {response.status_code}: {detail}")
        try:
            return response.json()
        except ValueError as error:
            raise Unavailable(f"{describe(path, params)} did not answer JSON") from error

    def close(self) -> None:
        self._http.close()


class DirectorySource:
    """Answers saved under ``directory`` by a ``RecordingSource`` (or by hand)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def get(self, path: str, params: Params | None = None) -> Any:
        file = self.directory / answer_file(path, params)
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            msg = f"{describe(path, params)}: no file {file}"
            raise Unavailable(msg) from error
        except (OSError, ValueError) as error:
            raise Unavailable(
                f"{describe(path, params)}: {file} is unreadable ({error})"
            ) from error


class RecordingSource:
    """Reads through ``inner`` and saves every answer under ``directory``, where a
    ``DirectorySource`` finds it again."""

    def __init__(self, inner: PublicSource, directory: Path) -> None:
        self.inner = inner
        self.directory = directory

    def get(self, path: str, params: Params | None = None) -> Any:
        answer = self.inner.get(path, params)
        file = self.directory / answer_file(path, params)
        file.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(answer, ensure_ascii=False, indent=1, sort_keys=True)
        file.write_text(text + "\n", encoding="utf-8")
        return answer


def _sorted(params: Params | None) -> list[tuple[str, str]]:
    return sorted((k, str(v)) for k, v in (params or {}).items() if v is not None)


def _escape(text: str) -> str:
    return quote(text, safe="")  # keeps only A-Z a-z 0-9 . _ - ~


def _safe(segment: str) -> str:
    escaped = _escape(segment)
    stem = escaped.split(".")[0].upper()
    if set(escaped) == {"."} or stem in _WINDOWS_RESERVED:
        escaped = f"%{ord(escaped[0]):02X}" + escaped[1:]
    return _shortened(escaped)


def _shortened(name: str) -> str:
    if len(name) <= _LONGEST:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    return f"{name[:100]}~{digest}"
