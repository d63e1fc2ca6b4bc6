"""Checking an RFC 3161 time-stamp on a signed bid-log head, offline (no I/O).

The token is a TimeStampToken (RFC 3161 section 2.4.2, a CMS SignedData of a TSTInfo) whose
message imprint is the SHA-256 of the head's signed JSON (``tree_heads.signed_json``). It is
checked against the authority's certificate the verifier chose to trust: the CMS signature
by that certificate, the critical timeStamping extended key usage, and the imprint.
"""

import hashlib
from datetime import datetime

import rfc3161_client
from cryptography import x509

from bidding import tree_heads
from schemas.tree_heads import SignedTreeHead

SHA256 = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
_GRANTED_STATUS = bytes.fromhex("3003020100")  # PKIStatusInfo { status granted (0) }


class TimeStampInvalid(ValueError):
    """The head's time-stamp does not prove what it claims; the message says why."""


def _der_length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def as_response(token: bytes) -> bytes:
    """A granted TimeStampResp around a token: the form ``rfc3161-client`` verifies."""
    body = _GRANTED_STATUS + token
    return b"\x30" + _der_length(len(body)) + body


def check_time_stamp(head: SignedTreeHead, authority: x509.Certificate) -> datetime:
    """The time the authority vouches for (its ``genTime``), once the head's token is shown
    to be that authority's time-stamp of this head's signed JSON; else TimeStampInvalid."""
    if head.timestamp_token is None:
        raise TimeStampInvalid("the head carries no time-stamp: its time is the platform's alone")
    try:
        response = rfc3161_client.decode_timestamp_response(as_response(head.timestamp_token))
    except ValueError as error:
        raise TimeStampInvalid(f"the time-stamp token is not an RFC 3161 token: {error}") from error
    imprint = response.tst_info.message_imprint
    if imprint.hash_algorithm != SHA256:
        raise TimeStampInvalid(f"the time-stamp hashes with {imprint.hash_algorithm}, not SHA-256")
    if imprint.message != hashlib.sha256(tree_heads.signed_json(head)).digest():
        raise TimeStampInvalid("the time-stamp is of another document, not of this signed head")
    verifier = rfc3161_client.VerifierBuilder(tsa_certificate=authority, roots=[authority]).build()
    try:
        verifier.verify(response, imprint.message)
    except rfc3161_client.VerificationError as error:
        msg = f"the time-stamp is not signed by the authority given: {error}"
        raise TimeStampInvalid(msg) from error
    return response.tst_info.gen_time


def response_token(response_der: bytes, message: bytes, nonce: int | None) -> bytes:
    """The token of an authority's answer to our request over ``message``, once the answer
    is granted, of that message and carries our nonce; else TimeStampInvalid."""
    try:
        response = rfc3161_client.decode_timestamp_response(response_der)
    except ValueError as error:
        raise TimeStampInvalid(f"the authority's answer is not RFC 3161: {error}") from error
    if rfc3161_client.PKIStatus(response.status) not in {
        rfc3161_client.PKIStatus.GRANTED,
        rfc3161_client.PKIStatus.GRANTED_WITH_MODS,
    }:
        raise TimeStampInvalid(f"the authority refused: {response.status_string}")
    if response.tst_info.message_imprint.message != hashlib.sha256(message).digest():
        raise TimeStampInvalid("the authority time-stamped another document")
    if nonce is not None and response.tst_info.nonce != nonce:
        raise TimeStampInvalid("the authority's answer carries another request's nonce")
    return response.time_stamp_token()
