"""Shamir k-of-n secret sharing of a short secret (an opening key) over GF(2**521 - 1).

The secret, read as a big-endian integer, is the constant term of a random polynomial of degree
threshold - 1; share i is the polynomial's value at x = i. Any threshold shares rebuild it by
Lagrange interpolation at 0. Fewer than threshold shares reveal nothing about the secret: for
every candidate secret there is exactly one polynomial through them, so all are equally likely.

Why a prime field: any secret of up to 64 bytes is below the Mersenne prime 2**521 - 1, so it
is a field element as it stands, and coefficients drawn uniformly below the prime carry no bias.
The arithmetic is Python's own integers modulo the prime, with nothing to get subtly wrong.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

PRIME = 2**521 - 1
Y_BYTES = (PRIME.bit_length() + 7) // 8  # 66
SHARE_BYTES = 1 + Y_BYTES
MAX_SHARES = 255  # x is one byte, and 0 is the secret itself
MAX_SECRET_BYTES = 64


@dataclass(frozen=True)
class Share:
    x: int
    y: int

    def __post_init__(self) -> None:
        if not 1 <= self.x <= MAX_SHARES:
            raise ValueError(f"a share's x is {self.x}; it must be in 1..{MAX_SHARES}")
        if not 0 <= self.y < PRIME:
            raise ValueError("a share's y must be in 0..2**521 - 2, below the field's prime")

    def to_bytes(self) -> bytes:
        """x as 1 byte, then y as 66 bytes, big-endian."""
        return self.x.to_bytes(1, "big") + self.y.to_bytes(Y_BYTES, "big")

    @classmethod
    def from_bytes(cls, data: bytes) -> "Share":
        if len(data) != SHARE_BYTES:
            raise ValueError(f"a share is {SHARE_BYTES} bytes, not {len(data)}")
        return cls(x=data[0], y=int.from_bytes(data[1:], "big"))


def split(secret: bytes, threshold: int, count: int) -> list[Share]:
    """``count`` shares of ``secret``, any ``threshold`` of which rebuild it."""
    if not 1 <= threshold <= count <= MAX_SHARES:
        msg = f"need 1 <= threshold <= count <= {MAX_SHARES}, got threshold {threshold} and count {count}"
        raise ValueError(msg)
    if not 1 <= len(secret) <= MAX_SECRET_BYTES:
        raise ValueError(f"the secret must be 1..{MAX_SECRET_BYTES} bytes, not {len(secret)}")
    coefficients = [int.from_bytes(secret, "big")]
    coefficients += [secrets.randbelow(PRIME) for _ in range(threshold - 1)]
    return [Share(x=x, y=_evaluate(coefficients, x)) for x in range(1, count + 1)]


def combine(shares: Sequence[Share], length: int) -> bytes:
    """The secret of ``length`` bytes that ``shares`` rebuild.

    Too few shares, or a share of another split, give what is in effect a random field
    element, which fits in ``length`` bytes with probability 2**(8 * length - 521) only, and
    the ValueError says so. This is no integrity check: a share with a small error in y shifts
    the result a little, so check shares against their digests before combining them.
    """
    if length < 1:
        raise ValueError(f"the secret's length must be at least 1 byte, not {length}")
    if not shares:
        raise ValueError("no shares to combine")
    xs = [share.x for share in shares]
    if len(set(xs)) != len(xs):
        raise ValueError(f"the shares repeat an x value: {sorted(xs)}")
    secret = sum(share.y * _lagrange_at_zero(share.x, xs) for share in shares) % PRIME
    if secret >= 1 << (8 * length):
        msg = f"the shares do not rebuild a {length}-byte secret: too few shares, or a wrong one"
        raise ValueError(msg)
    return secret.to_bytes(length, "big")


def _evaluate(coefficients: Sequence[int], x: int) -> int:
    result = 0
    for coefficient in reversed(coefficients):  # Horner's rule
        result = (result * x + coefficient) % PRIME
    return result


def _lagrange_at_zero(x: int, xs: Sequence[int]) -> int:
    """The Lagrange basis polynomial of ``x`` over ``xs``, evaluated at 0."""
    numerator, denominator = 1, 1
    for other in xs:
        if other != x:
            numerator = numerator * other % PRIME
            denominator = denominator * (other - x) % PRIME
    return numerator * pow(denominator, -1, PRIME) % PRIME
