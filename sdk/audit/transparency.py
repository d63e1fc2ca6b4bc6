"""The platform key and the transparency log, checked as docs/transparency.md describes them.

- ``/platform/keys``: each key's ``key_id`` is the first 16 hex digits of its SHA-256.
- The signed head: Ed25519 by the platform key over the canonical JSON of ``{"purpose":
  "procurement-transparency-head/1", "root", "timestamp", "tree_size"}``.
- An entry's leaf: ``SHA-256(0x00 || canonical JSON of the entry)``, the entry being
  ``{"aggregate_id", "event_id", "event_sha256", "leaf_index", "recorded_at", "sequence",
  "type"}``; its inclusion in the signed tree by RFC 9162 audit path; ``event_sha256`` the
  SHA-256 of the canonical JSON of the served event document.
"""

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from bidding import keys, merkle
from sdk.audit.report import Check, failed, outcome, passed
from sdk.audit.sources import PublicSource, Unavailable, describe

HEAD_PURPOSE = "procurement-transparency-head/1"
ENTRY_FIELDS = ("aggregate_id", "event_id", "event_sha256", "leaf_index", "recorded_at", "sequence", "type")  # fmt: skip
# Aggregates logged only from their seal on: their first logged sequence is not 1.
LOGGED_FROM_THE_SEAL = (":bids",)
# A quotation's quotes are never logged one by one (that would count them before the
# deadline): its logged sequences have gaps by design, and are checked for order only.
QUOTES_LOGGED_AT_THE_OPENING = (":quotation",)


@dataclass(frozen=True)
class Head:
    tree_size: int
    root: str


@dataclass(frozen=True)
class LoggedEvent:
    sequence: int
    type: str
    document: dict[str, Any] | None  # None while withheld
    withheld_until: str | None

    @property
    def event(self) -> dict[str, Any]:
        """The event itself, inside the document's stored envelope."""
        payload = (self.document or {}).get("payload") or {}
        event = payload.get("event", payload)
        return event if isinstance(event, dict) else {}


