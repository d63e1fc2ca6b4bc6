"""OCDS text: every amount exact, the same text whichever writer produced it."""

import json
from decimal import Decimal
from typing import Any

import pytest

from publication.ocds.json_text import _written, copied, dumps

RELEASE: dict[str, Any] = {
    "ocid": "ocds-000000-0001",
    "value": {"amount": Decimal("12345678901234567.89"), "currency": "RON"},
    "items": [{"quantity": Decimal("2.500"), "description": 'Hârtie A4 \u2028 "x" \x01'}],
    "numberOfTenderers": 3,
    "tag": ("tender",),
    "flag": True,
    "none": None,
}


def test_amounts_are_written_exactly() -> None:
    text = dumps(RELEASE)
    assert '"amount":12345678901234567.89' in text
    assert '"quantity":2.500' in text
    assert json.loads(text, parse_float=Decimal)["value"]["amount"] == Decimal(
        "12345678901234567.89"
    )


def test_both_writers_write_the_same_text() -> None:
    assert dumps(RELEASE) == _written(RELEASE)


def test_an_integer_beyond_64_bits_is_written_too() -> None:
    assert dumps({"n": 10**30}) == '{"n":1000000000000000000000000000000}'


def test_a_number_json_cannot_write_is_refused() -> None:
    with pytest.raises(ValueError, match="is not a number JSON can write"):
        dumps({"amount": Decimal("NaN")})


def test_a_copy_shares_nothing_mutable() -> None:
    copy = copied(RELEASE)
    assert copy == RELEASE
    copy["items"][0]["quantity"] = Decimal(1)
    assert RELEASE["items"][0]["quantity"] == Decimal("2.500")
