"""Every signature the platform checks goes through ``bidding.keys.verify``. A key of small
order (the identity point, say) would let one signature pass for every message: a bidder
could later deny its bid ("anyone could have signed that"), and anyone could sign for it."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys, suites

FIELDS = {"ocid": "ocds-000000-2026-000042", "amount": "1000.00"}
# The identity point (x = 0, y = 1): [S]B = R + [k]A holds with A = 0 for R = B and S = 1,
# whatever k, that is whatever the message.
IDENTITY = bytes([1]) + bytes(31)
BASE_POINT = bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")
ONE = (1).to_bytes(32, "little")


def test_an_honest_signature_verifies_and_no_other_message_does() -> None:
    key = Ed25519PrivateKey.generate()
    signature = keys.sign(key, "procurement-test/1", FIELDS)
    public = keys.raw_public(key)
    assert keys.verify(public, signature, "procurement-test/1", FIELDS)
    assert not keys.verify(public, signature, "procurement-test/1", FIELDS | {"amount": "9.00"})
    assert not keys.verify(public, signature, "procurement-test/2", FIELDS)


def test_a_small_order_key_signs_nothing() -> None:
    universal = BASE_POINT + ONE
    for amount in ("1000.00", "9999.00"):
        assert not keys.verify(IDENTITY, universal, "procurement-test/1", {"amount": amount})


def test_malformed_keys_and_signatures_are_refused_not_raised() -> None:
    key = Ed25519PrivateKey.generate()
    signature = keys.sign(key, "procurement-test/1", FIELDS)
    public = keys.raw_public(key)
    assert not keys.verify(public[:31], signature, "procurement-test/1", FIELDS)
    assert not keys.verify(public, signature[:63], "procurement-test/1", FIELDS)
    assert not keys.verify(public, b"", "procurement-test/1", FIELDS)
    assert not keys.verify(b"\xff" * 32, signature, "procurement-test/1", FIELDS)


def test_nothing_can_be_sealed_to_an_encryption_key_of_small_order() -> None:
    """A committee member's encryption keys must take a share: one of small order would
    make every bidder's sealing fail (and is refused at registration)."""
    member = suites.MemberPrivateKeys.generate()
    x25519, hybrid = member.public(suites.X25519), member.public(suites.HYBRID)
    assert suites.sealable(suites.X25519, x25519)
    assert suites.sealable(suites.HYBRID, hybrid)
    for weak in (bytes(32), ONE):
        assert not suites.sealable(suites.X25519, weak)
        assert not suites.sealable(suites.HYBRID, hybrid[:-32] + weak)
    assert not suites.sealable(suites.HYBRID, hybrid[:100])
    assert not suites.sealable(suites.X25519, x25519[:31])
