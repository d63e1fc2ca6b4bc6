"""The OCDS releases read model: every release the platform has published, in the order it
was recorded, for the public API, its exports and its live feed.

The projections of the tenders, bids, evaluations and contracts topics call ``record`` in
their own transaction (``after``). For each tender that a batch touches with an event that
can change public information, it reads the procedure's history from the event store, only
the event types ``publication.ocds`` reads (never the sealed bids), recomputes its releases
and inserts those not stored yet. Release ids are stable (``<ocid>-<event id>``), so a
recomputation, a redelivery or a repair inserts nothing twice.

Positions are taken under a lock held until the transaction commits, so releases become
visible in position order: a reader that has seen position n has seen every release before
it, which is what page cursors and the live feed's ``Last-Event-ID`` rely on. Each new
release is announced on the ``releases`` channel with its position.

Each procedure's compiled record (``records``: all its releases and the
``compiledRelease``) is written in the same transaction as its new releases, so a reader
never sees a release without the record that holds it. A record is compiled again
whenever it does not end with the procedure's newest release, which also refills the table
after it was emptied.
"""

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from contracts.contract import contract_id_for
from publication import ocds
from schemas.evaluation import AwardDecided
from schemas.events import AgencyRegistered, Envelope, SupplierRegistered
from schemas.upcasting import read_envelope

log = logging.getLogger(__name__)

CHANNEL = "releases"
_LOCK = (
    4_242_003  # an advisory lock id (4_242_001 schema, 4_242_002 relay): positions, one at a time
)

# What publication.ocds reads of a procedure; the rest (sealed bids above all) stays put.
HISTORY_TYPES = ocds.READS
# The quiet ones only feed a later release (BidsOpened, an award, ContractActivated): no
# recomputation for them, which spares reading a big tender's opened bids once per batch of
# its opening.
_HISTORY = frozenset(HISTORY_TYPES)
TRIGGERS = _HISTORY - ocds.QUIET
_PARTY_TYPES = ["AgencyRegistered", "SupplierRegistered"]

Projector = Callable[[Any, Sequence[Envelope]], Awaitable[None]]


def after(projector: Projector) -> Projector:
    """The topic's own projection, then the releases it makes public, in one transaction."""

    async def project(connection: Any, envelopes: Sequence[Envelope]) -> None:
        await projector(connection, envelopes)
        await record(connection, envelopes)

    return project


def ocid_of(aggregate_id: str) -> str:
    """``<ocid>``, ``<ocid>:bids``, ``<ocid>:contract:lot-1``... all belong to ``<ocid>``."""
    return aggregate_id.split(":", 1)[0]


async def record(connection: Any, envelopes: Sequence[Envelope]) -> int:
    """Store the releases of the tenders these events touch that are not stored yet."""
    ocids = sorted({ocid_of(e.aggregate_id) for e in envelopes if e.type in TRIGGERS})
    if not ocids:
        return 0
    for envelope in envelopes:  # the batch's own events are read already
        if envelope.type in _HISTORY:
            _read.keep(envelope)
    histories = await _histories(connection, ocids)
    parties = await _parties(connection, histories.values())
    stored = {
        row["release_id"]
        for row in await connection.fetch(
            "SELECT release_id FROM releases WHERE ocid = ANY($1)", ocids
        )
    }
    rows = []
    for ocid in ocids:
        history = histories.get(ocid, [])
        try:
            written = ocds.releases(history, parties)
        except ValueError as error:  # a history the mapping cannot read must not stop the stream
            log.error("no releases for %s: %s", ocid, error)
            continue
        codes = _cpv_by_release(ocid, history)
        rows += [release_row(r, codes[r["id"]]) for r in written if r["id"] not in stored]
    return await store(connection, rows, ocids)


async def store(connection: Any, rows: list[tuple[Any, ...]], ocids: list[str]) -> int:
    """Insert these releases (``release_row``s, in order) and compile again the records of
    these procedures, in the caller's transaction; how many releases were new."""
    inserted = await _insert(connection, rows, ocids)
    # A procedure that had no release before (a new tender, above all) has all of them in
    # what the insert returned, as stored: no need to read them back.
    first: dict[str, list[tuple[int, str]]] = {}
    for row in inserted:
        if row["stored"] is not None:
            first.setdefault(row["ocid"], []).append((row["position"], row["stored"]))
    await _store_records(connection, [ocid for ocid in ocids if ocid not in first], first)
    return len(inserted)


