"""The HTTP API: commands in, problems or results out; public reads of the tender list.

Writes need a bearer token; reads are public. Errors are RFC 9457 problem documents.
"""

import json
import os
from collections.abc import AsyncIterator, Mapping, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.telemetry import TelemetryConfig
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters import platform_key
from adapters.document_store import document_store
from adapters.postgres.database import connect_pool
from adapters.postgres.sealed_shares import SealedShares
from adapters.settings import Settings
from app.auction_intake import AuctionPrices
from app.bid_intake import BidIntake
from app.command_bus import CommandBus
from app.handlers import Outcome
from app.opening import OpeningCeremony
from entrypoints.http import api_docs, database_down, ocds_extensions
from entrypoints.http.auth import ActorDep, IdempotencyKey
from entrypoints.http.command_routes import command_of, lean_command_route
from entrypoints.http.guard import HttpGuard
from entrypoints.http.page_cache import PageCache
from entrypoints.http.problems import PROBLEM, problems
from entrypoints.http.public_url import public_url
from entrypoints.http.routes import auction as auction_api
from entrypoints.http.routes import award_evidence as award_evidence_api
from entrypoints.http.routes import bid_log_heads as bid_log_heads_api
from entrypoints.http.routes import bids as bids_api
from entrypoints.http.routes import catalogue as catalogue_api
from entrypoints.http.routes import claims as claims_api
from entrypoints.http.routes import conditions_complaints as conditions_complaints_api
from entrypoints.http.routes import contracts as contracts_api
from entrypoints.http.routes import documents as documents_api
from entrypoints.http.routes import enquiries as enquiries_api
from entrypoints.http.routes import evaluation as evaluation_api
from entrypoints.http.routes import health as health_api
from entrypoints.http.routes import inbox as inbox_api
from entrypoints.http.routes import ocds as ocds_api
from entrypoints.http.routes import operations as operations_api
from entrypoints.http.routes import savings as savings_api
from entrypoints.http.routes import tokens as tokens_api
from entrypoints.http.routes import transparency as transparency_api
from entrypoints.http.routes.auction_live import LiveViews
from entrypoints.portal import pages
from procurement.errors import NotFound, Rejected
from readmodels import reads
from readmodels.officers import PublicOfficer, public_officer
from schemas.commands import (
    AmendTender,
    Cancellation,
    CancelTender,
    PublishTender,
    RegisterAgency,
    RegisterOfficer,
    TenderAmendment,
)
from schemas.values import Identifier

MAX_PAGE = 200
# Public reads answer with the JSON text the read models hold, unparsed.
_JSON_OBJECT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {"schema": {"type": "object"}}}}
}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": f"urn:procurement:problem:{code}", "title": title, "status": status}
    return JSONResponse(body | {"detail": detail, "code": code} | extra, status, media_type=PROBLEM)


