"""The shared base of every message: frozen, strict about unknown fields, JSON on the wire."""

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A value on the wire: immutable, and unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
