"""Private keys on the holder's own machine: one JSON file per party, readable by its owner
only. The platform never sees these files."""

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from adapters import private_files
from bidding import suites


@dataclass(frozen=True)
class KeyFile:
    party_id: str | None
    signing_key: Ed25519PrivateKey
    encryption_key: X25519PrivateKey | None = None  # committee members only
    # Committee members: the ML-KEM-768+X25519 key of the post-quantum suite, as
    # ``bidding.suites.MemberPrivateKeys`` holds it (ML-KEM seed, then X25519 private key).
    hybrid_encryption_key: bytes | None = None

    @classmethod
    def generate(cls, *, committee: bool) -> "KeyFile":
        if not committee:
            return cls(None, Ed25519PrivateKey.generate())
        member = suites.MemberPrivateKeys.generate()
        return cls(None, Ed25519PrivateKey.generate(), member.x25519, member.hybrid)

    def named(self, party_id: str) -> "KeyFile":
        return KeyFile(party_id, self.signing_key, self.encryption_key, self.hybrid_encryption_key)

    def member_keys(self) -> suites.MemberPrivateKeys:
        """The encryption keys that open this member's shares, in either suite."""
        if self.encryption_key is None:
            raise ValueError("this key file is not a committee member's: it has no encryption key")
        return suites.MemberPrivateKeys(self.encryption_key, self.hybrid_encryption_key)

    def save(self, path: Path) -> None:
        body = {
            "party_id": self.party_id,
            "signing_key": _b64(self.signing_key.private_bytes_raw()),
            "encryption_key": _b64(self.encryption_key.private_bytes_raw())
            if self.encryption_key
            else None,
            "hybrid_encryption_key": _b64(self.hybrid_encryption_key)
            if self.hybrid_encryption_key
            else None,
        }
        private_files.directory(path.parent)
        private_files.replace(path, json.dumps(body, indent=2).encode())

    @classmethod
    def load(cls, path: Path) -> "KeyFile":
        try:
            body = json.loads(path.read_text())
            encryption = body.get("encryption_key")
            hybrid = body.get("hybrid_encryption_key")
            return cls(
                body.get("party_id"),
                Ed25519PrivateKey.from_private_bytes(base64.b64decode(body["signing_key"])),
                X25519PrivateKey.from_private_bytes(base64.b64decode(encryption))
                if encryption
                else None,
                base64.b64decode(hybrid) if hybrid else None,
            )
        except FileNotFoundError:
            raise
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path} is not a key file: {error}") from error


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