async def _histories(connection: Any, ocids: list[str]) -> dict[str, list[Envelope]]:
    """Each tender's events that the mapping reads, in store order, filtered in SQL."""
    aggregates = [
        f"{ocid}{suffix}"
        for ocid in ocids
        for suffix in ("", ":bids", ":evaluation", ":complaints")
    ]
    rows = await connection.fetch(
        "SELECT position, event_id, envelope FROM events"
        " WHERE aggregate_id = ANY($1) AND type = ANY($2)",
        aggregates,
        HISTORY_TYPES,
    )
    found = [(row["position"], _read(row)) for row in rows]
    # A contract is drawn from an award: only awarded lots can have one.
    contracts = {
        contract_id_for(ocid_of(e.aggregate_id), e.event.lot_id, e.event.award_number)
        for _, e in found
        if isinstance(e.event, AwardDecided)
    }
    if contracts:
        rows = await connection.fetch(
            "SELECT position, event_id, envelope FROM events"
            " WHERE aggregate_id = ANY($1) AND type = ANY($2)",
            sorted(contracts),
            HISTORY_TYPES,
        )
        found += [(row["position"], _read(row)) for row in rows]
    histories: dict[str, list[Envelope]] = {}
    for _, envelope in sorted(found, key=lambda pair: pair[0]):
        histories.setdefault(ocid_of(envelope.aggregate_id), []).append(envelope)
    return histories


