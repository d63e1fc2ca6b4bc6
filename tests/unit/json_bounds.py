"""The most bytes any valid value of a type can take as JSON, read from the type itself.

Each string counts 4 bytes a character: the widest UTF-8, and no character left after
``schemas.text`` takes more once escaped (a quote or a line break takes 2). Numbers count
their digits, lists their most items, models every field; ``schemas.bounds.MaxJsonBytes``
caps whatever it annotates. A type with no bound is infinitely large, so it shows.
"""

import dataclasses
import json
import math
import types
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from uuid import UUID

from pydantic import AwareDatetime, BaseModel
from pydantic.fields import FieldInfo

from schemas.bounds import MaxJsonBytes

UNBOUNDED = math.inf
BYTES_PER_CHAR = 4
LONGEST_INT = 4300  # digits: Python refuses to read a longer int from text
FIXED = {
    bool: len("false"),
    type(None): len("null"),
    datetime: len('"9999-12-31T23:59:59.999999+23:59"'),
    AwareDatetime: len('"9999-12-31T23:59:59.999999+23:59"'),
    date: len('"9999-12-31"'),
    UUID: len('"00000000-0000-0000-0000-000000000000"'),
}


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, FieldInfo):
            found |= _constraints(item.metadata)
        elif isinstance(item, MaxJsonBytes):
            found["max_json_bytes"] = item.limit
        elif dataclasses.is_dataclass(item):
            found |= {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
        elif hasattr(item, "__dict__"):  # pydantic's own metadata: max_digits, pattern...
            found |= {k: v for k, v in vars(item).items() if v is not None}
    return found


def _most(limits: dict[str, Any], key: str) -> float:
    most: float = limits.get(key, UNBOUNDED)
    return most


def json_bound(annotation: Any, metadata: list[Any] | None = None) -> float:
    """An upper bound on the JSON bytes of any valid value of ``annotation``."""
    metadata = list(metadata or [])
    while get_origin(annotation) is Annotated:
        annotation, *more = get_args(annotation)
        metadata = [*more, *metadata]
    limits = _constraints(metadata)
    bound = _bound(annotation, limits)
    return min(bound, _most(limits, "max_json_bytes"))


def _bound(annotation: Any, limits: dict[str, Any]) -> float:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return max(json_bound(arg) for arg in args)
    if origin is Literal:
        return max(len(json.dumps(arg)) for arg in args)
    if origin in (list, tuple, frozenset, set):
        return _sequence(args, limits)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_bound(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return max(len(json.dumps(member.value)) for member in annotation)
    if annotation in FIXED:
        return FIXED[annotation]
    return _scalar(annotation, limits)


def _sequence(args: tuple[Any, ...], limits: dict[str, Any]) -> float:
    if (len(args) == 2 and args[1] is Ellipsis) or len(args) == 1:
        return 2 + _most(limits, "max_length") * (json_bound(args[0]) + 1)
    return 2 + sum(json_bound(arg) + 1 for arg in args)  # a fixed-length tuple


def _scalar(annotation: Any, limits: dict[str, Any]) -> float:
    if annotation is str:
        return 2 + BYTES_PER_CHAR * _most(limits, "max_length")
    if annotation is bytes:  # as base64
        return 2 + 4 / 3 * _most(limits, "max_length") + 4
    if annotation is int:
        ends = [limits[k] for k in ("ge", "gt", "le", "lt") if k in limits]
        if {"ge", "gt"}.isdisjoint(limits) or {"le", "lt"}.isdisjoint(limits):
            return LONGEST_INT + 1
        return max(len(str(end)) for end in ends)
    if annotation is Decimal:  # a string: sign, digits, point, exponent
        return 2 + _most(limits, "max_digits") + len("-.E+99")
    msg = f"no JSON bound known for {annotation!r}: teach json_bounds about it"
    raise TypeError(msg)


def model_bound(model: type[BaseModel]) -> float:
    """The bound of ``model``'s JSON: braces, and each field's name, colon, value and comma."""
    fields = (
        len(json.dumps(name)) + 1 + json_bound(field.annotation, field.metadata) + 1
        for name, field in model.model_fields.items()
    )
    budget: MaxJsonBytes | None = getattr(model, "json_budget", None)
    return min(2 + sum(fields), budget.limit if budget else UNBOUNDED)
