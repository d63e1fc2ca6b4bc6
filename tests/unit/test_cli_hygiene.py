"""The CLI does not trust its surroundings: where it takes the API's address from, plain HTTP,
private files and the deadline before a share."""

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import typer

from entrypoints.cli import terminal


class _Api:
    """An HTTP server on 127.0.0.1 that answers every GET with an empty tender list and
    remembers the paths asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                paths.append(self.path)
                body = json.dumps({"items": [], "next": None}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def two_apis() -> Iterator[tuple[_Api, _Api]]:
    real, planted = _Api(), _Api()
    yield real, planted
    real.close()
    planted.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No API address, no insecure flag, and a user config directory of the test's own."""
    for name in ("PROCUREMENT_API_URL", "PROCUREMENT_INSECURE_HTTP", "PROCUREMENT_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setattr(terminal, "_insecure_http_allowed", False)
    return config


def test_a_planted_api_url_in_the_working_directory_is_not_used(
    tmp_path: Path, clean_env: Path, two_apis: tuple[_Api, _Api]
) -> None:
    """Run in a directory holding ``.procurement/api-url`` that points at another server, the
    CLI calls the address in the user's own config file and never the planted one."""
    real, planted = two_apis
    workdir = tmp_path / "shared-directory"
    (workdir / ".procurement").mkdir(parents=True)
    (workdir / ".procurement" / "api-url").write_text(planted.url)
    terminal.save_api_url(real.url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCUREMENT_")}
    env["XDG_CONFIG_HOME"] = str(clean_env)
    run = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "tender", "list", "--json"],
        cwd=workdir,
        env={**env, "PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert real.paths
    assert real.paths[0].startswith("/tenders")
    assert planted.paths == []


def test_the_saved_address_is_private_to_the_user(clean_env: Path) -> None:
    """``up`` saves the address in a 0700 directory, in a 0600 file, under the user's config."""
    saved = terminal.save_api_url("http://127.0.0.1:8123")
    assert saved == clean_env / "procurement" / "api-url"
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert terminal.base_url(None) == "http://127.0.0.1:8123"


def test_an_address_file_others_can_write_is_refused(clean_env: Path) -> None:
    """A saved address that another user could have written is not trusted."""
    saved = terminal.save_api_url("http://127.0.0.1:8123")
    saved.chmod(0o666)
    with pytest.raises(typer.Exit):
        terminal.base_url(None)


def test_the_order_is_option_then_environment_then_user_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--api wins over PROCUREMENT_API_URL, which wins over the saved address."""
    terminal.save_api_url("http://127.0.0.1:1")
    monkeypatch.setenv("PROCUREMENT_API_URL", "http://127.0.0.1:2")
    assert terminal.base_url("http://127.0.0.1:3/") == "http://127.0.0.1:3"
    assert terminal.base_url(None) == "http://127.0.0.1:2"


def test_without_any_address_the_local_default_is_used(clean_env: Path) -> None:
    """With nothing configured the CLI speaks to the platform on this machine."""
    assert terminal.base_url(None) == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://[::1]:8000",
        "http://0.0.0.0:8000",
        "https://e.eu",
    ],
)
def test_https_and_loopback_http_are_accepted(clean_env: Path, url: str) -> None:
    """HTTPS anywhere, and plain HTTP to this machine, need no flag."""
    assert terminal.base_url(url) == url


@pytest.mark.parametrize(
    "url", ["http://procurement.example.eu", "http://10.0.0.5:8000", "http://localhost.evil.eu"]
)
def test_plain_http_elsewhere_is_refused_and_says_why(
    clean_env: Path, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plain HTTP to another machine is refused, naming the risk and the way out."""
    with pytest.raises(typer.Exit):
        terminal.base_url(url)
    message = capsys.readouterr().err
    assert "plain HTTP" in message
    assert "--insecure-http" in message


def test_plain_http_elsewhere_is_allowed_when_asked_for(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PROCUREMENT_INSECURE_HTTP=1 or --insecure-http lets the user take the risk knowingly."""
    monkeypatch.setenv("PROCUREMENT_INSECURE_HTTP", "1")
    assert terminal.base_url("http://10.0.0.5:8000") == "http://10.0.0.5:8000"
    monkeypatch.delenv("PROCUREMENT_INSECURE_HTTP")
    terminal.allow_insecure_http(True)
    assert terminal.base_url("http://10.0.0.5:8000") == "http://10.0.0.5:8000"


def test_other_schemes_are_refused(clean_env: Path) -> None:
    """Only http and https name an API."""
    with pytest.raises(typer.Exit):
        terminal.base_url("ftp://127.0.0.1/")


def test_private_files_are_0600_from_creation(tmp_path: Path) -> None:
    """A key, token or receipt file is created 0600 and never exists with a looser mode, even
    under a permissive umask and over an old world-readable file."""
    old = os.umask(0)
    try:
        path = tmp_path / "receipt.json"
        path.write_text("old")
        path.chmod(0o644)
        terminal.write_private(path, b'{"receipt": 1}')
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_bytes() == b'{"receipt": 1}'
    finally:
        os.umask(old)


def test_the_private_umask_makes_new_files_owner_only(tmp_path: Path) -> None:
    """Under the CLI's umask any file it opens for writing is born unreadable by others."""
    old = os.umask(0o022)
    try:
        terminal.private_umask()
        path = tmp_path / "token"
        path.write_text("secret")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_share_before_the_deadline_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """Before the tender's deadline the CLI refuses to hand in a share, saying when it may."""
    tender = {"ocid": "ocds-1", "submission_deadline": "2026-12-27T10:00:00+00:00"}
    with pytest.raises(typer.Exit):
        terminal.check_after_deadline(tender, datetime(2026, 12, 27, 9, 59, tzinfo=UTC))
    assert "2026-12-27T10:00:00" in capsys.readouterr().err


def test_a_share_after_the_deadline_passes() -> None:
    """After the deadline the check lets the share go."""
    tender = {"ocid": "ocds-1", "submission_deadline": "2026-12-27T10:00:00Z"}
    terminal.check_after_deadline(tender, datetime(2026, 12, 27, 10, 0, 1, tzinfo=UTC))


def test_a_tender_without_a_deadline_is_refused() -> None:
    """A tender answer that names no deadline gives no reason to trust the time: refused."""
    with pytest.raises(typer.Exit):
        terminal.check_after_deadline({"ocid": "ocds-1"}, datetime(2026, 1, 1, tzinfo=UTC))
