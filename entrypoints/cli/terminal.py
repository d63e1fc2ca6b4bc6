"""What every command of the ``procurement`` CLI shares: the API's address, the caller's
token, one call with readable errors, private files, and printing.

The CLI trusts nothing in the directory it runs in: the API's address comes from ``--api``,
``PROCUREMENT_API_URL`` or the file ``up`` saves in the user's own config directory, never
from the working directory; plain HTTP goes only to this machine unless the user says
``--insecure-http``.
"""

import ipaddress
import json
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console

from adapters import private_files
from adapters.settings import Settings
from sdk.keyfiles import KeyFile

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


# Talking to the API

ApiOption = Annotated[
    str | None, typer.Option("--api", envvar="PROCUREMENT_API_URL", help="Base URL of the API.")
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token", envvar="PROCUREMENT_TOKEN", help="Your bearer token.", show_default=False
    ),
]


def fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(1)


def data_dir() -> Path:
    return Settings.from_env().data_dir


DEFAULT_API_URL = "http://127.0.0.1:8000"
LOOPBACK_NAMES = frozenset({"localhost"})
InsecureHttpOption = Annotated[
    bool,
    typer.Option(
        "--insecure-http",
        envvar="PROCUREMENT_INSECURE_HTTP",
        help="Allow plain HTTP to an API on another machine (tokens and shares in clear).",
    ),
]
_insecure_http_allowed = False


def allow_insecure_http(allowed: bool) -> None:
    """What ``--insecure-http`` sets, for every call of this run."""
    global _insecure_http_allowed  # one flag for the one process
    _insecure_http_allowed = allowed


def user_config_dir() -> Path:
    """The user's own ``procurement`` config directory (XDG), never the working directory."""
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(root) / "procurement"


def save_api_url(url: str) -> Path:
    """Remember the API's address for this user: a 0600 file in a 0700 directory."""
    path = private_files.directory(user_config_dir()) / "api-url"
    private_files.replace(path, url.encode())
    return path


def _saved_api_url() -> str | None:
    path = user_config_dir() / "api-url"
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        fail(f"{path} could have been written by another user: remove it or run `up` again")
    return path.read_text().strip() or None


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified  # `up --host 0.0.0.0` is this machine


def _insecure_http() -> bool:
    flag = os.environ.get("PROCUREMENT_INSECURE_HTTP", "").strip().lower()
    return _insecure_http_allowed or flag in {"1", "true", "yes"}


def checked_transport(url: str) -> str:
    """``url`` if the CLI may send tokens, bids and shares to it; else a refusal saying why."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        fail(f"{url!r} is not an http:// or https:// address of the API")
    if parts.scheme == "http" and not _is_loopback(parts.hostname) and not _insecure_http():
        fail(
            f"refusing plain HTTP to {parts.hostname}: anyone on the network between could "
            "read your token and replace the keys you seal to. Use https://, or pass "
            "--insecure-http (PROCUREMENT_INSECURE_HTTP=1) if you accept that risk"
        )
    return url


def base_url(api_url: str | None) -> str:
    """The API's address: ``--api``, else ``PROCUREMENT_API_URL``, else the address ``up``
    saved for this user, else the local default; checked before anything is sent."""
    chosen = api_url or os.environ.get("PROCUREMENT_API_URL") or _saved_api_url()
    return checked_transport((chosen or DEFAULT_API_URL).rstrip("/"))


def token_or_saved(token: str | None) -> str | None:
    if token:
        return token
    saved = data_dir() / "admin-token"  # the operator's token, on the machine that runs `up`
    return saved.read_text().strip() if saved.exists() else None


def call(
    method: str, path: str, api_url: str | None, token: str | None = None, **kwargs: Any
) -> Any:
    """One API call; a problem answer becomes a readable error and exit code 1."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = base_url(api_url) + path
    try:
        response = httpx.request(method, url, headers=headers, timeout=30, **kwargs)
    except httpx.TransportError as error:
        fail(f"cannot reach the API at {base_url(api_url)} ({error}); is `procurement up` running?")
    if response.is_error:
        try:
            body = response.json()
        except ValueError:
            fail(f"{response.status_code} from {url}: {response.text[:500]}")
        lines = [
            f"{body.get('title', 'Refused')} ({response.status_code}): {body.get('detail', '')}"
        ]
        fail("\n".join(lines))
    return response.json()


# Files the CLI writes that hold a key, a token or a receipt


def private_umask() -> None:
    """From now on, whatever this process creates is readable by its user only."""
    os.umask(private_files.UMASK)


def load_key_file(path: Path) -> KeyFile:
    """A party's key file, or a clear error that says what is wrong with it."""
    try:
        return KeyFile.load(path)
    except FileNotFoundError:
        fail(f"no key file at {path}")
    except ValueError as error:
        fail(str(error))


def write_private(path: Path, data: bytes) -> None:
    """Write a key, token or receipt file: 0600 from creation, replacing any older file."""
    private_files.replace(path, data)


# Time checks


def check_after_deadline(tender_json: dict[str, Any], now: datetime) -> None:
    """Refuse to hand in an opening share before the tender's submission deadline: a share
    sent early would let the platform open bids while bidders can still bid."""
    text = tender_json.get("submission_deadline") or tender_json.get("deadline")
    if not isinstance(text, str):
        fail(f"the tender {tender_json.get('ocid')} names no deadline: no share is sent")
    deadline = datetime.fromisoformat(text)
    if deadline.tzinfo is None or now < deadline:
        fail(
            f"the tender {tender_json.get('ocid')} is open until {deadline.isoformat()}: "
            "shares are handed in only after the deadline"
        )


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        fail(f"no such file: {path}")
    except json.JSONDecodeError as error:
        fail(f"{path} is not valid JSON: {error}")


def show(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))