def create_api(settings: Settings, database_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await connect_pool(database_url, min_size=2, max_size=10)
        app.state.pool = pool
        app.state.handler = CommandBus(pool, settings)
        app.state.documents = document_store(settings.document_store, pool)
        app.state.document_limit = settings.http.max_document_bytes
        app.state.rules = settings.rules
        app.state.platform_key = platform_key.load_or_create(settings.receipt_key_file)
        app.state.tsa_url = settings.tsa_url
        app.state.bids = BidIntake(pool, app.state.platform_key)
        app.state.opening = OpeningCeremony(pool, SealedShares.of(app.state.platform_key))
        app.state.auctions_live = LiveViews(pool)
        app.state.tender_pages = PageCache(pool)
        app.state.auction_prices = AuctionPrices(
            pool,
            app.state.handler.auctions,
            app.state.handler.clock,
            on_recorded=app.state.auctions_live.publish,
        )
        yield
        await app.state.tender_pages.close()
        await app.state.auctions_live.close()
        await pool.close()

    app = FastAPI(
        title="Procurement platform",
        summary="Public tenders, sealed bids and open contracting data",
        version="0.1.0",
        lifespan=lifespan,
        # Any route may refuse; each refusal is a problem document.
        responses=problems(400, 401, 403, 404, 409, 422),
        docs_url=None,  # served from the installed Swagger UI package, below
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        telemetry=_telemetry(os.environ),
    )
    _add_error_handlers(app)
    _add_routes(app)
    api_docs.add_docs(app)
    app.add_middleware(HttpGuard, limits=settings.http)
    return app


def _telemetry(environment: Mapping[str, str]) -> TelemetryConfig:
    """FastAPI's OpenTelemetry spans and metrics where the environment configures
    OpenTelemetry (an ``OTEL_`` variable); otherwise off, since with no provider they
    record nothing, and looking for one on every request cost 30 µs of each.

    Whoever reads the traces must not read what only a party may: a private feed's secret
    is its path, which a span records, so those requests are left out; and FastAPI's logs
    of refused requests carry their input (a committee member's malformed hand-in, say),
    so they stay off."""
    wanted = any(name.startswith("OTEL_") for name in environment)
    return {
        "tracing": wanted,
        "metrics": wanted,
        "logs": False,
        "operation_spans": wanted,
        "exclude": _holds_a_secret,
    }


def _holds_a_secret(scope: MutableMapping[str, Any]) -> bool:
    """Whether the request's path is a secret: a private feed link."""
    return "/inbox/feeds/" in str(scope.get("path", ""))


def _add_error_handlers(app: FastAPI) -> None:
    database_down.add_handlers(app)

    @app.exception_handler(Rejected)
    async def rejected(_: Request, error: Rejected) -> JSONResponse:
        title = {403: "Forbidden", 404: "Not found", 409: "Conflict"}.get(error.status, "Refused")
        return problem(error.status, error.code, title, error.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(part) for part in e["loc"]), "message": e["msg"]}
            for e in error.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "invalid_request", "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad_request", 401: "unauthenticated", 404: "not_found"}.get(
            error.status_code, "http_error"
        )
        response = problem(error.status_code, code, str(error.detail), str(error.detail))
        response.headers.update(error.headers or {})
        return response


def _answer(outcome: Outcome, status: int = 201) -> JSONResponse:
    return JSONResponse(outcome.response() | {"replayed": outcome.replayed}, status)


