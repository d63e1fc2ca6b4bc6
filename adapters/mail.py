"""The notices' e-mail, sent through an SMTP server from the ``mail_outbox`` table.

At least once: a batch of due rows is leased (its next attempt moved past the time a send
may take) before anything is sent, so a worker that dies mid-send leaves them to be sent
again, never lost; the Message-ID is stable, so a mail client shows a repeat once. Each
address is sent on its own: a refused address fails alone, for good when the server
refuses it for good (5xx), and everything else is retried with a doubling backoff. Nothing
here blocks a projection: it runs on its own timer, with smtplib in a thread.

The mail holds the notice's text and nothing else: no token, no feed link, no bid.
"""

import asyncio
import hashlib
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

BATCH = 50  # rows leased and sent per pass
LEASE_SECONDS = 300.0  # a leased row is tried again after this if its sender never answered
FIRST_RETRY_SECONDS = 1.0  # then 2, 4, 8... seconds
LONGEST_RETRY_SECONDS = 900.0
TIMEOUT_SECONDS = 30.0
# Mail not sent within this of its notice is given up (the notice stays in the inbox): a
# server configured, or back, after long does not flood parties with stale news.
MAX_AGE_DAYS = 7


@dataclass(frozen=True)
class MailServer:
    """Where the mail goes: ``smtp://host:port`` (STARTTLS when the server offers it, and
    required before any password is sent) or ``smtps://user:password@host:465`` (TLS from
    the start), and the address it comes from."""

    host: str
    port: int
    implicit_tls: bool
    sender: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str, sender: str) -> "MailServer":
        """The server of ``url``; ``ValueError`` saying what is wrong (never the password)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            msg = "PROCUREMENT_SMTP_URL is not a URL such as smtp://mail.example.ro:587"
            raise ValueError(msg) from error
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            msg = "PROCUREMENT_SMTP_URL must be smtp://host:port or smtps://user:password@host:465"
            raise ValueError(msg)
        implicit_tls = parts.scheme == "smtps"
        Address(addr_spec=sender)  # raises a ValueError for what is no address
        return cls(
            host=parts.hostname,
            port=port or (465 if implicit_tls else 25),
            implicit_tls=implicit_tls,
            sender=sender,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


@dataclass(frozen=True)
class Outcome:
    """What became of one row: sent (no error), to retry, or refused for good."""

    key: tuple[Any, str, str]  # event id, recipient, address
    error: str | None = None
    permanent: bool = False


_LEASE = """
UPDATE mail_outbox o SET attempts = o.attempts + 1,
       next_attempt_at = clock_timestamp() + make_interval(secs => $2)
