"""A tender's bid log head as the platform signs and serves it.

The platform signs, with Ed25519, the canonical JSON of ``{"purpose":
"procurement-bid-log-head/1", "ocid", "tree_size", "root", "timestamp"}`` (``root`` lowercase
hex, ``timestamp`` RFC 3339 in UTC with a ``Z``). It serves that object plus ``key_id``,
``signature`` (base64), ``timestamp_token`` (an RFC 3161 TimeStampToken over the SHA-256 of
the signed JSON, base64, or null), ``tsa`` (the time-stamping authority's URL, or null) and
``time_source``, which says in words whose clock the time rests on.
"""

from typing import Annotated, Final, Literal, Self

from pydantic import Field, model_validator

from schemas.base import Message
from schemas.bids import Base64, Signature, base64_of
from schemas.text import OneLine

HEAD_PURPOSE: Final = "procurement-bid-log-head/1"
PLATFORM_CLOCK_ONLY: Final = (
    "platform clock: no time-stamping authority is configured, the time is the platform's "
    "word alone"
)
TSA_TIME_STAMP: Final = (
    "RFC 3161 time-stamp: the authority named in tsa time-stamped the signed head"
)
# The two sentences above: a Literal cannot name them, so they are spelled out again, and
# the validator below compares with the names.
TimeSource = Literal[
    "platform clock: no time-stamping authority is configured, the time is the platform's "
    "word alone",
    "RFC 3161 time-stamp: the authority named in tsa time-stamped the signed head",
]
MAX_TOKEN_BYTES = 16 * 1024  # a token carries the authority's certificates: a few kB


HeadSignature = Signature  # Ed25519, 64 raw bytes, base64
TimeStampToken = Annotated[  # an RFC 3161 TimeStampToken (DER), base64
    Base64, Field(min_length=1, max_length=MAX_TOKEN_BYTES), base64_of(at_most=MAX_TOKEN_BYTES)
]
Rfc3339Utc = Annotated[
    str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$", max_length=27)
]


class SignedTreeHead(Message):
    """The head of one tender's bid log, signed by the platform key, with an optional
    RFC 3161 time-stamp from an authority that is not the platform."""

    purpose: Literal["procurement-bid-log-head/1"] = HEAD_PURPOSE
    ocid: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w.:-]*$")]
    tree_size: int = Field(ge=0)
    root: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", max_length=64)]
    timestamp: Rfc3339Utc
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$", max_length=16)]
    signature: HeadSignature
    timestamp_token: TimeStampToken | None = None
    tsa: Annotated[str, Field(min_length=1, max_length=2000), OneLine] | None = None
    time_source: TimeSource = Field(
        default=PLATFORM_CLOCK_ONLY, description="whose clock the time rests on, in words"
    )

    @model_validator(mode="after")
    def _time_source_matches(self) -> Self:
        stamped = self.timestamp_token is not None
        if stamped != (self.tsa is not None):
            raise ValueError("timestamp_token and tsa are both given or both null")
        if self.time_source != (TSA_TIME_STAMP if stamped else PLATFORM_CLOCK_ONLY):
            raise ValueError("time_source must say whether an authority time-stamped the head")
        return self
