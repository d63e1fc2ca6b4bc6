"""Where the demo writes its public record: receipts under their bidders, and extension
references that resolve without the demo's platform."""

from datetime import UTC, datetime
from pathlib import Path

from entrypoints.demo.public_record import extensions_at, write_receipts
from schemas.bids import Receipt, SignedReceipt


def _signed(bidder_id: str, version: int) -> SignedReceipt:
    receipt = Receipt(
        kind="bid",
        bid_id=f"bid-{bidder_id}-{version}",
        ocid="ocds-000000-2026-000001",
        bidder_id=bidder_id,
        lots=("lot-1",),
        version=version,
        ciphertext_sha256="0" * 64,
        received_at=datetime(2026, 12, 7, 6, 0, tzinfo=UTC),
        log_index=version - 1,
    )
    return SignedReceipt(receipt=receipt, key_id="0123456789abcdef", signature=b"s" * 64)


def test_each_receipt_is_kept_under_its_bidder_by_tender_and_version(tmp_path: Path) -> None:
    """receipts/<bidder>/<ocid>-<version>.json, holding the signed receipt as given."""
    given = [_signed("supplier-a", 1), _signed("supplier-a", 2), _signed("supplier-b", 1)]
    written = write_receipts(tmp_path, given)
    assert sorted(Path(path).relative_to(tmp_path).as_posix() for path in written) == [
        "receipts/supplier-a/ocds-000000-2026-000001-1.json",
        "receipts/supplier-a/ocds-000000-2026-000001-2.json",
        "receipts/supplier-b/ocds-000000-2026-000001-1.json",
    ]
    kept = tmp_path / "receipts" / "supplier-a" / "ocds-000000-2026-000001-2.json"
    assert SignedReceipt.model_validate_json(kept.read_text()) == given[1]


def test_extensions_are_named_beside_the_packages_or_at_the_public_url() -> None:
    """Without a public URL, relative to the packages' folder, where the copies are."""
    assert extensions_at(None) == "extensions/"
    assert extensions_at("https://sicap.example.ro") == "https://sicap.example.ro/ocds/extensions/"
