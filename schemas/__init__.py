"""The contract of the platform: every command and event, as pydantic models."""
