"""``procurement verify``: check receipts, signed heads, time-stamps, Merkle proofs and a
tender's committee offline, with public data only."""

import base64
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography import x509
from pydantic import ValidationError

from bidding import timestamps, tree_heads, verify
from entrypoints.cli.terminal import fail, out, read_json
from schemas.bids import SignedReceipt
from schemas.tree_heads import SignedTreeHead
from sdk.audit.committee import verified_committee
from sdk.audit.sources import DirectorySource, Unavailable
from sdk.key_checks import KeyCheckFailed

verify_app = typer.Typer(
    help="Check receipts and Merkle proofs offline, with public data only.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(verify_app, name="verify")


def _receipt_and_head(path: Path) -> tuple[SignedReceipt, SignedTreeHead | None]:
    """A receipt file, or a bid answer holding the receipt and its ``signed_head``."""
    data = read_json(path)
    head = data.pop("signed_head", None) if isinstance(data, dict) else None
    if isinstance(data, dict):
        data.pop("replayed", None)  # an API answer saved as it came
    try:
        signed = SignedReceipt.model_validate(data)
    except ValidationError as error:
        fail(f"{path} is not a receipt:\n{error}")
    return signed, None if head is None else _parsed_head(head, str(path))


def _receipt(path: Path) -> SignedReceipt:
    return _receipt_and_head(path)[0]


def _parsed_head(data: Any, where: str) -> SignedTreeHead:
    try:
        return SignedTreeHead.model_validate(data)
    except ValidationError as error:
        fail(f"{where} holds no signed head:\n{error}")


def _authority(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as error:
        fail(f"{path} is not a PEM certificate: {error}")


def _checked(check: Any, what: str) -> None:
    try:
        check()
    except (verify.NotVerified, tree_heads.HeadNotVerified, KeyError, ValueError) as error:
        fail(f"NOT VERIFIED: {what}: {error}")
    out.print(f"[bold green]verified[/]: {what}")


def _check_head(head: SignedTreeHead, key: bytes, tsa_cert: Path | None) -> None:
    """The platform's signature, then the time: the authority's if a certificate is given."""
    _checked(
        lambda: tree_heads.check_head(head, key),
        f"head of {head.ocid} ({head.tree_size} entries, root {head.root}) signed by "
        f"platform key {head.key_id}",
    )
    if head.timestamp_token is None:
        out.print(f"time {head.timestamp}: {head.time_source}")
        if tsa_cert is not None:
            fail("NOT VERIFIED: time-stamp: the head carries none, though --tsa-cert was given")
        return
    if tsa_cert is None:
        out.print(
            f"time {head.timestamp}: the head is time-stamped by {head.tsa}; give that "
            "authority's certificate (--tsa-cert) to check it"
        )
        return
    authority = _authority(tsa_cert)
    try:
        moment = timestamps.check_time_stamp(head, authority)
    except timestamps.TimeStampInvalid as error:
        fail(f"NOT VERIFIED: time-stamp by {head.tsa}: {error}")
    out.print(
        f"[bold green]verified[/]: time-stamped by {authority.subject.rfc4514_string()} at "
        f"{moment.isoformat()} (the head says {head.timestamp})"
    )


PlatformKeyOption = Annotated[
    str, typer.Option(help="The platform's receipt key, base64 (GET /platform/keys).")
]
TsaCertOption = Annotated[
    Path | None,
    typer.Option(help="The time-stamping authority's certificate (PEM) that you trust."),
]


@verify_app.command("receipt")
def verify_receipt(
    receipt: Annotated[
        Path, typer.Argument(help="A receipt file from `bid submit`, or the bid's answer.")
    ],
    platform_key: PlatformKeyOption,
    head: Annotated[
        Path | None, typer.Option(help="The signed head given with the receipt, if apart.")
    ] = None,
    tsa_cert: TsaCertOption = None,
) -> None:
    """Check that the platform signed this receipt. A receipt given before positions were
    kept private came with a signed head: that the head is the platform's, of the log just
    after this entry, and its time, are checked too. A receipt names no position: after the
    deadline, check it against the sealed head (`bid proof --receipt`, `verify inclusion`)."""
    signed, carried = _receipt_and_head(receipt)
    key = base64.b64decode(platform_key)
    _checked(lambda: verify.check_receipt(signed, key), f"signed by platform key {signed.key_id}")
    signed_head = _parsed_head(read_json(head), str(head)) if head is not None else carried
    if signed_head is None:
        out.print(
            "no signed head with this receipt: after the deadline, check it against the sealed"
            " head with `procurement bid proof --receipt` and `procurement verify inclusion`"
        )
        return
    _check_head(signed_head, key, tsa_cert)
    _checked(
        lambda: tree_heads.check_receipt_head(signed_head, signed.receipt),
        f"the head is of the log just after entry {signed.receipt.log_index}",
    )


@verify_app.command("head")
def verify_head(
    head: Annotated[
        Path, typer.Argument(help="A signed head (GET /tenders/{ocid}/bid-log/signed-head).")
    ],
    platform_key: PlatformKeyOption,
    tsa_cert: TsaCertOption = None,
) -> None:
    """Check a signed bid-log head: the platform's signature and, given the authority's
    certificate, its RFC 3161 time-stamp."""
    _check_head(_parsed_head(read_json(head), str(head)), base64.b64decode(platform_key), tsa_cert)


@verify_app.command("inclusion")
def verify_inclusion(
    receipt: Annotated[Path, typer.Argument(help="A receipt file.")],
    proof: Annotated[Path, typer.Argument(help="An inclusion proof from `bid proof --leaf`.")],
    root: Annotated[
        str | None, typer.Option(help="The root you trust, e.g. the sealed root.")
    ] = None,
    tree_size: Annotated[
        int | None, typer.Option(help="The size of the tree with that root.")
    ] = None,
) -> None:
    """Check that the receipt's entry is in the bid log's tree."""
    signed, served = _receipt(receipt), read_json(proof)
    _checked(
        lambda: verify.check_inclusion(signed, served, root, tree_size),
        f"entry {served.get('leaf_index')} is in the tree of {served.get('tree_size')} with root {root or served.get('root')}",
    )


@verify_app.command("consistency")
def verify_consistency(
    proof: Annotated[Path, typer.Argument(help="A consistency proof from `bid proof --first`.")],
) -> None:
    """Check that the later tree contains the earlier one unchanged."""
    served = read_json(proof)
    _checked(
        lambda: verify.check_consistency(served),
        f"the tree of {served.get('second')} entries extends the tree of {served.get('first')}",
    )


@verify_app.command("committee")
def verify_committee(
    ocid: Annotated[str, typer.Argument(help="The tender whose committee to check.")],
    directory: Annotated[
        Path,
        typer.Option("--dir", help="Saved public answers, as the audit records them."),
    ],
    platform_key: PlatformKeyOption,
) -> None:
    """Check a tender's committee offline: its key material against the members' key-log
    entries (heads signed by the platform key, binding signatures) and k confirmations."""
    source = DirectorySource(directory)
    key = base64.b64decode(platform_key)
    try:
        detail = verified_committee(source.get(f"/tenders/{ocid}/committee"), key, source)
    except (Unavailable, KeyCheckFailed) as error:
        fail(f"NOT VERIFIED: committee of {ocid}: {error}")
    out.print(f"[bold green]verified[/]: committee of {ocid}: {detail}")
