"""HTTP routes for sealed bids: suppliers and committee keys, the tender's committee,
submission and withdrawal, the bid log's proofs, and the opening ceremony.

Before the opening nobody, the buyer's officers included, can read a bid through any route:
no key that opens one exists until k committee members hand in their shares. Afterwards the committee reads them all, each bidder
its own.
"""

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.routing import Route

from adapters.postgres import bid_logs
from app.bid_intake import Answer
from bidding import committee_material, keys, merkle
from bidding import log as bid_log
from bidding.log import LogStatus
from entrypoints.http.auth import ActorDep, IdempotencyKey, OptionalActorDep, bearer
from entrypoints.http.command_routes import command_of, json_body
from entrypoints.http.problems import problems
from entrypoints.http.routes import claims as claims_api
from procurement.errors import NotFound, Rejected, WrongState
from schemas import bid_answers
from schemas.bids import MAX_SEALED_BYTES, BidWithdrawal, SealedBid
from schemas.commands import (
    Actor,
    CommitteeKeys,
    RegisterCommitteeKeys,
    RegisterSupplier,
    Role,
)
from schemas.committee import (
    MAX_HANDED_SHARES,
    CommitteeConfirmation,
    CommitteeNomination,
    CommitteeView,
    ConfirmCommittee,
    MySealedShares,
    NameCommittee,
    OpeningShares,
)
from schemas.reconfirmations import BidReconfirmation, ReconfirmationTaken, ReconfirmBid

router = APIRouter()

# base64 of the largest ciphertext, and JSON with 20 sealed key shares
MAX_BODY = MAX_SEALED_BYTES * 4 // 3 + 64 * 1024
# A hand-in at the opening: one share per current bid, about 170 bytes each (a bid id of up
# to 100 characters makes 256), so megabytes for a tender with thousands of bids. The guard
# allows it to officers only, and none other may hand in.
HAND_IN_MAX_BODY = MAX_HANDED_SHARES * 256 + 64 * 1024


class TooLarge(Rejected):
    status = 413
    code = "too_large"


async def _limited_json(request: Request, model: type[SealedBid] | type[BidWithdrawal]) -> Any:
    """Read at most MAX_BODY bytes, whatever the request claims, then validate."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise TooLarge(f"the request is {declared} bytes; a sealed bid may be at most {MAX_BODY}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise TooLarge(f"the request is over {MAX_BODY} bytes, the most a sealed bid may be")
    try:
        return model.model_validate_json(bytes(body))
    except ValidationError as error:
        raise _invalid(error) from error


def _invalid(error: ValidationError) -> Rejected:
    detail = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in error.errors()
    )
    return Rejected(detail, code="invalid_request")


def _same_tender(ocid: str, named: str) -> None:
    if ocid != named:
        raise Rejected(f"the body names tender {named} but was sent to {ocid}", code="wrong_tender")


def _receipt(answer: Answer) -> JSONResponse:
    body = answer.receipt.model_dump(mode="json") | {"replayed": answer.replayed}
    return JSONResponse(body, 200 if answer.replayed else 201)


def _answers(model: type[BaseModel], description: str) -> dict[int | str, dict[str, Any]]:
    """The route's 200 answer in OpenAPI: the routes build their JSON themselves, so the
    model describes it and FastAPI does not re-serialize it."""
    return {200: {"model": model, "description": description}}


# A bid or withdrawal: its signed receipt (201), or its first receipt when sent again (200).
_BID_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": bid_answers.BidReceipt, "description": "The signed receipt"},
    200: {
        "model": bid_answers.BidReceipt,
        "description": "The same request again: its first receipt",
    },
    **problems(413),
}


def _body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The request body in OpenAPI for a route that reads it itself: its nested models
    inlined, since no other route may put them among the components."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})

    def inlined(node: Any) -> Any:
        if isinstance(node, list):
            return [inlined(item) for item in node]
        if not isinstance(node, dict):
            return node
        name = str(node.get("$ref", "")).removeprefix("#/components/schemas/")
        if name in definitions:
            node = definitions[name] | {k: v for k, v in node.items() if k != "$ref"}
        return {key: inlined(value) for key, value in node.items()}

    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inlined(schema)}},
        },
    }


# Parties and their public keys


@router.post("/suppliers", status_code=201, tags=["parties"], responses=claims_api.CLAIM_RESPONSE)
async def register_supplier(
    request: Request, body: RegisterSupplier, key: IdempotencyKey = None
) -> JSONResponse:
    """Register an economic operator with its Ed25519 public key; the answer holds its
    bearer token, once. ``proof`` is the key's signature over the registration."""
    registrant = Actor(id="registrant", role=Role.SUPPLIER)
    outcome = await request.app.state.handler.dispatch(body, registrant, key)
    if any(item.type == "RegistrationClaimed" for item in outcome.events):
        return claims_api.claim_answer(outcome)
    return JSONResponse(outcome.response() | {"replayed": outcome.replayed}, 201)


