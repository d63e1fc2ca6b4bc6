"""The platform's own Ed25519 key, which signs bid receipts.

Made once, on first start, in the data directory (readable by its owner only); every API
process of a deployment must use the same file.
"""

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import private_files


def load_or_create(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        private_files.directory(path.parent)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        draft.unlink(missing_ok=True)  # left by a crashed process of the same id
        private_files.create(draft, pem)
        try:  # a hard link appears whole, and only once: of two starting processes, one wins
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key
