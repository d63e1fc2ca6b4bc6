"""``procurement officer keys-check`` knows which public keys a member's key file holds."""

from dataclasses import dataclass
from typing import Any

from bidding import keys
from entrypoints.cli.key_log import held_public_keys
from sdk.keyfiles import KeyFile


def test_a_members_key_file_holds_its_signing_and_encryption_keys() -> None:
    """Both public halves are held; a stranger's key is not."""
    key_file = KeyFile.generate(committee=True)
    assert key_file.encryption_key is not None
    held = held_public_keys(key_file)
    assert keys.raw_public(key_file.signing_key) in held
    assert keys.raw_public(key_file.encryption_key) in held
    assert keys.raw_public(KeyFile.generate(committee=True).signing_key) not in held


def test_a_key_file_that_gives_its_keys_by_suite_holds_each_suites_key() -> None:
    """A member's key file that answers a public key per suite (the post-quantum one too)."""

    class Member:
        def public(self, suite: str) -> bytes:
            if suite == "mlkem768-x25519":
                return b"\x07" * 1216
            raise ValueError(f"no key for {suite}")

    @dataclass(frozen=True)
    class SuiteKeyFile:
        party_id: str

        def member_keys(self) -> Any:
            return Member()

    assert held_public_keys(SuiteKeyFile("officer-1")) == {b"\x07" * 1216}  # type: ignore[arg-type]