@router.post("/officers/me/committee-keys", status_code=201, tags=["parties"])
async def register_committee_keys(
    request: Request, body: CommitteeKeys, actor: ActorDep, key: IdempotencyKey = None
) -> JSONResponse:
    """An officer's X25519 encryption key and Ed25519 signing key, for committee work."""
    command = RegisterCommitteeKeys(officer_id=actor.id, **body.model_dump())
    outcome = await request.app.state.handler.dispatch(command, actor, key)
    return JSONResponse(outcome.response() | {"replayed": outcome.replayed}, 201)


@router.get(
    "/officers/{officer_id}/committee-keys",
    tags=["parties"],
    response_model=None,
    responses=_answers(bid_answers.OfficerCommitteeKeys, "The officer's public committee keys"),
)
async def committee_keys(request: Request, officer_id: str) -> dict[str, Any]:
    """An officer's public committee keys, to seal a share of an opening key to."""
    row = await request.app.state.pool.fetchrow(
        "SELECT agency_id, signing_key, encryption_key FROM party_keys"
        " WHERE party_id = $1 AND role = 'officer'",
        officer_id,
    )
    if row is None:
        raise NotFound(f"{officer_id} has no committee keys")
    return {
        "officer_id": officer_id,
        "agency_id": row["agency_id"],
        "encryption_key": _b64(row["encryption_key"]),
        "signing_key": _b64(row["signing_key"]),
    }


@router.get(
    "/platform/keys",
    tags=["bids"],
    response_model=None,
    responses=_answers(bid_answers.PlatformKeys, "The platform's public keys"),
)
async def platform_keys(request: Request) -> dict[str, Any]:
    """The public key that signs receipts, to check them offline."""
    public = keys.raw_public(request.app.state.platform_key)
    return {
        "receipt_keys": [
            {"key_id": keys.key_id(public), "algorithm": "Ed25519", "public_key": _b64(public)}
        ]
    }


# The committee


