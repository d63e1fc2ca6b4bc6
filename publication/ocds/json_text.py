"""Releases, records and packages as JSON text, their amounts exact.

**Values.** Amounts and quantities stay ``Decimal`` in the dicts, exact to the cent; write
them with ``dumps``, which prints each one as the exact JSON number it is (``json.dumps``
refuses them, and a float would round amounts of 16 digits or more).
"""

import json
from decimal import Decimal
from typing import Any, TypeVar, cast

import orjson

J = TypeVar("J")


def dumps(value: Any) -> str:
    """Compact JSON text of a release, record or package, each Decimal as its exact number.
    orjson writes it; what orjson refuses (an integer beyond 64 bits, say) is written by
    the standard library, the same text, slower."""
    try:
        return orjson.dumps(value, default=_exact, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return _written(value)


def _exact(value: Any) -> orjson.Fragment:
    if isinstance(value, Decimal) and value.is_finite():
        return orjson.Fragment(format(value, "f"))
    raise TypeError(f"{type(value).__name__} {value!r} is not for orjson")


def _written(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a number JSON can write")
        return format(value, "f")
    if isinstance(value, dict):
        members = (
            f"{json.dumps(str(k), ensure_ascii=False)}:{_written(v)}" for k, v in value.items()
        )
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_written(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def copied(value: J) -> J:
    """A deep copy of a JSON value (dicts, lists and tuples of immutable leaves): what
    ``copy.deepcopy`` does to one, at a fraction of its cost, since it keeps no memo."""
    return cast(J, _copy(value))


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_copy(item) for item in value)
    return value  # str, int, Decimal, bool, None: shared safely
