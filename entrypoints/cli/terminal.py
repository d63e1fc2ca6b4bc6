"""What every command of the ``procurement`` CLI shares: the API's address, the caller's
token, one call with readable errors, and printing."""

import json
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console

from adapters.settings import Settings

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


def base_url(api_url: str | None) -> str:
    if api_url:
        return api_url.rstrip("/")
    saved = data_dir() / "api-url"
    return saved.read_text().strip() if saved.exists() else "http://127.0.0.1:8000"


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


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        fail(f"no such file: {path}")
    except json.JSONDecodeError as error:
        fail(f"{path} is not valid JSON: {error}")


def show(data: Any) -> None:
    out.print_json(json.dumps(data, default=str))