@router.post("/tenders/{ocid}/committee", status_code=201, tags=["bids"])
async def name_committee(
    request: Request,
    ocid: str,
    body: CommitteeNomination,
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Name the tender's committee: its members, how many must act together, the suite.
    Bids are taken once ``threshold`` members confirmed the key material."""
    command = command_of(NameCommittee, body.model_dump() | {"ocid": ocid})
    outcome = await request.app.state.handler.dispatch(command, actor, key)
    return JSONResponse(outcome.response() | {"replayed": outcome.replayed}, 201)


@router.get(
    "/tenders/{ocid}/committee",
    tags=["bids"],
    response_model=None,
    responses=_answers(CommitteeView, "The tender's committee, its keys and confirmations"),
)
async def committee(request: Request, ocid: str) -> dict[str, Any]:
    """The committee's key material and its members' confirmations: check them (against
    the key log) before sealing a bid to them."""
    _, row = await _bid_log(request, ocid)
    recorded = bid_logs.committee_of(row["committee"])
    return committee_material.public_view(recorded.material, recorded.confirmations)


@router.post("/tenders/{ocid}/committee/confirmations", status_code=201, tags=["bids"])
async def confirm_committee(
    request: Request,
    ocid: str,
    body: CommitteeConfirmation,
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """A member's signature over the key material, once it checked its own keys and the
    others' against the key log."""
    command = command_of(ConfirmCommittee, {"ocid": ocid, "confirmation": body.model_dump()})
    outcome = await request.app.state.handler.dispatch(command, actor, key)
    return JSONResponse(outcome.response() | {"replayed": outcome.replayed}, 201)


# Bids


@router.post(
    "/tenders/{ocid}/bids",
    status_code=201,
    tags=["bids"],
    responses=_BID_RESPONSES,
    openapi_extra=_body_schema(SealedBid),
)
async def submit_bid(request: Request, ocid: str, actor: ActorDep) -> JSONResponse:
    """Submit a sealed bid (or a higher version replacing it) before the deadline; the
    answer is the platform's signed receipt. The same bid sent again gets the same receipt."""
    return await _submitted(request, ocid, actor)


async def _submitted(request: Request, ocid: str, actor: Actor) -> JSONResponse:
    bid = await _limited_json(request, SealedBid)
    _same_tender(ocid, bid.ocid)
    return _receipt(await request.app.state.bids.submit(bid, actor))


async def _submit_bid_lean(request: Request) -> JSONResponse:
    return await _submitted(request, request.path_params["ocid"], await bearer(request))


# ``submit_bid`` answered without resolving FastAPI's dependencies, for the busiest route
# of a bidding day; placed before it, it takes its requests, and ``submit_bid`` stays to
# describe it in OpenAPI.
LEAN_ROUTES = [Route("/tenders/{ocid}/bids", _submit_bid_lean, methods=["POST"])]


@router.post(
    "/tenders/{ocid}/bids/withdrawal",
    status_code=201,
    tags=["bids"],
    responses=_BID_RESPONSES,
    openapi_extra=_body_schema(BidWithdrawal),
)
async def withdraw_bid(request: Request, ocid: str, actor: ActorDep) -> JSONResponse:
    """Withdraw the bidder's bid before the deadline; the withdrawal gets a receipt too."""
    withdrawal = await _limited_json(request, BidWithdrawal)
    _same_tender(ocid, withdrawal.ocid)
    return _receipt(await request.app.state.bids.withdraw(withdrawal, actor))


@router.post(
    "/tenders/{ocid}/bids/reconfirmations",
    status_code=201,
    tags=["bids"],
    response_model=None,
    responses={201: {"model": ReconfirmationTaken, "description": "The bid stands"}},
)
async def reconfirm_bid(
    request: Request,
    ocid: str,
    body: BidReconfirmation,
    actor: ActorDep,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Reconfirm the bidder's current bid after a significant amendment, signed, before the
    deadline: a bid sent before the requirements changed is opened only if reconfirmed (or
    replaced by a new version). ``GET /tenders/{ocid}/bids`` shows what to reconfirm."""
    command = command_of(ReconfirmBid, {"ocid": ocid, "reconfirmation": body.model_dump()})
    _same_tender(ocid, body.ocid)
    outcome = await request.app.state.handler.dispatch(command, actor, key)
    # Not the log's sequence numbers: they would tell a bidder how many entries it holds.
    answer = body.model_dump(include={"ocid", "bidder_id", "bid_id", "requirements_sha256"})
    return JSONResponse(answer | {"replayed": outcome.replayed}, 201)


# The counts of a bid log (docs/sealed-bids.md, "The counts"); a bidder's latest entry is
# the one the opening reads (bidding.opening.current_bids).
_COUNTS = """
SELECT count(*) AS entries, count(DISTINCT bidder_id) AS bidders,
       (SELECT count(*) FROM (SELECT DISTINCT ON (bidder_id) kind FROM bid_entries
                              WHERE ocid = $1 ORDER BY bidder_id, log_index DESC) latest
        WHERE kind = 'bid') AS current
FROM bid_entries WHERE ocid = $1
"""
_UNCOUNTED = {"entries": None, "bidders": None, "current": None}


@router.get(
    "/tenders/{ocid}/bids",
    tags=["bids"],
    response_model=None,
    responses=_answers(
        bid_answers.BidsOfTender, "Counts, commitments, and what the caller may see"
    ),
)
async def bids(request: Request, ocid: str, actor: OptionalActorDep) -> dict[str, Any]:
    """What the caller may see of the bids: counts (from the seal) and commitments for
    everyone; a bidder's own receipts; after the opening, the committee sees every bid."""
    log, row = await _bid_log(request, ocid)
    pool = request.app.state.pool
    # Before the seal nobody learns how many bids there are (Directive 2014/24/EU Art. 22(3)).
    counts = await pool.fetchrow(_COUNTS, ocid) if row["root"] is not None else _UNCOUNTED
    answer: dict[str, Any] = {
        "ocid": ocid,
        "status": log.status.value,
        "deadline": log.deadline.isoformat(),
        "log_entries": counts["entries"],
        "bidders_with_entries": counts["bidders"],
        "current_bids": counts["current"],
        "bidders": counts["bidders"],  # deprecated: read bidders_with_entries
        "root": bytes(row["root"]).hex() if row["root"] is not None else None,
    }
    if actor is not None and actor.role is Role.SUPPLIER:
        answer["my_receipts"] = [
            r["receipt"]
            for r in await pool.fetch(
                "SELECT receipt FROM bid_entries WHERE ocid = $1 AND bidder_id = $2"
                " ORDER BY log_index",
                ocid,
                actor.id,
            )
        ]
        awaiting = await pool.fetchrow(
            "SELECT bid_id, version, awaits_requirements FROM bid_entries"
            " WHERE ocid = $1 AND bidder_id = $2 ORDER BY log_index DESC LIMIT 1",
            ocid,
            actor.id,
        )
        if awaiting is not None and awaiting["awaits_requirements"] is not None:
            answer["my_reconfirmation"] = {
                "bid_id": awaiting["bid_id"],
                "version": awaiting["version"],
                "requirements_sha256": awaiting["awaits_requirements"],
            }
    if log.status is LogStatus.OPENED and actor is not None:
        committee = actor.role is Role.OFFICER and actor.id in log.members
        reviewer = actor.role is Role.OFFICER and actor.agency_id == log.buyer_id
        if committee or reviewer or actor.role is Role.SUPPLIER:
            only = None if (committee or reviewer) else actor.id
            answer["opened"] = [
                dict(r)
                for r in await pool.fetch(
                    "SELECT bid_id, bidder_id, version, outcome, content, reason_code, reason"
                    " FROM opened_bids WHERE ocid = $1 AND ($2::text IS NULL OR bidder_id = $2)"
                    " ORDER BY bidder_id",
                    ocid,
                    only,
                )
            ]
    return answer


# The bid log: the tree head and proofs, for anyone


@router.get(
    "/tenders/{ocid}/bid-log",
    tags=["bids"],
    response_model=None,
    responses=_answers(bid_answers.BidLogTreeHead, "The tree head") | problems(409),
)
async def tree_head(
    request: Request, ocid: str, tree_size: Annotated[int | None, Query(ge=0)] = None
) -> dict[str, Any]:
    """The Merkle tree head of the sealed bid log, or of its first ``tree_size`` leaves."""
    leaves, root = await _sealed_leaves(request, ocid)
    size = len(leaves) if tree_size is None else _size(tree_size, len(leaves))
    return {
        "ocid": ocid,
        "tree_size": size,
        "root": merkle.root(leaves[:size]).hex(),
        "sealed": True,
        "sealed_root": root.hex(),
    }


@router.get(
    "/tenders/{ocid}/bid-log/inclusion",
    tags=["bids"],
    response_model=None,
    responses=_answers(bid_answers.BidLogInclusionProof, "The inclusion proof") | problems(409),
)
async def inclusion(
    request: Request,
    ocid: str,
    leaf_index: Annotated[int, Query(ge=0)],
    tree_size: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """The audit path proving that receipt ``leaf_index`` is in the tree of ``tree_size``
    (the sealed tree by default); a bidder finds its leaf among ``bid-log/leaves``."""
    leaves, _ = await _sealed_leaves(request, ocid)
    size = len(leaves) if tree_size is None else _size(tree_size, len(leaves))
    if leaf_index >= size:
        raise Rejected(f"leaf {leaf_index} is not in a tree of {size}", code="out_of_range")
    return {
        "ocid": ocid,
        "leaf_index": leaf_index,
        "tree_size": size,
        "root": merkle.root(leaves[:size]).hex(),
        "audit_path": [h.hex() for h in merkle.inclusion_proof(leaves[:size], leaf_index)],
    }


@router.get(
    "/tenders/{ocid}/bid-log/consistency",
    tags=["bids"],
    response_model=None,
    responses=_answers(bid_answers.BidLogConsistencyProof, "The consistency proof") | problems(409),
)
async def consistency(
    request: Request,
    ocid: str,
    first: Annotated[int, Query(ge=1)],
    second: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """The proof that the tree of size ``second`` (the sealed tree by default) extends the
    tree of size ``first``."""
    leaves, _ = await _sealed_leaves(request, ocid)
    size = len(leaves) if second is None else _size(second, len(leaves))
    if first > size:
        raise Rejected(f"first ({first}) must not exceed second ({size})", code="out_of_range")
    return {
        "ocid": ocid,
        "first": first,
        "second": size,
        "first_root": merkle.root(leaves[:first]).hex(),
        "second_root": merkle.root(leaves[:size]).hex(),
        "proof": [h.hex() for h in merkle.consistency_proof(leaves[:size], first)],
    }


# The opening


@router.get(
    "/tenders/{ocid}/opening/my-shares",
    tags=["bids"],
    response_model=None,
    responses=_answers(MySealedShares, "The member's share of every current bid, sealed"),
)
async def my_shares(request: Request, ocid: str, actor: ActorDep) -> dict[str, Any]:
    """A committee member's share of each current bid's key, still sealed to the member,
    once the bid log is sealed: decrypt them on your own machine."""
    log, _ = await _bid_log(request, ocid)
    shares = await request.app.state.opening.my_shares(ocid, actor)
    return {"ocid": ocid, "suite": log.committee.material.suite, "shares": shares}


@router.post(
    "/tenders/{ocid}/opening/shares",
    tags=["bids"],
    response_model=None,
    responses=_answers(bid_answers.OpeningShareTaken, "The shares were taken") | problems(413),
    openapi_extra=_body_schema(OpeningShares),
)
async def hand_in_shares(request: Request, ocid: str, actor: ActorDep) -> dict[str, Any]:
    """A committee member hands in its decrypted, signed shares of every current bid after
    the deadline. With the threshold reached, the bids are opened at once."""
    # One share per bid can be megabytes to parse: only a member of a sealed log's
    # committee gets that far (the hand-in checks it again, in its transaction).
    found = await bid_logs.read(request.app.state.pool, ocid)
    bid_log.may_hand_in(None if found is None else found[0], ocid, actor)
    body = await json_body(request, OpeningShares)
    result: dict[str, Any] = await request.app.state.opening.hand_in(ocid, body, actor)
    return result


def _b64(raw: bytes) -> str:
    return base64.b64encode(bytes(raw)).decode()


def _size(asked: int, available: int) -> int:
    if asked > available:
        raise Rejected(f"the log has {available} entries, fewer than {asked}", code="out_of_range")
    return asked


async def _sealed_leaves(request: Request, ocid: str) -> tuple[list[bytes], bytes]:
    """The sealed log's leaves and root. Before the seal the log's size would tell how many
    bids the tender has, so it is not served: the same refusal whether or not anyone bid."""
    _, row = await _bid_log(request, ocid)
    if row["root"] is None:
        msg = (
            f"the bid log of {ocid} is not sealed: its tree and proofs are public from the deadline"
        )
        raise WrongState(msg, code="bid_log_not_sealed")
    return await bid_logs.leaf_hashes(request.app.state.pool, ocid), bytes(row["root"])


async def _bid_log(request: Request, ocid: str) -> Any:
    found = await bid_logs.read(request.app.state.pool, ocid)
    if found is None:
        raise NotFound(f"tender {ocid} has no bid log: it does not exist or has no committee yet")
    return found
