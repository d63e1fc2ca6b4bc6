"""Secrets in the settings: Kafka TLS and SASL read once for the platform's aiokafka clients and
for faust, passwords and tokens from container secret files, and a clear refusal of settings
that cannot work or would leak a password."""

import ssl
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

from adapters.kafka.kafka_transport import credentials
from adapters.kafka.security import KafkaSecurity, KafkaSecurityError
from adapters.settings import Settings

SCRAM = {
    "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
    "KAFKA_SASL_USERNAME": "worker",
    "KAFKA_SASL_PASSWORD": "s3cret-worker",
}


def test_the_default_is_plaintext_for_the_embedded_broker() -> None:
    security = Settings.from_env({}).kafka_security
    assert security.client_options() == {"security_protocol": "PLAINTEXT"}
    assert credentials(security) is None


def test_scram_over_tls_verifies_the_brokers_certificates() -> None:
    options = KafkaSecurity.from_env(SCRAM).client_options()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "worker",
        "s3cret-worker",
    )
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname


def test_faust_gets_the_same_settings_as_the_platforms_own_clients() -> None:
    security = KafkaSecurity.from_env(SCRAM)
    theirs = dict(credentials_to_aiokafka_auth(credentials(security)))
    ours = security.client_options()
    assert theirs.keys() == ours.keys()
    assert {k: v for k, v in theirs.items() if k != "ssl_context"} == {
        k: v for k, v in ours.items() if k != "ssl_context"
    }
    assert theirs["ssl_context"].verify_mode is ssl.CERT_REQUIRED


def test_the_password_can_come_from_a_secret_file_and_never_shows(tmp_path: Path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text("from-a-secret\n")
    env = {k: v for k, v in SCRAM.items() if k != "KAFKA_SASL_PASSWORD"}
    security = KafkaSecurity.from_env({**env, "KAFKA_SASL_PASSWORD_FILE": str(secret)})
    assert security.password == "from-a-secret"
    assert "from-a-secret" not in repr(security)
    assert "from-a-secret" not in repr(Settings.from_env({**env, "KAFKA_SASL_PASSWORD": "x"}))


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "use one of PLAINTEXT, SSL"),
        ({**SCRAM, "KAFKA_SASL_MECHANISM": "GSSAPI"}, "KAFKA_SASL_MECHANISM is 'GSSAPI'"),
        ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_USERNAME"),
        (
            {**SCRAM, "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "PLAIN"},
            "password in the clear",
        ),
        ({**SCRAM, "KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "is not a readable file"),
        ({**SCRAM, "KAFKA_SASL_PASSWORD_FILE": "/nonexistent/secret"}, "KAFKA_SASL_PASSWORD_FILE"),
    ],
)
def test_settings_that_cannot_work_are_refused_with_what_to_set(
    env: dict[str, str], says: str
) -> None:
    with pytest.raises(KafkaSecurityError, match=says):
        KafkaSecurity.from_env(env)


async def test_aiokafka_accepts_the_options() -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers="kafka-1:9092", **KafkaSecurity.from_env(SCRAM).client_options()
    )
    assert producer.client._security_protocol == "SASL_SSL"
    assert producer.client._sasl_mechanism == "SCRAM-SHA-512"
    await producer.stop()  # never started: nothing to close but its own bookkeeping


def test_the_database_password_can_come_from_a_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "postgres-api-password"
    secret.write_text("p@ss/word:1\n")
    url = "postgresql://procurement_api@postgres:5432/procurement?sslmode=require"
    settings = Settings.from_env({"DATABASE_URL": url, "DATABASE_PASSWORD_FILE": str(secret)})
    assert settings.database_url == (
        "postgresql://procurement_api:p%40ss%2Fword%3A1@postgres:5432/procurement?sslmode=require"
    )
    with pytest.raises(ValueError, match="needs a user name"):
        Settings.from_env(
            {"DATABASE_URL": "postgresql://postgres/x", "DATABASE_PASSWORD_FILE": str(secret)}
        )


def test_the_operator_token_can_come_from_a_secret_file(tmp_path: Path) -> None:
    secret = tmp_path / "admin_token"
    secret.write_text("0123abcd\n")
    env = {"PROCUREMENT_ADMIN_TOKEN_FILE": str(secret)}
    assert Settings.from_env(env).admin_token == "0123abcd"
    with pytest.raises(ValueError, match="not both"):
        Settings.from_env({**env, "PROCUREMENT_ADMIN_TOKEN": "other"})
    assert Settings.from_env({}).admin_token is None
