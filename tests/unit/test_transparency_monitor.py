"""``procurement monitor``'s checks against a log served from memory: an honest log that
grows passes, and a rewritten history, an altered or withdrawn event, or another key fails
with a message naming what differs."""

import base64
import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys, merkle
from entrypoints.cli.monitor import CheckFailed, Kept, Monitor
from publication import transparency


class ServedLog:
    """The public routes of a log, as the platform serves them."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self.key = key
        self.documents: list[dict[str, Any]] = []
        self.entries: list[transparency.Entry] = []
        self.withheld: set[int] = set()

    def append(self, *payloads: dict[str, Any]) -> None:
        for payload in payloads:
            document = transparency.event_document(
                "ocds-1",
                f"event-{len(self.documents)}",
                len(self.documents) + 1,
                "TenderDetailsAmended",
                "2026-12-07T05:11:01.000000Z",
                payload,
            )
            self.documents.append(document)
            self.entries.append(transparency.entry_for(len(self.entries), document))

    def rewrite(self) -> None:
        """Every entry hashed again from the documents as they are now."""
        self.entries = [transparency.entry_for(i, d) for i, d in enumerate(self.documents)]

    def leaves(self, size: int) -> list[bytes]:
        return [entry.leaf_hash() for entry in self.entries[:size]]

    def get(self, path: str, params: dict[str, Any]) -> Any:
        size = len(self.entries)
        public = keys.raw_public(self.key)
        if path == "/platform/keys":
            key = {"key_id": keys.key_id(public), "public_key": base64.b64encode(public).decode()}
            return {"receipt_keys": [key]}
        if path == "/transparency/head":
            now = datetime(2026, 12, 7, tzinfo=UTC)
            head = transparency.sign_head(self.key, size, merkle.root(self.leaves(size)), now)
            return {**head.fields(), "key_id": head.key_id, "signature": _b64(head.signature)}
        if path == "/transparency/consistency":
            leaves = self.leaves(params["second"])
            proof = merkle.consistency_proof(leaves, params["first"])
            return {"proof": [h.hex() for h in proof]}
        if path == "/transparency/entries":
            chosen = self.entries[params["start"] : params["end"]]
            return {"entries": [e.as_json() | {"leaf_hash": e.leaf_hash().hex()} for e in chosen]}
        if path == "/transparency/events":
            return {"events": [self._item(e) for e in self.entries], "next_after": None}
        raise AssertionError(path)

    def _item(self, entry: transparency.Entry) -> dict[str, Any]:
        hidden = entry.leaf_index in self.withheld
        return {
            "leaf_index": entry.leaf_index,
            "entry": entry.as_json(),
            "document": None if hidden else self.documents[entry.leaf_index],
            "withheld_until": transparency.EVALUATION_DECIDED if hidden else None,
        }


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def watch(log: ServedLog, kept: Kept) -> tuple[Kept, list[str]]:
    said: list[str] = []
    return Monitor(log.get, kept, said.append).run(), said


@pytest.fixture
def log() -> ServedLog:
    served = ServedLog(Ed25519PrivateKey.generate())
    served.append({"title": "Paper"}, {"title": "Paper, A4"}, {"title": "Paper, A4, 80 g"})
    return served


def test_an_honest_log_that_grows_passes_and_its_new_head_is_kept(log: ServedLog) -> None:
    """First run pins the key and keeps the head; a later run proves the growth."""
    kept, said = watch(log, Kept())
    assert kept.head is not None
    assert kept.head["tree_size"] == 3
    assert any("pinned on first use" in line for line in said)
    log.append({"title": "Toner"}, {"title": "Toner, black"})
    again, said = watch(log, kept)
    assert again.head is not None
    assert again.head["tree_size"] == 5
    assert any("consistency proof" in line for line in said)
    assert again.served == {0, 1, 2, 3, 4}


def test_a_history_rewritten_and_grown_is_a_fork(log: ServedLog) -> None:
    """An old event changed, the log rehashed and grown: the consistency proof fails."""
    kept, _ = watch(log, Kept())
    log.documents[1]["payload"] = {"title": "Gold"}
    log.rewrite()
    log.append({"title": "Toner"})
    with pytest.raises(CheckFailed, match="fork"):
        watch(log, kept)


def test_a_history_rewritten_at_the_same_size_is_a_fork(log: ServedLog) -> None:
    kept, _ = watch(log, Kept())
    log.documents[0]["payload"] = {"title": "Gold"}
    log.rewrite()
    with pytest.raises(CheckFailed, match="fork: size 3"):
        watch(log, kept)


def test_a_shorter_log_is_a_fork(log: ServedLog) -> None:
    kept, _ = watch(log, Kept())
    log.entries.pop()
    with pytest.raises(CheckFailed, match="fork"):
        watch(log, kept)


def test_a_document_altered_under_its_entry_is_named(log: ServedLog) -> None:
    """The entry stands, the stored event changed: "event altered", with where."""
    kept, _ = watch(log, Kept())
    log.documents[2]["payload"] = {"title": "Gold"}
    with pytest.raises(CheckFailed, match=r"event altered: ocds-1 #3 \(entry 2\)"):
        watch(log, copy.deepcopy(kept))


def test_a_document_once_served_cannot_be_withheld_again(log: ServedLog) -> None:
    kept, _ = watch(log, Kept())
    log.withheld.add(1)
    with pytest.raises(CheckFailed, match="event withdrawn"):
        watch(log, kept)


def test_a_document_never_served_may_stay_withheld(log: ServedLog) -> None:
    log.withheld.add(1)
    kept, said = watch(log, Kept())
    assert kept.served == {0, 2}
    assert any("1 withheld" in line for line in said)


def test_another_platform_key_is_refused(log: ServedLog) -> None:
    kept, _ = watch(log, Kept())
    log.key = Ed25519PrivateKey.generate()
    with pytest.raises(CheckFailed, match="platform key changed"):
        watch(log, kept)


def test_a_head_signed_by_another_key_is_refused(log: ServedLog) -> None:
    """The key served is the pinned one, but the head is signed by another."""
    kept, _ = watch(log, Kept())
    pinned = log.get("/platform/keys", {})
    log.key = Ed25519PrivateKey.generate()
    real_get = log.get

    def pinned_key_served(path: str, params: dict[str, Any]) -> Any:
        return pinned if path == "/platform/keys" else real_get(path, params)

    with pytest.raises(CheckFailed, match="head signature"):
        Monitor(pinned_key_served, kept, lambda _: None).run()
