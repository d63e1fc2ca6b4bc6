"""The client of an RFC 3161 time-stamping authority (``PROCUREMENT_TSA_URL``).

It asks for a token over the SHA-256 of a document (a signed head's JSON), with a fresh
nonce and the authority's certificate included, and keeps only a token that answers that
very request (``bidding.timestamps.response_token``).
"""

import httpx
import rfc3161_client

from bidding import timestamps

QUERY = "application/timestamp-query"
REPLY = "application/timestamp-reply"
TIMEOUT_SECONDS = 10.0
MAX_REPLY_BYTES = 64 * 1024


class TimeStampingFailed(RuntimeError):
    """The authority could not be reached or gave no usable token; the message says why."""


async def time_stamp(url: str, document: bytes, wait_seconds: float = TIMEOUT_SECONDS) -> bytes:
    """The authority's TimeStampToken (DER) over the SHA-256 of ``document``."""
    request = (
        rfc3161_client.TimestampRequestBuilder()
        .data(document)
        .hash_algorithm(rfc3161_client.HashAlgorithm.SHA256)
        .build()
    )
    try:
        async with httpx.AsyncClient(timeout=wait_seconds) as client:
            answer = await client.post(
                url, content=request.as_bytes(), headers={"Content-Type": QUERY}
            )
    except httpx.HTTPError as error:
        msg = f"the time-stamping authority {url} did not answer: {error!r}"
        raise TimeStampingFailed(msg) from error
    if answer.status_code != 200 or answer.headers.get("content-type") != REPLY:
        msg = f"the time-stamping authority {url} answered {answer.status_code}, not a {REPLY}"
        raise TimeStampingFailed(msg)
    if len(answer.content) > MAX_REPLY_BYTES:
        raise TimeStampingFailed(f"the time-stamping authority {url} answered too much")
    try:
        return timestamps.response_token(answer.content, document, request.nonce)
    except timestamps.TimeStampInvalid as error:
        raise TimeStampingFailed(f"the time-stamping authority {url}: {error}") from error
