"""How the platform's Kafka clients authenticate and encrypt: one setting for every client.

The embedded broker speaks PLAINTEXT on the loopback interface. A production cluster takes
SASL/SCRAM over TLS with a user per service (docker/README.md): the API processes and the
stream workers each log in with their own name and password, so either can be revoked
alone. The password can come from a file (a container secret) rather than the environment.
"""

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


class KafkaSecurityError(ValueError):
    """A Kafka security setting that cannot work, named with what to set instead."""


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None  # None: the system's trusted authorities

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "KafkaSecurity":
        protocol = env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
        if protocol not in PROTOCOLS:
            msg = f"KAFKA_SECURITY_PROTOCOL is {protocol!r}; use one of {', '.join(PROTOCOLS)}"
            raise KafkaSecurityError(msg)
        mechanism = env.get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512").upper()
        if mechanism not in MECHANISMS:
            msg = f"KAFKA_SASL_MECHANISM is {mechanism!r}; use one of {', '.join(MECHANISMS)}"
            raise KafkaSecurityError(msg)
        password = env.get("KAFKA_SASL_PASSWORD") or None
        if env.get("KAFKA_SASL_PASSWORD_FILE"):
            password = _read_secret(Path(env["KAFKA_SASL_PASSWORD_FILE"]))
        security = cls(
            protocol=protocol,
            sasl_mechanism=mechanism,
            username=env.get("KAFKA_SASL_USERNAME") or None,
            password=password,
            ca_file=Path(env["KAFKA_SSL_CAFILE"]) if env.get("KAFKA_SSL_CAFILE") else None,
        )
        security.check()
        return security

    def check(self) -> None:
        if self.uses_sasl and not (self.username and self.password):
            msg = (
                f"KAFKA_SECURITY_PROTOCOL {self.protocol} needs KAFKA_SASL_USERNAME and "
                "KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)"
            )
            raise KafkaSecurityError(msg)
        if self.protocol == "SASL_PLAINTEXT" and self.sasl_mechanism == "PLAIN":
            msg = "SASL PLAIN without TLS sends the password in the clear; use SASL_SSL"
            raise KafkaSecurityError(msg)
        if self.ca_file is not None and not self.ca_file.is_file():
            raise KafkaSecurityError(f"KAFKA_SSL_CAFILE {self.ca_file} is not a readable file")

    def ssl_context(self) -> ssl.SSLContext | None:
        """Verifies the brokers' certificates and host names; None without TLS."""
        if not self.uses_tls:
            return None
        cafile = str(self.ca_file) if self.ca_file else None
        return ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for every aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.uses_tls:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return options


def _read_secret(path: Path) -> str:
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise KafkaSecurityError(f"KAFKA_SASL_PASSWORD_FILE {path}: {error.strerror}") from error
    if not secret:
        raise KafkaSecurityError(f"KAFKA_SASL_PASSWORD_FILE {path} is empty")
    return secret
