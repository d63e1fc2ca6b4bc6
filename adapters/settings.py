"""The platform's settings, read once from the environment."""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from adapters.document_store import parse_document_store
from adapters.http_limits import HttpLimits
from adapters.kafka.security import KafkaSecurity
from adapters.mail import MailServer
from adapters.readiness import Limits as ReadinessLimits
from procurement.procedures.registry import CatalogueRules
from procurement.rules import ProcedureRules
from schemas import MAX_EVENT_BYTES

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, name: str) -> timedelta:
    """``"30d"``, ``"12h"``, ``"90s"`` or plain seconds."""
    match = _DURATION.match(text)
    if match is None:
        msg = f"{name}={text!r} is not a duration such as 30d, 12h, 15m or 90s"
        raise ValueError(msg)
    return timedelta(seconds=float(match[1]) * _UNITS[match[2]])


def parse_public_url(text: str, name: str = "PROCUREMENT_PUBLIC_URL") -> str:
    """An absolute http(s) URL without query, fragment or credentials, kept without its
    trailing slash: ``https://sicap.example.ro`` or ``https://example.ro/achizitii``."""
    msg = (
        f"{name}={text!r} is not an absolute http(s) URL without query or fragment,"
        " such as https://sicap.example.ro"
    )
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError as error:
        raise ValueError(msg) from error
    if (
        parts.scheme not in {"http", "https"}
        or not parts.hostname
        or not port_ok
        or "@" in parts.netloc
        or "?" in text
        or "#" in text
        or any(c.isspace() for c in text)
    ):
        raise ValueError(msg)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def database_url_with_password_file(url: str | None, password_file: str | None) -> str | None:
    """``DATABASE_URL`` with the password of ``DATABASE_PASSWORD_FILE`` (a container secret)
    put in, so that the password need not sit in the environment."""
    if not password_file:
        return url
    if not url:
        raise ValueError("DATABASE_PASSWORD_FILE is set but DATABASE_URL is not")
    try:
        password = Path(password_file).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ValueError(f"DATABASE_PASSWORD_FILE {password_file}: {error.strerror}") from error
    if not password:
        raise ValueError(f"DATABASE_PASSWORD_FILE {password_file} is empty")
    parts = urlsplit(url)
    if not parts.username:
        raise ValueError("DATABASE_PASSWORD_FILE needs a user name in DATABASE_URL")
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def secret_setting(env: Mapping[str, str], name: str) -> str | None:
    """``name`` from the environment, or from the file ``name_FILE`` names (a container
    secret), so that a token need not sit in the environment; not both."""
    path = env.get(f"{name}_FILE")
    if not path:
        return env.get(name) or None
    if env.get(name):
        raise ValueError(f"set {name} or {name}_FILE, not both")
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ValueError(f"{name}_FILE {path}: {error.strerror}") from error
    if not value:
        raise ValueError(f"{name}_FILE {path} is empty")
    return value


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None  # None: start the embedded PostgreSQL
    kafka_bootstrap_servers: str | None = None  # None: start the embedded broker
    data_dir: Path = Path(".procurement")
    # How long a fetch waits on the broker for new data. The embedded broker only answers
    # a waiting fetch when the wait runs out: a short wait keeps latency low, and costs
    # idle CPU in polling (README, "Fetch wait").
    kafka_fetch_wait_ms: int = 50
    kafka_idempotence: bool = False  # the embedded broker cannot do idempotent producers
    kafka_replication_factor: int = 1
    kafka_security: KafkaSecurity = field(default_factory=KafkaSecurity)  # TLS and SASL
    # Events larger than this go to Kafka as references that consumers read from the store.
    kafka_inline_bytes: int = MAX_EVENT_BYTES
    ocid_prefix: str = "ocds-000000"
    admin_token: str | None = None
    token_lifetime: timedelta = timedelta(days=90)  # officers' and suppliers' bearer tokens
    rules: ProcedureRules = field(default_factory=ProcedureRules)
    catalogue: CatalogueRules = field(default_factory=CatalogueRules)  # thresholds, quotations
    http: HttpLimits = field(default_factory=HttpLimits)  # what a client may take of the API
    # How far behind the relay and the read models may fall before /health/ready says 503.
    readiness: ReadinessLimits = field(default_factory=ReadinessLimits)
    receipt_key_path: Path | None = None  # None: platform-signing-key.pem in the data directory
    # Who publishes the OCDS data and under which licence, as its packages say.
    ocds_publisher: str = "Procurement platform"
    ocds_publisher_uri: str | None = None
    ocds_license: str | None = None  # the URL of the data's licence
    # The platform's address as the public reaches it, e.g. https://sicap.example.ro: the
    # absolute URLs it publishes (OCDS packages, Atom feeds, the portal) name it rather than
    # the Host a request came with. None: the request's own.
    public_url: str | None = None
    # An RFC 3161 time-stamping authority that stamps each sealed bid log's signed head, so
    # that its time is not the platform's word alone. None: heads say that none is configured.
    tsa_url: str | None = None
    # The SMTP server that sends the notices' e-mail (adapters.mail), which may hold a
    # password; None: notices reach the inboxes only.
    smtp_url: str | None = field(default=None, repr=False)
    mail_from: str = "notices@localhost"

    @property
    def mail_server(self) -> MailServer | None:
        return MailServer.parse(self.smtp_url, self.mail_from) if self.smtp_url else None

    # Where procurement documents' bytes are kept: None for PostgreSQL, or file:///dir.
    document_store: str | None = None

    @property
    def receipt_key_file(self) -> Path:
        return self.receipt_key_path or self.data_dir / "platform-signing-key.pem"

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Settings":
        defaults = ProcedureRules()

        def duration(name: str, default: timedelta) -> timedelta:
            return parse_duration(env[name], name) if name in env else default

        return cls(
            database_url=database_url_with_password_file(
                env.get("DATABASE_URL") or None, env.get("DATABASE_PASSWORD_FILE")
            ),
            kafka_bootstrap_servers=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            data_dir=Path(env.get("PROCUREMENT_DATA_DIR", ".procurement")),
            kafka_fetch_wait_ms=int(env.get("PROCUREMENT_KAFKA_FETCH_WAIT_MS", "50")),
            kafka_idempotence=_flag(env.get("PROCUREMENT_KAFKA_IDEMPOTENCE", "false")),
            kafka_replication_factor=int(env.get("PROCUREMENT_KAFKA_REPLICATION_FACTOR", "1")),
            kafka_inline_bytes=int(env.get("PROCUREMENT_KAFKA_INLINE_BYTES", MAX_EVENT_BYTES)),
            kafka_security=KafkaSecurity.from_env(env),
            ocid_prefix=env.get("PROCUREMENT_OCID_PREFIX", "ocds-000000"),
            admin_token=secret_setting(env, "PROCUREMENT_ADMIN_TOKEN"),
            token_lifetime=duration("PROCUREMENT_TOKEN_LIFETIME", timedelta(days=90)),
            receipt_key_path=Path(env["PROCUREMENT_RECEIPT_KEY"])
            if env.get("PROCUREMENT_RECEIPT_KEY")
            else None,
            ocds_publisher=env.get("PROCUREMENT_OCDS_PUBLISHER") or "Procurement platform",
            ocds_publisher_uri=env.get("PROCUREMENT_OCDS_PUBLISHER_URI") or None,
            ocds_license=env.get("PROCUREMENT_OCDS_LICENSE") or None,
            public_url=parse_public_url(env["PROCUREMENT_PUBLIC_URL"])
            if env.get("PROCUREMENT_PUBLIC_URL")
            else None,
            tsa_url=parse_public_url(env["PROCUREMENT_TSA_URL"], "PROCUREMENT_TSA_URL")
            if env.get("PROCUREMENT_TSA_URL")
            else None,
            smtp_url=env.get("PROCUREMENT_SMTP_URL") or None,
            mail_from=env.get("PROCUREMENT_MAIL_FROM") or "notices@localhost",
            document_store=parse_document_store(env["PROCUREMENT_DOCUMENT_STORE"])
            if env.get("PROCUREMENT_DOCUMENT_STORE")
            else None,
            http=HttpLimits.from_env(env),
            readiness=ReadinessLimits.from_env(env, duration),
            catalogue=CatalogueRules.from_env(env, duration),
            rules=ProcedureRules(
                minimum_tender_period=duration(
                    "PROCUREMENT_MIN_TENDER_PERIOD", defaults.minimum_tender_period
                ),
                minimum_period_after_significant_amendment=duration(
                    "PROCUREMENT_MIN_PERIOD_AFTER_AMENDMENT",
                    defaults.minimum_period_after_significant_amendment,
                ),
                minimum_auction_notice=duration(
                    "PROCUREMENT_MIN_AUCTION_NOTICE", defaults.minimum_auction_notice
                ),
                minimum_standstill_days=int(
                    env.get("PROCUREMENT_MIN_STANDSTILL_DAYS", defaults.minimum_standstill_days)
                ),
                enquiry_period_before_deadline=duration(
                    "PROCUREMENT_ENQUIRY_PERIOD_BEFORE_DEADLINE",
                    defaults.enquiry_period_before_deadline,
                ),
                answer_before_deadline=duration(
                    "PROCUREMENT_ANSWER_BEFORE_DEADLINE", defaults.answer_before_deadline
                ),
            ),
        )
