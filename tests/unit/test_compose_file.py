"""docker/compose.yaml against the Compose specification's JSON schema (vendored in
docker/compose-spec/, as the OCDS schema is), and against the deployment's own rules: TLS
at the proxy and to Kafka, a login of its own for each service, no operator token outside
the API, nothing but the proxy published to the host."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # untyped
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # untyped

DOCKER = Path(__file__).resolve().parents[2] / "docker"
PLATFORM = ("api", "worker")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return loaded


def test_it_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads((DOCKER / "compose-spec" / "compose-spec.json").read_text())
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in Draft202012Validator(schema).iter_errors(compose)
    ]
    assert errors == []


def test_the_schema_catches_a_broken_file(compose: dict[str, Any]) -> None:
    schema = json.loads((DOCKER / "compose-spec" / "compose-spec.json").read_text())
    broken = {**compose, "services": {**compose["services"], "api": {"ports": "8000"}}}
    assert list(Draft202012Validator(schema).iter_errors(broken))


def test_only_the_tls_proxy_is_published(compose: dict[str, Any]) -> None:
    services = compose["services"]
    published = sorted(name for name, service in services.items() if service.get("ports"))
    assert published == ["proxy"]
    assert services["proxy"]["image"].startswith("caddy:")
    assert "api" in (DOCKER / "caddy" / "Caddyfile").read_text()


def test_each_service_logs_in_as_itself(compose: dict[str, Any]) -> None:
    services = compose["services"]
    users = {}
    for name in PLATFORM:
        env = services[name]["environment"]
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert env["KAFKA_SASL_MECHANISM"].startswith("SCRAM-")
        assert "KAFKA_SASL_PASSWORD" not in env
        assert "KAFKA_SASL_PASSWORD_FILE" in env
        database_user = re.match(r"postgresql://([^:@]+)@", env["DATABASE_URL"])
        assert database_user, "the database password comes from a secret file, not the URL"
        users[name] = (env["KAFKA_SASL_USERNAME"], database_user.group(1))
        for secret_file in (env["KAFKA_SASL_PASSWORD_FILE"], env["DATABASE_PASSWORD_FILE"]):
            assert Path(secret_file).name in services[name]["secrets"]
    assert users["api"][0] != users["worker"][0]
    assert users["api"][1] != users["worker"][1]


def test_workers_hold_no_operator_token(compose: dict[str, Any]) -> None:
    worker = compose["services"]["worker"]
    assert not [name for name in worker["environment"] if "ADMIN_TOKEN" in name]
    assert "admin_token" not in worker["secrets"]


def test_every_secret_is_declared_and_made_by_the_script(compose: dict[str, Any]) -> None:
    declared = set(compose["secrets"])
    used = set()
    for service in compose["services"].values():
        used |= {s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])}
    assert used <= declared
    script = (DOCKER / "make-secrets.sh").read_text()
    for name, secret in compose["secrets"].items():
        assert secret["file"] == f"./secrets/{name}"
        made = name in script or re.sub(r"_\d+$", "_$node", name) in script
        assert made, f"make-secrets.sh does not make {name}"
