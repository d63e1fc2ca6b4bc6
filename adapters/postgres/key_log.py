"""The key log's reads: a party's key entries in the transparency log, each with its
document and its inclusion proof under one signed head (``GET /transparency/keys/{id}``).

The key log is the transparency log itself (``publication.transparency.
records_committee_keys`` says which events are key entries); this module only gathers, in
one snapshot, what a member or a supplier's client needs to check a party's keys.
"""

from dataclasses import dataclass
from typing import Any

from adapters.postgres import transparency_log
from adapters.postgres.transparency_log import AggregateEvent
from bidding import merkle
from publication import transparency
from publication.transparency import SignedHead


@dataclass(frozen=True)
class KeyEntry:
    logged: AggregateEvent
    audit_path: list[bytes]  # proves the entry under the head's root


@dataclass(frozen=True)
class PartyKeyLog:
    head: SignedHead | None  # None: the log has no head yet
    entries: list[KeyEntry]  # in log order, each included under ``head``
    more: bool  # entries past ``limit``


async def party_known(connection: Any, party_id: str) -> bool:
    """Whether ``party_id`` is a registered officer, the only parties with committee keys
    (whether a supplier or an agency is registered is not told here)."""
    first = await connection.fetchval(
        "SELECT type FROM events WHERE aggregate_id = $1 AND sequence = 1", party_id
    )
    return bool(first == "OfficerRegistered")


async def party_key_log(pool: Any, party_id: str, after: int, limit: int) -> PartyKeyLog:
    """The party's key entries of a sequence above ``after`` (at most ``limit``), proved
    under the latest signed head; an entry appended after that head waits for the next."""
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        head = await transparency_log.latest_head(connection)
        if head is None:
            return PartyKeyLog(None, [], False)
        found = [
            item
            for item in await transparency_log.aggregate_events(connection, party_id)
            if transparency.records_committee_keys(item.stored.entry.type)
            and item.stored.entry.sequence > after
            and item.stored.entry.leaf_index < head.tree_size
        ]
        found.sort(key=lambda item: item.stored.entry.leaf_index)
        page = found[:limit]
        leaves = await transparency_log.leaf_hashes(connection, head.tree_size) if page else []
    entries = [
        KeyEntry(item, merkle.inclusion_proof(leaves, item.stored.entry.leaf_index))
        for item in page
    ]
    return PartyKeyLog(head, entries, len(found) > limit)
