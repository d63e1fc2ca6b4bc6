"""Releases, records and packages as JSON text, their amounts exact.

**Values.** Amounts and quantities stay ``Decimal`` in the dicts, exact to the cent; write
them with ``dumps``, which prints each one as the exact JSON number it is (``json.dumps``
refuses them, and a float would round amounts of 16 digits or more).
"""

import json
from decimal import Decimal
from typing import Any


def dumps(value: Any) -> str:
    """Compact JSON text of a release, record or package, each Decimal as its exact number."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a number JSON can write")
        return format(value, "f")
    if isinstance(value, dict):
        members = (f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)
