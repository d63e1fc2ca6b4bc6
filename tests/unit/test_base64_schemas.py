"""The OpenAPI description says what a binary field holds on the wire: base64 text whose length
follows from the bytes, not ``format: binary`` limited to the byte count."""

import base64
import os
import re
from typing import Any

import pytest
from pydantic import TypeAdapter

from schemas.bids import Ciphertext, PublicKey, Signature
from schemas.catalogue import OpeningKey


@pytest.mark.parametrize(("field", "size"), [(PublicKey, 32), (Signature, 64), (OpeningKey, 32)])
def test_a_fixed_size_field_matches_exactly_the_base64_of_that_many_bytes(
    field: Any, size: int
) -> None:
    schema = TypeAdapter(field).json_schema()
    assert schema["contentEncoding"] == "base64"
    assert "format" not in schema
    pattern = re.compile(schema["pattern"])
    for _ in range(50):
        raw = os.urandom(size)
        assert pattern.match(base64.b64encode(raw).decode())
        assert TypeAdapter(field).validate_python(base64.b64encode(raw).decode()) == raw
    for wrong in (size - 1, size + 1):
        assert not pattern.match(base64.b64encode(os.urandom(wrong)).decode())


def test_a_ciphertext_is_bounded_by_the_base64_length_of_its_byte_limit() -> None:
    schema = TypeAdapter(Ciphertext).json_schema()
    assert schema["contentEncoding"] == "base64"
    assert schema["maxLength"] == len(base64.b64encode(bytes(512 * 1024)))
