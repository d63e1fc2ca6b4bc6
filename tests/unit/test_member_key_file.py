"""A committee member's key file holds both encryption keys, X25519 and ML-KEM-768+X25519,
so the member can open shares sealed in either suite; older key files still load."""

import json
from pathlib import Path

import pytest

from bidding import committee_sealing, suites
from sdk.keyfiles import KeyFile


def test_a_members_key_file_keeps_both_suites_keys(tmp_path: Path) -> None:
    path = tmp_path / "officer.json"
    KeyFile.generate(committee=True).named("officer-a").save(path)
    loaded = KeyFile.load(path)
    member = loaded.member_keys()
    info = committee_sealing.share_context("ocds-1", ["lot-1"], "supplier-1", 1, "officer-a", 1)
    for suite in (suites.X25519, suites.HYBRID):
        sealed = suites.seal(suite, b"share", member.public(suite), info)
        assert suites.open_sealed(suite, sealed, member, info) == b"share"
    assert len(member.public(suites.HYBRID)) == 1216
    assert path.stat().st_mode & 0o777 == 0o600


def test_an_older_key_file_loads_with_the_x25519_key_only(tmp_path: Path) -> None:
    path = tmp_path / "officer.json"
    KeyFile.generate(committee=True).named("officer-a").save(path)
    body = json.loads(path.read_text())
    del body["hybrid_encryption_key"]
    path.write_text(json.dumps(body))
    member = KeyFile.load(path).member_keys()
    assert len(member.public(suites.X25519)) == 32
    with pytest.raises(suites.SealingFailed, match="no ML-KEM-768"):
        member.public(suites.HYBRID)


def test_a_supplier_has_no_member_keys() -> None:
    with pytest.raises(ValueError, match="not a committee member's"):
        KeyFile.generate(committee=False).member_keys()
