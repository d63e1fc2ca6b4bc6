"""Liveness and readiness, for load balancers, orchestrators and people.

``/health/live``: the process answers (restart it if not). ``/health/ready``: it can do its
work now (send it traffic if so): a write commits, the relay and the projections keep up
within the deployment's limits (``Settings.readiness``). Dead letters do not make it unready
(each is set aside alone, every other event goes on): they are named under ``warnings``.
``/health``: the process answers and reaches its database, as it always has.
"""

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters import readiness
from entrypoints.http.problems import PROBLEM, Problem

router = APIRouter(tags=["platform"])

READY_FOR = 1.0  # seconds a readiness answer is reused: probes cannot hammer the database
RETRY_AFTER = "5"  # seconds, for a client told the platform is not ready

_WARNINGS = {
    "type": "object",
    "description": "What the operator should see to while the platform stays ready, by name"
    " (dead_letters, mail), with what to do",
    "additionalProperties": {"type": "string"},
}
_FIGURES = {
    name: {"type": "number"}
    for name in (
        "outbox_rows",
        "relay_lag_seconds",
        "projections_behind",
        "projection_lag_seconds",
        "unresolved_dead_letters",
        "forged_records",
        "mail_retrying",
        "mail_failed",
    )
}
_READINESS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Ready: the figures, and any warnings",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"status": {"const": "ready"}, "warnings": _WARNINGS} | _FIGURES,
                    "required": ["status", "warnings", *_FIGURES],
                }
            }
        },
    },
    503: {
        "description": "Not ready: the failing checks, by name, and the figures",
        "content": {PROBLEM: {"schema": Problem.model_json_schema()}},
    },
}


@router.get("/health")
async def health(request: Request) -> dict[str, str]:
    """The API answers and reaches its database (503 while the database is away)."""
    await request.app.state.pool.fetchval("SELECT 1")
    return {"status": "ok"}


@router.get("/health/live")
async def live() -> dict[str, str]:
    """The API process answers; nothing else is checked."""
    return {"status": "alive"}


@router.get("/health/ready", responses=_READINESS)
async def ready(request: Request) -> JSONResponse:
    """Ready for traffic: a write commits, the relay's and the projections' lag are under
    their limits; with the figures, and warnings (the dead letters nobody has resolved)."""
    state = request.app.state
    cached: tuple[float, JSONResponse] | None = getattr(state, "readiness", None)
    if cached is not None and time.monotonic() - cached[0] < READY_FOR:
        return cached[1]
    limits: readiness.Limits = state.handler.settings.readiness
    answer = _judged(await readiness.measure(state.pool), limits)
    state.readiness = (time.monotonic(), answer)
    return answer


def _judged(figures: readiness.Figures, limits: readiness.Limits) -> JSONResponse:
    failing = readiness.failing(figures, limits)
    warnings = readiness.warnings(figures)
    if not failing:
        return JSONResponse({"status": "ready", "warnings": warnings} | figures.public())
    body = {
        "type": "urn:procurement:problem:not_ready",
        "title": "Not ready",
        "status": 503,
        "detail": "; ".join(f"{name}: {why}" for name, why in failing.items()),
        "code": "not_ready",
        "failing": failing,
        "warnings": warnings,
        "figures": figures.public(),
    }
    return JSONResponse(body, 503, headers={"Retry-After": RETRY_AFTER}, media_type=PROBLEM)
