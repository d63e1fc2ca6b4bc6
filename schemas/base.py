"""The shared base of every message: frozen, strict about unknown fields, JSON on the wire."""

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A value on the wire: immutable, and unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Event(Message):
    """A fact in the past tense; ``schema_version`` is the shape its type is written at."""

    schema_version: ClassVar[int] = 1
