"""What the demo leaves for anyone to check, once its platform is gone.

Beside the documents ``run`` writes, the output directory holds:

- ``receipts/<bidder id>/<ocid>-<version>.json``: every signed receipt the platform gave a
  bidder (bids, second versions, withdrawals), as bidders would publish theirs;
- ``platform-keys.json``: ``GET /platform/keys``, the keys that sign receipts and heads;
- ``ocds/``: a release package and a record package of every tender, and beside them
  ``ocds/extensions/``, a copy of the platform's OCDS extensions, which the packages name
  relative to their folder (``extensions/bids/extension.json``), or at the platform's public
  base URL when ``PROCUREMENT_PUBLIC_URL`` is set;
- ``public/``: every public answer an audit of all the procedures read from the live
  platform, saved by ``sdk.audit``, so that ``procurement audit --all --dir <out>/public
  --receipts <out>/receipts`` checks the same again offline.
"""

import asyncio
import json
import shutil
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from schemas.bids import SignedReceipt
from schemas.upcasting import read_envelope
from sdk import audit
from sdk.market import ApiRefused, Market

RELATIVE_EXTENSIONS = "extensions/"  # from the packages' folder


def receipt_file(out: Path, signed: SignedReceipt) -> Path:
    receipt = signed.receipt
    return out / "receipts" / receipt.bidder_id / f"{receipt.ocid}-{receipt.version}.json"


def write_receipts(out: Path, receipts: Iterable[SignedReceipt]) -> list[str]:
    """Each receipt as its bidder got it (the JSON of ``SignedReceipt``); the files."""
    written = []
    for signed in receipts:
        path = receipt_file(out, signed)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(signed.model_dump_json(indent=2) + "\n", encoding="utf-8")
        written.append(str(path))
    return written


def extensions_at(public_url: str | None) -> str:
    """Where the written packages say the extensions are: at the platform's public address,
    which serves them, or in the copy beside the packages."""
    return f"{public_url}/ocds/extensions/" if public_url else RELATIVE_EXTENSIONS


async def until_the_log_settles(market: Market, quiet: float = 2.5, within: float = 60) -> None:
    """The stream workers add new events to the transparency log about once a second: wait
    until its signed head has not grown for ``quiet`` seconds, so that an audit finds the
    demo's last events logged."""
    size, since, give_up = -1, time.monotonic(), time.monotonic() + within
    while time.monotonic() < give_up:
        try:
            now = int((await market.read("/transparency/head"))["tree_size"])
        except ApiRefused as refused:
            if refused.status != 404:  # 404: no head signed yet
                raise
            now = 0
        if now != size:
            size, since = now, time.monotonic()
        elif size and time.monotonic() - since >= quiet:
            return
        await asyncio.sleep(0.5)


async def record_audit(api_url: str, directory: Path) -> audit.Report:
    """An audit of every procedure, run against the live platform, with every public answer
    it read saved under ``directory``; its report."""
    return await asyncio.to_thread(audit.record, api_url, directory)


async def write_ocds(
    directory: Path, database_url: str | None, ocids: list[str], public_url: str | None
) -> dict[str, Any]:
    """The demo's procedures as OCDS 1.1 data in ``directory``: one release package with
    every release of every tender, and one record package with each tender's compiled
    record, built by ``publication.ocds`` from each procedure's recorded history, with a copy
    of the platform's extensions in ``directory/extensions``."""
    from publication import ocds

    if database_url is None:
        return {"written": [], "note": "OCDS data needs the event store: run the demo embedded"}
    connection = await asyncpg.connect(database_url)
    try:
        parties = {
            info.id: info
            for info in (
                ocds.party_info(read_envelope(row["envelope"]).event)  # type: ignore[arg-type]
                for row in await connection.fetch(
                    "SELECT envelope FROM events"
                    " WHERE type IN ('AgencyRegistered', 'SupplierRegistered') ORDER BY position"
                )
            )
        }
        releases = {}
        for ocid in ocids:
            rows = await connection.fetch(
                "SELECT envelope FROM events WHERE aggregate_id = $1 OR aggregate_id LIKE $2"
                " ORDER BY position",
                ocid,
                f"{ocid}:%",
            )
            history = [read_envelope(row["envelope"]) for row in rows]
            releases[ocid] = ocds.releases(history, parties)
    finally:
        await connection.close()
    written = _write_ocds_packages(directory, releases, extensions_at(public_url))
    return {"written": written, "releases": sum(map(len, releases.values()))}


def _write_ocds_packages(
    directory: Path, releases: dict[str, list[Any]], extensions: str
) -> list[str]:
    from entrypoints.http.ocds_extensions import FOLDER
    from publication import ocds

    directory.mkdir(parents=True, exist_ok=True)
    shutil.copytree(FOLDER, directory / "extensions", dirs_exist_ok=True)
    published, publisher = datetime.now(UTC), "Procurement platform (demo)"

    def write(name: str, package_of: Callable[..., dict[str, Any]], items: list[Any]) -> str:
        path = directory / name
        package = package_of(
            items,
            uri=path.resolve().as_uri(),
            published_date=published,
            publisher=publisher,
            extensions_at=extensions,
        )
        path.write_text(ocds.dumps(package) + "\n")
        return str(path)

    every = [release for ocid_releases in releases.values() for release in ocid_releases]
    records = [ocds.compile_record(rs) for rs in releases.values() if rs]
    return [
        write("release-package.json", ocds.release_package, every),
        write("record-package.json", ocds.record_package, records),
    ]


def write_json(path: Path, document: Any) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    return str(path)
