"""The OpenAPI description declares, field by field, what the sealed-bid, proof and
platform-key routes answer, so that a verifier can be written from it alone."""

from typing import Any

import pytest

from adapters.settings import Settings
from entrypoints.http.app import create_api

# The routes whose answers a verifier reads, and the fields each answer must declare.
DECLARED = {
    ("get", "/platform/keys", "200"): {"receipt_keys"},
    ("get", "/officers/{officer_id}/committee-keys", "200"): {"encryption_key", "signing_key"},
    ("get", "/tenders/{ocid}/committee", "200"): {"material", "material_sha256", "confirmations"},
    ("get", "/tenders/{ocid}/opening/my-shares", "200"): {"suite", "shares"},
    ("get", "/tenders/{ocid}/bids", "200"): {"log_entries", "bidders_with_entries", "current_bids"},
    ("get", "/tenders/{ocid}/bid-log", "200"): {"tree_size", "root", "sealed_root"},
    ("get", "/tenders/{ocid}/bid-log/inclusion", "200"): {"leaf_index", "audit_path"},
    ("get", "/tenders/{ocid}/bid-log/consistency", "200"): {"first_root", "proof"},
    ("post", "/tenders/{ocid}/bids", "201"): {"receipt", "signature", "replayed"},
    ("post", "/tenders/{ocid}/bids", "200"): {"receipt", "signature", "replayed"},
    ("post", "/tenders/{ocid}/bids/withdrawal", "201"): {"receipt", "signature"},
    ("post", "/tenders/{ocid}/bids/withdrawal", "200"): {"receipt", "signature"},
}


@pytest.fixture(scope="module")
def described() -> dict[str, Any]:
    return create_api(Settings(), "postgresql://unused").openapi()


def resolved(described: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = described["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def answer_schema(described: dict[str, Any], method: str, path: str, status: str) -> Any:
    response = described["paths"][path][method]["responses"].get(status, {})
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return resolved(described, schema)


@pytest.mark.parametrize(("method", "path", "status"), sorted(DECLARED))
def test_each_bid_and_proof_answer_declares_its_fields(
    described: dict[str, Any], method: str, path: str, status: str
) -> None:
    """Each answer is an object whose schema names its fields, not ``{"type": "object"}``."""
    schema = answer_schema(described, method, path, status)
    assert schema.get("type") == "object", schema
    assert DECLARED[method, path, status] <= set(schema.get("properties", {})), schema


def test_every_bid_log_route_and_the_receipt_inside_an_answer_declare_their_fields(
    described: dict[str, Any],
) -> None:
    """Every GET under /tenders/{ocid}/bid-log (proofs, leaves) declares a 2xx JSON object
    with properties; the receipt in a receipt answer declares the leaf's fields."""
    bid_log = [path for path in described["paths"] if path.startswith("/tenders/{ocid}/bid-log")]
    assert len(bid_log) >= 3
    for path in bid_log:
        statuses = [s for s in described["paths"][path]["get"]["responses"] if s.startswith("2")]
        assert statuses, path
        for status in statuses:
            assert answer_schema(described, "get", path, status).get("properties"), path
    receipt = answer_schema(described, "post", "/tenders/{ocid}/bids", "201")["properties"]
    leaf = resolved(described, receipt["receipt"])
    assert {
        "bid_id",
        "received_at",
        "log_index",
        "ciphertext_sha256",
        "material_sha256",
        "shares_sha256",
    } <= set(leaf["properties"])


def test_the_old_count_names_are_marked_deprecated(described: dict[str, Any]) -> None:
    """``bidders`` counts bidders with entries, under a name easy to misread: deprecated."""
    fields = answer_schema(described, "get", "/tenders/{ocid}/bids", "200")["properties"]
    assert fields["bidders"].get("deprecated") is True
    assert "deprecated" not in fields["bidders_with_entries"]