def check_platform_key(answer: Any) -> tuple[Check, bytes | None]:
    subject = "platform key"
    try:
        (key,) = [k for k in answer["receipt_keys"] if k.get("algorithm") == "Ed25519"][:1]
        public = base64.b64decode(key["public_key"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        return failed(subject, "GET /platform/keys names no Ed25519 receipt key"), None
    if len(public) != 32 or keys.key_id(public) != key.get("key_id"):
        return failed(subject, f"key {key.get('key_id')} is not the SHA-256 of its key"), None
    return passed(subject, f"Ed25519 key {key['key_id']}"), public


def check_head(answer: Any, platform_key: bytes | None) -> tuple[Check, Head | None]:
    subject = "transparency log: signed head"
    if platform_key is None:
        return failed(subject, "the platform key is not known, so the head cannot be checked"), None
    try:
        tree_size, root = int(answer["tree_size"]), str(answer["root"])
        fields = {"root": root, "timestamp": str(answer["timestamp"]), "tree_size": tree_size}
        signature = base64.b64decode(answer["signature"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        return failed(subject, "GET /transparency/head is not a signed head"), None
    if answer.get("key_id") != keys.key_id(platform_key):
        return failed(subject, f"signed by key {answer.get('key_id')}, not the platform's"), None
    if not keys.verify(platform_key, signature, HEAD_PURPOSE, fields):
        return failed(subject, "the signature does not verify with the platform key"), None
    head = Head(tree_size, root)
    return passed(
        subject, f"{head.tree_size} entries, root {head.root}, {fields['timestamp']}"
    ), head


def check_aggregate(
    source: PublicSource, aggregate_id: str, head: Head | None
) -> tuple[Check, list[LoggedEvent]]:
    """Every logged event of the aggregate: its entry included in the signed tree, its
    document (when served) hashing to the entry's digest, and no sequence missing."""
    subject = f"{aggregate_id}: transparency log"
    try:
        served = _events(source, aggregate_id)
    except Unavailable as missing:
        return failed(subject, str(missing)), []
    except (KeyError, TypeError, ValueError):
        return failed(subject, "the answer of /transparency/events has no list of events"), []
    if not served:
        return failed(subject, "no event of it is logged"), []
    problems: list[str] = []
    logged = []
    for item in served:
        event, found = _check_event(source, aggregate_id, item, head)
        problems += found
        if event is not None:
            logged.append(event)
    sequences = [event.sequence for event in logged]
    problems += _gaps(aggregate_id, sequences)
    withheld = sorted({e.withheld_until or "" for e in logged if e.document is None})
    served_count = sum(e.document is not None for e in logged)
    size = head.tree_size if head else "?"
    verified = f"{len(logged)} events included in the signed tree of {size}, "
    verified += f"{served_count} documents re-hashed"
    if withheld:
        verified += f", {len(logged) - served_count} withheld until {', '.join(withheld)}"
    if aggregate_id.endswith(QUOTES_LOGGED_AT_THE_OPENING):
        verified += "; sequences in order (quotes are logged only through their opening)"
    return outcome(subject, problems, verified), sorted(logged, key=lambda e: e.sequence)


def _events(source: PublicSource, aggregate_id: str) -> list[Any]:
    """Every page of ``/transparency/events`` for the aggregate."""
    params: dict[str, str | int | None] = {"aggregate_id": aggregate_id}
    served: list[Any] = []
    while True:
        answer = source.get("/transparency/events", params)
        served += list(answer["events"])
        following = answer.get("next_after")
        if following is None:
            return served
        params = {"aggregate_id": aggregate_id, "after": int(following)}


def _check_event(
    source: PublicSource, aggregate_id: str, item: Any, head: Head | None
) -> tuple[LoggedEvent | None, list[str]]:
    try:
        entry = {name: item["entry"][name] for name in ENTRY_FIELDS}
        index = int(entry["leaf_index"])
    except (KeyError, TypeError, ValueError):
        return None, [f"an event listed without a complete entry: {str(item)[:200]}"]
    what = f"event {entry['sequence']} ({entry['type']}, leaf {index})"
    problems = []
    if entry["aggregate_id"] != aggregate_id or item.get("leaf_index", index) != index:
        problems.append(f"{what}: its entry is of {entry['aggregate_id']} at another leaf")
    leaf = merkle.leaf_hash(keys.canonical_json(entry)).hex()
    if item.get("leaf_hash", leaf) != leaf:
        problems.append(
            f"{what}: served with leaf hash {item.get('leaf_hash')}, its entry's is {leaf}"
        )
    document = item.get("document")
    if document is not None:
        digest = hashlib.sha256(keys.canonical_json(document)).hexdigest()
        if digest != entry["event_sha256"]:
            problems.append(
                f"{what}: event altered: its document hashes to {digest}, "
                f"its entry committed to {entry['event_sha256']}"
            )
        for name in ("aggregate_id", "event_id", "sequence", "type", "recorded_at"):
            if document.get(name) != entry[name]:
                problems.append(f"{what}: its document's {name} is not its entry's")
    problems += _inclusion(source, what, entry, head)
    event = LoggedEvent(
        int(entry["sequence"]), str(entry["type"]), document, item.get("withheld_until")
    )
    return event, problems


def _inclusion(
    source: PublicSource, what: str, entry: dict[str, Any], head: Head | None
) -> list[str]:
    if head is None:
        return [f"{what}: no verified signed head to prove its inclusion against"]
    index = int(entry["leaf_index"])
    if index >= head.tree_size:
        return [f"{what}: leaf {index} is beyond the signed head's {head.tree_size} entries"]
    params = {"leaf_index": index, "tree_size": head.tree_size}
    try:
        proof = source.get("/transparency/inclusion", params)
        path = [bytes.fromhex(h) for h in proof["audit_path"]]
    except Unavailable as missing:
        return [f"{what}: {missing}"]
    except (KeyError, TypeError, ValueError):
        return [f"{what}: {describe('/transparency/inclusion', params)} is not a proof"]
    leaf = merkle.leaf_hash(keys.canonical_json(entry))
    if not merkle.verify_inclusion(leaf, index, head.tree_size, path, bytes.fromhex(head.root)):
        return [f"{what}: its entry is not included in the signed tree (root {head.root})"]
    return []


def _gaps(aggregate_id: str, sequences: list[int]) -> list[str]:
    if not sequences:
        return []
    ordered = sorted(sequences)
    if len(set(ordered)) != len(ordered):
        return [f"a sequence is logged twice: {ordered}"]
    if aggregate_id.endswith(QUOTES_LOGGED_AT_THE_OPENING):
        return []
    first = 1
    if aggregate_id.endswith(LOGGED_FROM_THE_SEAL):
        # The committee's naming and confirmations are logged at once (a run from 1), the
        # bids never, and everything from the seal on: the second run is checked on its own.
        run = 0
        while run < len(ordered) and ordered[run] == run + 1:
            run += 1
        ordered = ordered[run:] or ordered
        first = ordered[0]
    expected = list(range(first, first + len(ordered)))
    if ordered != expected:
        missing = sorted(set(range(first, ordered[-1] + 1)) - set(ordered))
        return [f"events missing from the log: sequences {missing or ordered}"]
    return []
