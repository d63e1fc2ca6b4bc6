"""The inboxes: every notice an event makes (``publication.notices``), written once per event
and recipient in the transaction of the topic's own projection (``after``), with a row of
e-mail to send for each address it reaches; and the parties' addresses, from their
registrations.

Replays, redeliveries and repairs write nothing twice: a notice is keyed by its event and
recipient, and its e-mail is queued only with the notice's first writing. A notice to an
agency reaches each of its officers and reviewers; its administrator registers officers and
reads nothing of the procedures.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from adapters.postgres import eventstore
from procurement import enquiries, evaluation
from publication import notices as notice_texts
from publication.notices import Before, Notice, Parties
from readmodels.releases import Projector, ocid_of
from schemas.bids import Receipt
from schemas.commands import Actor, Role
from schemas.events import Envelope, OfficerRegistered, SupplierRegistered

# The roles that read their agency's notices besides their own.
READS_FOR_ITS_AGENCY = frozenset({Role.OFFICER, Role.REVIEWER})


def after(projector: Projector) -> Projector:
    """The topic's own projection, then the notices its events make, in one transaction."""

    async def project(connection: Any, envelopes: Sequence[Envelope]) -> None:
        await projector(connection, envelopes)
        await record(connection, envelopes)

    return project


async def record(connection: Any, envelopes: Sequence[Envelope]) -> int:
    """Write the notices of these events not written yet, and queue their e-mail; how
    many notices were new."""
    await _keep_contacts(connection, envelopes)
    needing = {ocid_of(e.aggregate_id) for e in envelopes if e.type in notice_texts.NEEDS_PARTIES}
    procedures = {ocid: await _parties(connection, ocid) for ocid in sorted(needing)}
    made = [
        notice
        for item in envelopes
        for notice in notice_texts.notices(
            item,
            procedures.get(ocid_of(item.aggregate_id), Parties()),
            await _before(connection, item),
        )
    ]
    if not made:
        return 0
    rows = await connection.fetch(
        "SELECT event_id, position FROM events WHERE event_id = ANY($1)",
        sorted({notice.event_id for notice in made}),
    )
    positions = {row["event_id"]: row["position"] for row in rows}
    written = await connection.fetch(
        "INSERT INTO notices (event_id, recipient_id, position, ocid, kind, text, occurred_at)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[], $5::text[],"
        " $6::text[], $7::timestamptz[]) ON CONFLICT DO NOTHING RETURNING event_id, recipient_id",
        *_columns(made, positions),
    )
    if written:
        await _queue_mail(connection, [(row["event_id"], row["recipient_id"]) for row in written])
    return len(written)


def _columns(made: list[Notice], positions: dict[Any, int]) -> list[list[Any]]:
    return [
        [n.event_id for n in made],
        [n.recipient_id for n in made],
        [positions[n.event_id] for n in made],
        [n.ocid for n in made],
        [n.kind for n in made],
        [n.text for n in made],
        [n.occurred_at for n in made],
    ]


async def _queue_mail(connection: Any, written: list[tuple[Any, str]]) -> None:
    """One row per new notice and address: the recipient's own, or an agency's officers'."""
    await connection.execute(
        "INSERT INTO mail_outbox (event_id, recipient_id, address)"
        " SELECT w.event_id, w.recipient_id, c.email"
        " FROM unnest($1::uuid[], $2::text[]) AS w(event_id, recipient_id)"
        " JOIN party_contacts c ON c.party_id = w.recipient_id"
        "   OR (c.agency_id = w.recipient_id AND c.role = ANY($3))"
        " ON CONFLICT DO NOTHING",
        [event_id for event_id, _ in written],
        [recipient for _, recipient in written],
        sorted(READS_FOR_ITS_AGENCY),
    )


async def _keep_contacts(connection: Any, envelopes: Sequence[Envelope]) -> None:
    contacts: list[tuple[str, str, str | None, str]] = []
    for item in envelopes:
        event = item.event
        if isinstance(event, SupplierRegistered):
            contacts.append((event.supplier_id, Role.SUPPLIER.value, None, event.email))
        elif isinstance(event, OfficerRegistered):
            contacts.append((event.officer_id, event.role.value, event.agency_id, event.email))
    if contacts:
        await connection.executemany(
            "INSERT INTO party_contacts (party_id, role, agency_id, email) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (party_id) DO UPDATE SET role = $2, agency_id = $3, email = $4",
            contacts,
        )


