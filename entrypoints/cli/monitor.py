"""``procurement monitor``: an independent watcher of the transparency log.

Run it now and then (from cron, on a machine that is not the platform's): it pins the
platform key the first time, and each run checks the latest signed head, that the log
still extends the head it kept (a rewrite of history shows as a failed consistency proof:
a fork), that the entries produce the signed root, and that every served event document
still hashes to its entry (an event altered in the store). It keeps the new head only when
every check passed, and exits 1 naming what differs. Formats: docs/transparency.md.
"""

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from bidding import merkle
from entrypoints.cli.terminal import ApiOption, base_url, err, out
from publication import transparency
from publication.transparency import SignedHead

PAGE = 1_000


class CheckFailed(Exception):
    """A check that did not pass: the message names what differs."""


Get = Callable[[str, dict[str, Any]], Any]  # a route and its query -> JSON (None: 404)


@dataclass
class Kept:
    """The monitor's state file: the pinned key, the last head verified, and the entries
    whose documents were served then (a document once public must stay served)."""

    platform_key: str | None = None  # base64
    head: dict[str, Any] | None = None
    served: set[int] = field(default_factory=set)

    @classmethod
    def read(cls, path: Path) -> "Kept":
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(data.get("platform_key"), data.get("head"), set(data.get("served", [])))

    def write(self, path: Path) -> None:
        data = {"platform_key": self.platform_key, "head": self.head, "served": sorted(self.served)}
        draft = path.with_name(f".{path.name}.new")
        draft.write_text(json.dumps(data, indent=1))
        draft.replace(path)  # a crash leaves the old state, never half a new one


