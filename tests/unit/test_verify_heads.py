"""``procurement verify head`` and ``verify receipt`` check signed heads and their RFC 3161
time-stamps offline, and say which check failed."""

import base64
import json
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from adapters import timestamping
from bidding import keys, tree_heads
from entrypoints.cli.main import app
from schemas.tree_heads import SignedTreeHead
from tests.tsa import RunningAuthority, local_tsa, make_authority
from tests.unit.test_receipts_and_verify import LOG, PLATFORM_KEY

__all__ = ["local_tsa"]  # the fixture

KEY = base64.b64encode(keys.raw_public(PLATFORM_KEY)).decode()
ENTRY = LOG[3]  # the receipt of entry 3


def _head(tree_size: int = 4, ocid: str | None = None) -> SignedTreeHead:
    receipt = ENTRY.receipt
    moment = receipt.received_at + timedelta(milliseconds=1)
    return tree_heads.sign_head(ocid or receipt.ocid, tree_size, b"\x07" * 32, moment, PLATFORM_KEY)


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", *args])
    return result.exit_code, result.output


async def _stamped(tsa: RunningAuthority) -> SignedTreeHead:
    head = _head()
    token = await timestamping.time_stamp(tsa.url, tree_heads.signed_json(head))
    return tree_heads.with_time_stamp(head, token, tsa.url)


def test_a_signed_head_verifies_and_says_whose_time_it_is(tmp_path: Path) -> None:
    """A head without a time-stamp verifies and says that its time is the platform's alone."""
    path = _write(tmp_path, "head.json", _head().model_dump(mode="json"))
    code, output = _run("head", str(path), "--platform-key", KEY)
    assert code == 0, output
    assert "verified" in output
    assert "platform's" in output


def test_a_head_signed_by_another_key_is_not_verified(tmp_path: Path) -> None:
    """A head that another key signed is refused, naming the key."""
    other = tree_heads.sign_head(
        "ocds-1", 1, b"\x01" * 32, ENTRY.receipt.received_at, Ed25519PrivateKey.generate()
    )
    path = _write(tmp_path, "head.json", other.model_dump(mode="json"))
    code, output = _run("head", str(path), "--platform-key", KEY)
    assert code == 1
    assert "NOT VERIFIED" in output
    assert other.key_id in output


def test_a_head_with_a_changed_root_is_not_verified(tmp_path: Path) -> None:
    """Changing the root breaks the platform's signature."""
    served = _head().model_dump(mode="json") | {"root": "ab" * 32}
    code, output = _run("head", str(_write(tmp_path, "head.json", served)), "--platform-key", KEY)
    assert code == 1
    assert "signature" in output


async def test_a_time_stamped_head_verifies_against_the_authority_certificate(
    tmp_path: Path, local_tsa: RunningAuthority
) -> None:
    """With the authority's certificate the token is checked and its time printed; with
    another authority's certificate it is refused."""
    path = _write(tmp_path, "head.json", (await _stamped(local_tsa)).model_dump(mode="json"))
    cert = tmp_path / "tsa.pem"
    cert.write_bytes(local_tsa.authority.certificate_pem)
    code, output = _run("head", str(path), "--platform-key", KEY, "--tsa-cert", str(cert))
    assert code == 0, output
    assert "time-stamped by" in output
    cert.write_bytes(make_authority("Another").certificate_pem)
    code, output = _run("head", str(path), "--platform-key", KEY, "--tsa-cert", str(cert))
    assert code == 1
    assert "NOT VERIFIED: time-stamp" in output


def test_a_required_time_stamp_that_is_missing_is_not_verified(tmp_path: Path) -> None:
    """Given an authority's certificate, a head without a token fails."""
    path = _write(tmp_path, "head.json", _head().model_dump(mode="json"))
    cert = tmp_path / "tsa.pem"
    cert.write_bytes(make_authority().certificate_pem)
    code, output = _run("head", str(path), "--platform-key", KEY, "--tsa-cert", str(cert))
    assert code == 1
    assert "carries none" in output


def test_a_receipt_answer_with_its_head_verifies(tmp_path: Path) -> None:
    """A bid's answer carrying the receipt and the head just after its entry verifies both."""
    answer = ENTRY.model_dump(mode="json") | {"signed_head": _head().model_dump(mode="json")}
    code, output = _run(
        "receipt", str(_write(tmp_path, "answer.json", answer)), "--platform-key", KEY
    )
    assert code == 0, output
    assert "just after entry 3" in output


def test_a_receipt_with_the_head_of_another_size_or_tender_is_not_verified(tmp_path: Path) -> None:
    """A head that is not of the receipt's own log just after its entry binds nothing."""
    for head in (_head(tree_size=9), _head(ocid="ocds-000000-2026-999999")):
        answer = ENTRY.model_dump(mode="json") | {"signed_head": head.model_dump(mode="json")}
        path = _write(tmp_path, "answer.json", answer)
        code, output = _run("receipt", str(path), "--platform-key", KEY)
        assert code == 1
        assert "NOT VERIFIED" in output


def test_a_plain_receipt_still_verifies(tmp_path: Path) -> None:
    """A receipt file without a head verifies as before and says its time is its own."""
    path = _write(tmp_path, "receipt.json", ENTRY.model_dump(mode="json"))
    code, output = _run("receipt", str(path), "--platform-key", KEY)
    assert code == 0, output
    assert "no signed head" in output
