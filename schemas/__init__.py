"""The contract of the platform: every command and event, as pydantic models."""

from schemas.bounds import MAX_EVENT_BYTES as MAX_EVENT_BYTES  # the relay's record budget