class Monitor:
    def __init__(self, get: Get, kept: Kept, say: Callable[[str], None]) -> None:
        self.get = get
        self.kept = kept
        self.say = say

    def run(self) -> Kept:
        """Every check in order; the state to keep. Raises ``CheckFailed`` at the first
        that fails."""
        public_key = self.platform_key()
        answer = self.get("/transparency/head", {})
        if answer is None:
            if self.kept.head is not None:
                raise CheckFailed("fork: the log serves no head, but one was kept")
            self.say("ok   the log has no entry yet: nothing else to check")
            return Kept(base64.b64encode(public_key).decode(), None, set())
        head = _signed(answer)
        if not transparency.head_valid(head, public_key):
            raise CheckFailed(f"head signature: the head of size {head.tree_size} is not signed")
        self.say(f"ok   head of {head.tree_size} entries signed by the platform key")
        self.consistent_with_kept(head)
        entries = self.entries(head)
        self.say(f"ok   the {len(entries)} entries produce the signed root {head.root}")
        served_now = self.documents(entries)
        key = base64.b64encode(public_key).decode()
        return Kept(key, answer, served_now)

    def platform_key(self) -> bytes:
        answer = self.get("/platform/keys", {})
        if answer is None:
            raise CheckFailed("platform key: /platform/keys is not served")
        current = answer["receipt_keys"][0]["public_key"]
        if self.kept.platform_key is None:
            self.say(f"ok   platform key pinned on first use: {current}")
        elif current != self.kept.platform_key:
            msg = f"platform key changed: {current} is served, {self.kept.platform_key} was pinned"
            raise CheckFailed(msg)
        else:
            self.say("ok   platform key is the pinned one")
        return base64.b64decode(self.kept.platform_key or current)

    def consistent_with_kept(self, head: SignedHead) -> None:
        if self.kept.head is None:
            self.say("ok   no head kept yet: this one is kept from now on")
            return
        old = _signed(self.kept.head)
        if head.tree_size < old.tree_size:
            msg = f"fork: the log has {head.tree_size} entries, fewer than the {old.tree_size} kept"
            raise CheckFailed(msg)
        if head.tree_size == old.tree_size:
            if head.root != old.root:
                msg = f"fork: size {old.tree_size} has root {head.root}, not the kept {old.root}"
                raise CheckFailed(msg)
            self.say(f"ok   same size as the kept head, same root {old.root}")
            return
        proof = self.get(
            "/transparency/consistency", {"first": old.tree_size, "second": head.tree_size}
        )
        hashes = [bytes.fromhex(h) for h in (proof or {}).get("proof", [])]
        if proof is None or not merkle.verify_consistency(
            old.tree_size,
            head.tree_size,
            bytes.fromhex(old.root),
            bytes.fromhex(head.root),
            hashes,
        ):
            msg = (
                f"fork: the log of {head.tree_size} entries does not extend the kept head"
                f" of {old.tree_size} (root {old.root}): the consistency proof fails"
            )
            raise CheckFailed(msg)
        self.say(f"ok   extends the kept head of {old.tree_size} entries (consistency proof)")

    def entries(self, head: SignedHead) -> list[transparency.Entry]:
        found: list[transparency.Entry] = []
        leaves: list[bytes] = []
        for served in self._pages(head.tree_size):
            entry = transparency.entry_from_json(served)
            if entry.leaf_index != len(found) or entry.leaf_hash().hex() != served["leaf_hash"]:
                msg = f"entry altered: entry {len(found)} does not hash to its leaf"
                raise CheckFailed(msg)
            found.append(entry)
            leaves.append(entry.leaf_hash())
        if len(found) != head.tree_size or merkle.root(leaves).hex() != head.root:
            msg = (
                f"fork: the {len(found)} entries served do not produce the signed root"
                f" {head.root} of {head.tree_size} entries"
            )
            raise CheckFailed(msg)
        return found

    def _pages(self, size: int) -> Iterator[dict[str, Any]]:
        for start in range(0, size, PAGE):
            page = self.get(
                "/transparency/entries", {"start": start, "end": min(start + PAGE, size)}
            )
            yield from (page or {}).get("entries", [])

    def documents(self, entries: list[transparency.Entry]) -> set[int]:
        """Re-hash every served document against its entry; the leaves served now."""
        by_leaf = {entry.leaf_index: entry for entry in entries}
        served: set[int] = set()
        withheld = 0
        for aggregate_id in dict.fromkeys(entry.aggregate_id for entry in entries):
            for item in self._events(aggregate_id):
                index = item["leaf_index"]
                entry = by_leaf.get(index)
                if entry is None:
                    continue  # logged after the head checked: the next run checks it
                where = f"{aggregate_id} #{entry.sequence} (entry {index})"
                if transparency.entry_from_json(item["entry"]) != entry:
                    raise CheckFailed(f"entry altered: {where} is not the entry listed")
                document = item["document"]
                if document is None:
                    if item["withheld_until"] is None:
                        raise CheckFailed(f"event missing: {where} has no document")
                    if index in self.kept.served:
                        raise CheckFailed(f"event withdrawn: {where} was served, now withheld")
                    withheld += 1
                    continue
                if transparency.document_sha256(document) != entry.event_sha256:
                    raise CheckFailed(f"event altered: {where} no longer hashes to its entry")
                served.add(index)
        self.say(f"ok   {len(served)} event documents hash to their entries; {withheld} withheld")
        return served

    def _events(self, aggregate_id: str) -> Iterator[dict[str, Any]]:
        after = 0
        while True:
            params = {"aggregate_id": aggregate_id, "after": after}
            page = self.get("/transparency/events", params)
            if page is None:
                raise CheckFailed(f"event missing: {aggregate_id} is not served any more")
            yield from page["events"]
            if page.get("next_after") is None:
                return
            after = page["next_after"]


def _signed(served: dict[str, Any]) -> SignedHead:
    return SignedHead(
        tree_size=int(served["tree_size"]),
        root=str(served["root"]),
        timestamp=str(served["timestamp"]),
        key_id=str(served["key_id"]),
        signature=base64.b64decode(served["signature"]),
    )


def http_get(api_url: str) -> Get:
    client = httpx.Client(base_url=api_url, timeout=30)

    def get(path: str, params: dict[str, Any]) -> Any:
        response = client.get(path, params=params)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    return get


StateOption = Annotated[
    Path, typer.Option("--state", help="The monitor's state file: the pinned key, the kept head.")
]


def register(app: typer.Typer) -> None:
    """Adds the command to ``app``."""

    @app.command("monitor")
    def monitor(state: StateOption, api: ApiOption = None) -> None:
        """Check the transparency log against the head kept in --state; exit 1 on a fork,
        an altered event or a bad signature."""
        kept = Kept.read(state)

        def say(line: str) -> None:
            out.print(line, highlight=False)

        try:
            new = Monitor(http_get(base_url(api)), kept, say).run()
        except CheckFailed as failed:
            err.print(f"FAIL {failed}", highlight=False)
            raise typer.Exit(1) from None
        except httpx.HTTPError as error:
            err.print(f"FAIL the API answered badly: {error}", highlight=False)
            raise typer.Exit(1) from None
        new.write(state)
        say(f"ok   kept the head of {new.head['tree_size'] if new.head else 0} entries in {state}")