FROM notices n
WHERE (o.event_id, o.recipient_id, o.address) IN (
        SELECT event_id, recipient_id, address FROM mail_outbox
        WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= clock_timestamp()
        ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
  AND n.event_id = o.event_id AND n.recipient_id = o.recipient_id
RETURNING o.event_id, o.recipient_id, o.address, o.attempts, n.ocid, n.kind, n.text,
          n.occurred_at
"""


_GIVE_UP = """
UPDATE mail_outbox SET failed_at = clock_timestamp(),
       last_error = 'not sent within ' || $1::int || ' days of its notice, which is in the inbox'
WHERE sent_at IS NULL AND failed_at IS NULL
  AND queued_at < clock_timestamp() - make_interval(days => $1::int)
"""


class MailSender:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def deliver_due(self, pool: Any) -> list[Outcome]:
        """Send what is due now, one batch; what became of each row."""
        await pool.execute(_GIVE_UP, MAX_AGE_DAYS)
        rows = await pool.fetch(_LEASE, BATCH, LEASE_SECONDS)
        if not rows:
            return []
        outcomes = await asyncio.to_thread(self._send_all, rows)
        attempts = {(r["event_id"], r["recipient_id"], r["address"]): r["attempts"] for r in rows}
        await _record(pool, outcomes, attempts)
        return outcomes

    def _send_all(self, rows: list[Any]) -> list[Outcome]:
        keys = [(row["event_id"], row["recipient_id"], row["address"]) for row in rows]
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            return [Outcome(key, _describe(error), _permanent(error)) for key in keys]
        outcomes = []
        with connection:
            for key, row in zip(keys, rows, strict=True):
                outcomes.append(self._send_one(connection, key, row))
                if connection.sock is None:  # the server hung up: the rest are tried again
                    break
        done = {outcome.key for outcome in outcomes}
        hung_up = "the mail server closed the connection"
        return outcomes + [Outcome(key, hung_up) for key in keys if key not in done]

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.implicit_tls:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(
                server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
            )
        connection = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
        connection.ehlo()
        if connection.has_extn("starttls"):
            connection.starttls(context=ssl.create_default_context())
            connection.ehlo()
        elif server.username is not None:
            connection.close()
            msg = f"{server.host} offers no STARTTLS: the password is never sent in clear"
            raise smtplib.SMTPException(msg)
        if server.username is not None and server.password is not None:
            connection.login(server.username, server.password)
        return connection

    def _send_one(self, connection: smtplib.SMTP, key: tuple[Any, str, str], row: Any) -> Outcome:
        try:
            message = compose(self.server.sender, row)
            connection.send_message(message, self.server.sender, [row["address"]])
        except ValueError as error:  # an address that is no address: it never will be
            return Outcome(key, f"not an address: {error}", permanent=True)
        except (OSError, smtplib.SMTPException) as error:
            return Outcome(key, _describe(error), _permanent(error))
        return Outcome(key)


def compose(sender: str, row: Any) -> EmailMessage:
    """The e-mail of one notice to one address."""
    message = EmailMessage()
    message["From"] = Address(addr_spec=sender)
    message["To"] = Address(addr_spec=row["address"])  # one address, however it is spelt
    message["Subject"] = f"{_title(row['kind'])}: {row['ocid']}"
    message["Date"] = format_datetime(row["occurred_at"])
    identity = f"{row['event_id']}|{row['recipient_id']}|{row['address']}".encode()
    domain = sender.rsplit("@", 1)[1]
    message["Message-ID"] = f"<{hashlib.sha256(identity).hexdigest()[:32]}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"{row['text']}\n\n-- \nA notice about {row['ocid']} to {row['recipient_id']}; "
        "it is also in your inbox on the platform.\n"
    )
    return message


def _title(kind: str) -> str:
    """``AwardDecided`` -> ``Award decided``."""
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", kind).lower()
    return words[:1].upper() + words[1:]


def _permanent(error: BaseException) -> bool:
    """A 5xx answer is the server's last word; connections and 4xx are tried again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return False


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def retry_after(attempts: int) -> float:
    """Seconds before the next attempt, after ``attempts`` have failed."""
    return min(FIRST_RETRY_SECONDS * 2.0 ** max(attempts - 1, 0), LONGEST_RETRY_SECONDS)


async def _record(pool: Any, outcomes: list[Outcome], attempts: dict[Any, int]) -> None:
    for outcome in outcomes:
        event_id, recipient, address = outcome.key
        if outcome.error is None:
            setting, value = "sent_at = clock_timestamp(), last_error = NULL", None
        elif outcome.permanent:
            setting, value = "failed_at = clock_timestamp(), last_error = $4", outcome.error
            log.error("mail of %s to %s refused for good: %s", event_id, recipient, outcome.error)
        else:
            delay = retry_after(attempts[outcome.key])
            setting = f"next_attempt_at = clock_timestamp() + make_interval(secs => {delay}),"
            setting += " last_error = $4"
            value = outcome.error
            log.warning(
                "mail of %s to %s failed, retry in %gs: %s", event_id, recipient, delay, value
            )
        arguments = [event_id, recipient, address] + ([value] if value is not None else [])
        await pool.execute(
            f"UPDATE mail_outbox SET {setting}"
            " WHERE event_id = $1 AND recipient_id = $2 AND address = $3",
            *arguments,
        )