class _ReadEvents:
    """The events of recent histories, read once: every batch that touches a procedure
    reads its whole history again, and validating each event anew made a long procedure's
    cost grow with the square of its length. Events never change and envelopes are frozen,
    so sharing them is safe; the oldest are forgotten past ``size``."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.events: OrderedDict[UUID, Envelope] = OrderedDict()

    def __call__(self, row: Any) -> Envelope:
        envelope = self.events.get(row["event_id"])
        if envelope is None:
            envelope = read_envelope(row["envelope"])
        self.keep(envelope)
        return envelope

    def keep(self, envelope: Envelope) -> None:
        self.events[envelope.event_id] = envelope
        self.events.move_to_end(envelope.event_id)
        while len(self.events) > self.size:
            self.events.popitem(last=False)


_read = _ReadEvents(size=8192)


async def _parties(
    connection: Any, histories: Iterable[list[Envelope]]
) -> dict[str, ocds.PartyInfo]:
    """The names and registrations of the parties these procedures mention."""
    mentioned = {
        getattr(e.event, name)
        for history in histories
        for e in history
        for name in ("buyer_id", "bidder_id", "supplier_id", "review_body_id")
        if getattr(e.event, name, None) is not None
    }
    rows = await connection.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = ANY($1) AND type = ANY($2)",
        sorted(mentioned),
        _PARTY_TYPES,
    )
    infos = []
    for row in rows:
        event = read_envelope(row["envelope"]).event
        assert isinstance(event, AgencyRegistered | SupplierRegistered)
        infos.append(ocds.party_info(event))
    return {info.id: info for info in infos}


def _cpv_by_release(ocid: str, history: Sequence[Envelope]) -> dict[str, list[str]]:
    """The tender's own CPV codes (main and additional) when each release was written: the
    core schema has no field for them, but the public filters by them."""
    codes: list[str] = []
    by_release = {}
    for envelope in history:
        requirements = getattr(envelope.event, "requirements", None)
        if requirements is not None:
            codes = [requirements.cpv, *requirements.additional_cpv]
        by_release[f"{ocid}-{envelope.event_id}"] = codes
    return by_release


def cpv_prefixes(codes: Iterable[str]) -> list[str]:
    """Every code and its prefixes of 2 to 8 digits, so that a prefix filter is an index
    look-up: 30197630-1 gives 30, 301, ... 30197630 and 30197630-1."""
    codes = list(codes)
    return sorted({*codes, *(code[:n] for code in codes for n in range(2, 9))})


def release_row(release: ocds.Release, tender_cpv: Sequence[str]) -> tuple[Any, ...]:
    """The columns of one release, in ``COLUMNS`` order; the release as exact JSON text."""
    items = release["tender"].get("items", [])
    codes = sorted({*tender_cpv, *(item["classification"]["id"] for item in items)})
    suppliers = [p["id"] for p in release.get("parties", []) if "supplier" in p["roles"]]
    return (
        release["id"],
        release["ocid"],
        datetime.fromisoformat(release["date"]),
        release["tag"],
        release["buyer"]["id"],
        suppliers,
        codes,
        cpv_prefixes(codes),
        release["tender"]["status"],
        ocds.dumps(release),
    )


COLUMNS = (
    "release_id",
    "ocid",
    "date",
    "tags",
    "buyer_id",
    "supplier_ids",
    "cpv",
    "cpv_prefixes",
    "status",
    "release",
)

# ``stored``: the release as the public reads it, for the procedures of $12 that had no
# release before this statement (its snapshot: the positions' lock is held, so no other
# transaction adds one until this one commits).
_INSERT = """
WITH earlier AS (SELECT DISTINCT ocid FROM releases WHERE ocid = ANY($12)),
inserted AS (
    INSERT INTO releases (release_id, ocid, date, tags, buyer_id, supplier_ids, cpv,
                          cpv_prefixes, status, release)
    SELECT r.release_id, r.ocid, r.date, string_to_array(r.tags, ','), r.buyer_id,
           string_to_array(r.supplier_ids, ','), string_to_array(r.cpv, ','),
           string_to_array(r.cpv_prefixes, ','), r.status, r.release::jsonb
    FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[],
                $7::text[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY
         AS r (release_id, ocid, date, tags, buyer_id, supplier_ids, cpv, cpv_prefixes, status,
               release, n)
    ORDER BY r.n
    ON CONFLICT (release_id) DO NOTHING
    RETURNING position, release_id, ocid, tags, cpv, release
)
SELECT i.position, i.ocid,
       CASE WHEN i.ocid = ANY($12) AND i.ocid NOT IN (SELECT ocid FROM earlier)
            THEN i.release::text END AS stored,
       pg_notify($11, json_build_object('position', i.position, 'id', i.release_id,
                                        'ocid', i.ocid, 'tags', i.tags, 'cpv', i.cpv)::text)
FROM inserted i
"""


async def _insert(connection: Any, rows: list[tuple[Any, ...]], ocids: list[str]) -> list[Any]:
    """Insert in order and announce each new release; the new ones (``_INSERT``)."""
    if not rows:
        return []
    await connection.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
    columns: list[list[Any]] = [list(column) for column in zip(*rows, strict=True)]
    for index in (3, 5, 6, 7):  # unnest cannot take arrays of arrays: joined here, split there
        columns[index] = [",".join(values) for values in columns[index]]
    return list(await connection.fetch(_INSERT, *columns, CHANNEL, ocids))


# The releases of the procedures whose record does not end with their newest release.
_STALE_RECORDS = """
SELECT s.ocid, s.position, s.release::text AS release FROM releases s
WHERE s.ocid = ANY($1) AND NOT EXISTS (
    SELECT 1 FROM records r
    WHERE r.ocid = s.ocid
      AND r.position = (SELECT max(position) FROM releases n WHERE n.ocid = s.ocid))
ORDER BY s.ocid, s.position
"""

# A batch without new releases compiles records without the positions' lock: a record may
# only replace an older one, never one that a concurrent batch wrote with a newer release.
_UPSERT_RECORDS = """
INSERT INTO records (ocid, position, record)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::json[])
ON CONFLICT (ocid) DO UPDATE SET position = excluded.position, record = excluded.record
WHERE records.position < excluded.position
"""


async def _store_records(
    connection: Any, ocids: list[str], found: dict[str, list[tuple[int, str]]]
) -> None:
    """Compile again the records of these procedures that lack their newest release, and of
    those ``found`` with all their releases, from the releases as stored (what the public
    reads), and store them."""
    if ocids:
        for row in await connection.fetch(_STALE_RECORDS, ocids):
            found.setdefault(row["ocid"], []).append((row["position"], row["release"]))
    if not found:
        return
    records = []
    for ocid, unordered in found.items():
        releases = sorted(unordered)
        try:
            compiled = ocds.compile_record([_parse(release) for _, release in releases])
        except ValueError as error:  # like the releases: log it, and the stream goes on
            log.error("no record for %s: %s", ocid, error)
            continue
        records.append((ocid, releases[-1][0], ocds.dumps(compiled)))
    if records:
        columns = [list(column) for column in zip(*records, strict=True)]
        await connection.execute(_UPSERT_RECORDS, *columns)


def _parse(release: str) -> Any:
    """A stored release as Python values, its amounts exact."""
    return json.loads(release, parse_float=Decimal)