def _add_routes(app: FastAPI) -> None:
    # A request is matched against the routes in order, and an included router takes tens
    # of microseconds to pass: the most read public pages come first.
    _add_public_reads(app)
    app.include_router(ocds_api.router)
    app.include_router(pages.router)

    app.include_router(health_api.router)

    @app.get("/me", tags=["parties"])
    async def who_am_i(actor: ActorDep) -> dict[str, Any]:
        """Who the bearer token says you are."""
        return actor.model_dump(mode="json")

    @app.post("/agencies", status_code=201, tags=["parties"])
    async def register_agency(
        request: Request,
        body: RegisterAgency,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        """Register a contracting authority (the platform operator only)."""
        return _answer(await request.app.state.handler.dispatch(body, actor, idempotency_key))

    @app.get("/agencies", tags=["parties"])
    async def list_agencies(request: Request) -> list[dict[str, Any]]:
        """The registered contracting authorities, by name."""
        return await reads.agencies(request.app.state.pool)

    @app.post("/officers", status_code=201, tags=["parties"])
    async def register_officer(
        request: Request,
        body: RegisterOfficer,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        """Add an officer or reviewer to an agency (the operator or the agency's administrator),
        or an agency's administrator (the operator); the answer holds its token, once."""
        return _answer(await request.app.state.handler.dispatch(body, actor, idempotency_key))

    @app.get("/officers/{officer_id}", tags=["parties"], response_model=PublicOfficer)
    async def officer(
        request: Request,
        officer_id: Annotated[str, Path(max_length=100, pattern=r"^[A-Za-z0-9][\w.:-]*$")],
    ) -> PublicOfficer:
        """An officer's public identity: name, agency and who registered it, so that anyone
        can see who sits on a committee."""
        found = await public_officer(request.app.state.pool, officer_id)
        if found is None:
            raise NotFound(f"no officer {officer_id}")
        return found

    @app.post("/tenders", status_code=201, tags=["tenders"])
    async def publish_tender(
        request: Request,
        body: PublishTender,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        """Publish a tender for the officer's own agency."""
        return _answer(await request.app.state.handler.dispatch(body, actor, idempotency_key))

    # The same answers, taken before the route above, which describes them.
    app.router.routes.insert(0, lean_command_route("/tenders", PublishTender))

    @app.patch("/tenders/{ocid}", tags=["tenders"])
    async def amend_tender(
        request: Request,
        ocid: str,
        body: TenderAmendment,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        """Amend a tender before its deadline; significant changes extend the deadline."""
        command = command_of(AmendTender, body.model_dump(exclude_none=True) | {"ocid": ocid})
        return _answer(
            await request.app.state.handler.dispatch(command, actor, idempotency_key), 200
        )

    @app.post("/tenders/{ocid}/cancellation", tags=["tenders"])
    async def cancel_tender(
        request: Request,
        ocid: str,
        body: Cancellation,
        actor: ActorDep,
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        """Cancel a tender, with the reason the public will read."""
        command = command_of(CancelTender, {"ocid": ocid, "reason": body.reason})
        return _answer(
            await request.app.state.handler.dispatch(command, actor, idempotency_key), 200
        )

    app.include_router(documents_api.router)
    app.include_router(enquiries_api.router)
    app.include_router(bids_api.router)
    app.router.routes[:0] = bids_api.LEAN_ROUTES  # before the routes that describe them
    app.include_router(bid_log_heads_api.router)
    app.include_router(evaluation_api.router)
    app.include_router(conditions_complaints_api.router)
    app.include_router(auction_api.router)
    app.include_router(contracts_api.router)
    app.include_router(catalogue_api.router)
    app.include_router(savings_api.router)
    app.include_router(tokens_api.router)
    app.include_router(ocds_extensions.router)
    app.include_router(operations_api.router)
    app.include_router(claims_api.router)
    app.include_router(award_evidence_api.router)
    app.include_router(transparency_api.router)
    app.include_router(inbox_api.router)


def _add_public_reads(app: FastAPI) -> None:
    @app.get("/tenders", tags=["public"], response_class=Response, responses=_JSON_OBJECT)
    async def list_tenders(
        request: Request,
        status: Annotated[
            str | None, Query(pattern="^(active|closed|cancelled|unsuccessful)$")
        ] = None,
        buyer: Identifier | None = None,
        cpv: Annotated[str | None, Query(pattern=r"^\d{2,8}(-\d)?$")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, Query(max_length=500)] = None,
    ) -> Response:
        """Published tenders, newest first. Filter by status, buyer id or CPV code (a full code
        like 30197630-1, or a prefix like 30 for a whole division); follow ``next`` for more."""
        where = reads.TenderFilter(status=status, buyer=buyer, cpv=cpv)
        # Only what was validated names the page: junk parameters neither make a new page
        # to keep nor reach the links in it.
        asked: dict[str, Any] = {"status": status, "buyer": buyer, "cpv": cpv, "cursor": cursor}
        asked |= {"limit": limit} if limit != 50 else {}
        url = request.url.replace_query_params(**{k: v for k, v in asked.items() if v is not None})

        async def read() -> bytes:
            try:
                page = await reads.tender_texts(request.app.state.pool, where, limit, cursor)
            except reads.BadCursor as error:
                raise HTTPException(400, str(error)) from error
            following = None
            if page.next_cursor is not None:
                following = public_url(request, url.include_query_params(cursor=page.next_cursor))
            body = f'{{"items": [{", ".join(page.items)}], "next": {json.dumps(following)}}}'
            return body.encode()

        body = await request.app.state.tender_pages.page(str(url), read)
        return Response(body, media_type="application/json")

    @app.get("/tenders/{ocid}", tags=["public"], response_class=Response, responses=_JSON_OBJECT)
    async def read_tender(request: Request, ocid: Identifier) -> Response:
        """One published tender as the public sees it, with its amendments."""
        tender = await reads.tender_text(request.app.state.pool, ocid)
        if tender is None:
            raise HTTPException(404, f"there is no published tender {ocid}")
        return Response(tender, media_type="application/json")
