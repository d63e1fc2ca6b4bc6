"""The audit command's reading of kept receipts: each named by its path under the folder,
since every bidder's file for a tender has the same name."""

import json
from pathlib import Path

from entrypoints.cli.audit import kept_receipts


def test_kept_receipts_are_named_by_their_path_under_the_folder(tmp_path: Path) -> None:
    for bidder in ("bidder-ana", "bidder-dan"):
        (tmp_path / bidder).mkdir()
        (tmp_path / bidder / "ocds-1-1.json").write_text(
            json.dumps({"receipt": {"ocid": "ocds-1"}})
        )
    pair = [{"receipt": {"ocid": "ocds-2"}}, {"receipt": {"ocid": "ocds-2"}}]
    (tmp_path / "bidder-dan" / "ocds-2-1.json").write_text(json.dumps(pair))

    names = [receipt.name for receipt in kept_receipts(tmp_path)]

    assert names == [
        "bidder-ana/ocds-1-1.json",
        "bidder-dan/ocds-1-1.json",
        "bidder-dan/ocds-2-1.json#0",
        "bidder-dan/ocds-2-1.json#1",
    ]
