"""The platform's public base URL (``PROCUREMENT_PUBLIC_URL``): read from the environment,
refused clearly when it is not an absolute http(s) URL, and used instead of the Host."""

import pytest
from starlette.requests import Request

from adapters.settings import Settings, parse_public_url
from entrypoints.http.public_url import public_base, public_url


def test_the_public_url_is_unset_by_default() -> None:
    """Without the variable, the platform names itself by the request's Host as before."""
    assert Settings.from_env({}).public_url is None
    assert Settings.from_env({"PROCUREMENT_PUBLIC_URL": ""}).public_url is None


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("https://sicap.example.ro", "https://sicap.example.ro"),
        ("https://sicap.example.ro/", "https://sicap.example.ro"),
        ("http://127.0.0.1:8000/api/", "http://127.0.0.1:8000/api"),
    ],
)
def test_the_public_url_is_kept_without_its_trailing_slash(text: str, kept: str) -> None:
    """A trailing slash or none: the same base."""
    assert Settings.from_env({"PROCUREMENT_PUBLIC_URL": text}).public_url == kept


@pytest.mark.parametrize(
    "text",
    [
        "sicap.example.ro",
        "/ocds",
        "ftp://sicap.example.ro",
        "https://",
        "https://sicap.example.ro/?lang=ro",
        "https://sicap.example.ro/#top",
        "https://user:secret@sicap.example.ro",
        "https://sicap.example.ro:99999",
        "https://sicap example.ro",
    ],
)
def test_a_public_url_that_is_not_an_absolute_http_url_is_refused(text: str) -> None:
    """The error names the variable and what it must be."""
    with pytest.raises(ValueError, match="PROCUREMENT_PUBLIC_URL") as refused:
        parse_public_url(text)
    assert "absolute http(s) URL" in str(refused.value)


class _State:
    def __init__(self, settings: Settings) -> None:
        self.handler = type("Handler", (), {"settings": settings})()


def _request(settings: Settings, path: str = "/ocds/releases", query: bytes = b"") -> Request:
    app = type("App", (), {"state": _State(settings)})()
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": path,
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"internal:8000")],
        "app": app,
    }
    return Request(scope)


def test_without_a_public_url_the_request_names_the_platform() -> None:
    """Unset: the base and the URL of the request as the client asked for them."""
    request = _request(Settings(), query=b"limit=5")
    assert public_base(request) == "http://internal:8000/"
    assert public_url(request) == "http://internal:8000/ocds/releases?limit=5"


def test_a_public_url_replaces_the_host_the_request_came_with() -> None:
    """Set: the same path and query, on the public base (with its own path, if any)."""
    request = _request(Settings(public_url="https://sicap.example.ro/api"), query=b"limit=5")
    assert public_base(request) == "https://sicap.example.ro/api/"
    assert public_url(request) == "https://sicap.example.ro/api/ocds/releases?limit=5"