async def _before(connection: Any, item: Envelope) -> Before:
    """The state of the event's aggregate before it, for the notices that need it: read
    from the store up to the event, so a replay tells the same parties."""
    if item.type not in notice_texts.NEEDS_EVALUATION | notice_texts.NEEDS_CLARIFICATIONS:
        return Before()
    history = await eventstore.load(connection, item.aggregate_id, until=item.sequence - 1)
    if item.type in notice_texts.NEEDS_EVALUATION:
        return Before(evaluation=evaluation.replay(e.event for e in history))
    return Before(clarifications=enquiries.replay((e.event, e.occurred_at) for e in history))


async def _parties(connection: Any, ocid: str) -> Parties:
    """The tender's buyer, and its tenderers from its bid log's receipts in the store
    (never the sealed bids themselves)."""
    buyer_id = await connection.fetchval(
        "SELECT envelope -> 'event' ->> 'buyer_id' FROM events"
        " WHERE aggregate_id = $1 AND type = 'TenderPublished'",
        ocid,
    )
    rows = await connection.fetch(
        "SELECT (envelope -> 'event' -> 'receipt')::jsonb AS receipt FROM events"
        " WHERE aggregate_id = $1 AND type = ANY($2) ORDER BY sequence",
        f"{ocid}:bids",
        ["BidSubmitted", "BidWithdrawn"],
    )
    return notice_texts.parties(buyer_id, (Receipt.model_validate(r["receipt"]) for r in rows))


# Reads


def recipients(actor: Actor) -> list[str]:
    """Whose notices ``actor`` reads: its own, and its agency's if it acts for it."""
    if actor.role in READS_FOR_ITS_AGENCY and actor.agency_id is not None:
        return [actor.id, actor.agency_id]
    return [actor.id]


async def inbox(
    pool: Any, actor: Actor, limit: int, before: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """The actor's notices, newest first, before ``before`` (a position) if given, each
    with whether it is read; and how many are unread in all."""
    rows = await pool.fetch(
        "SELECT n.event_id, n.recipient_id, n.position, n.ocid, n.kind, n.text, n.occurred_at,"
        " n.position <= coalesce(r.read_through, 0) AS read"
        " FROM notices n LEFT JOIN inbox_reads r ON r.party_id = $2"
        " WHERE n.recipient_id = ANY($1) AND n.position < $3"
        " ORDER BY n.position DESC, n.recipient_id LIMIT $4",
        recipients(actor),
        actor.id,
        before if before is not None else 2**63 - 1,
        limit,
    )
    return [dict(row) for row in rows], await unread(pool, actor)


async def unread(pool: Any, actor: Actor) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM notices WHERE recipient_id = ANY($1)"
        " AND position > coalesce((SELECT read_through FROM inbox_reads WHERE party_id = $2), 0)",
        recipients(actor),
        actor.id,
    )
    return count


async def mark_read(pool: Any, actor: Actor, through: int) -> None:
    """Every notice of the actor's at or before position ``through`` is read; never unread
    again by an older position."""
    await pool.execute(
        "INSERT INTO inbox_reads (party_id, read_through) VALUES ($1, $2) ON CONFLICT (party_id)"
        " DO UPDATE SET read_through = greatest(inbox_reads.read_through, $2)",
        actor.id,
        through,
    )


async def feed_owner(pool: Any, secret_sha256: bytes) -> Actor | None:
    """Whose feed link this is, while that party holds a token it has not revoked: a feed
    is read with no token, so it must not outlive the party's access."""
    row = await pool.fetchrow(
        "SELECT party_id, role, agency_id FROM feed_links f WHERE secret_sha256 = $1"
        " AND EXISTS (SELECT 1 FROM credentials c"
        "             WHERE c.party_id = f.party_id AND c.revoked_at IS NULL)",
        secret_sha256,
    )
    if row is None:
        return None
    return Actor(id=row["party_id"], role=Role(row["role"]), agency_id=row["agency_id"])


async def end_feed_link(connection: Any, party_id: str) -> None:
    """The party's feed link ends for good: a new one must be made with a new token."""
    await connection.execute("DELETE FROM feed_links WHERE party_id = $1", party_id)


async def new_feed_link(pool: Any, actor: Actor, secret_sha256: bytes) -> datetime:
    """Keep ``secret_sha256`` as the actor's feed link, ending the one before; when."""
    created: datetime = await pool.fetchval(
        "INSERT INTO feed_links (party_id, role, agency_id, secret_sha256) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (party_id) DO UPDATE SET role = $2, agency_id = $3, secret_sha256 = $4,"
        " created_at = clock_timestamp() RETURNING created_at",
        actor.id,
        actor.role.value,
        actor.agency_id,
        secret_sha256,
    )
    return created
