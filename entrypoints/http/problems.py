"""The problem documents (RFC 9457) the API answers with when it refuses, as the OpenAPI
description declares them, so clients and schema checks know their shape."""

from typing import Any

from pydantic import BaseModel, ConfigDict

PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """What went wrong, for people (``title``, ``detail``) and programs (``code``)."""

    model_config = ConfigDict(extra="allow")  # a refusal may add facts of its own

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, str]] | None = None  # an invalid request: each field and what is wrong


_MEANING = {
    400: "The request is malformed",
    401: "No bearer token, or one that is not valid",
    403: "The caller may not do this",
    404: "There is no such resource",
    409: "The resource is not in a state that allows this",
    413: "The request is larger than allowed",
    422: "The request is invalid, or the rules refuse it",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` declaring a problem document for each status."""
    schema = Problem.model_json_schema()
    return {
        status: {"description": _MEANING[status], "content": {PROBLEM: {"schema": schema}}}
        for status in statuses
    }
