"""``procurement verify``: check receipts and Merkle proofs offline, with public data only."""

import base64
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from bidding import verify
from entrypoints.cli.terminal import fail, out, read_json
from schemas.bids import SignedReceipt

verify_app = typer.Typer(
    help="Check receipts and Merkle proofs offline, with public data only.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(verify_app, name="verify")


def _receipt(path: Path) -> SignedReceipt:
    try:
        return SignedReceipt.model_validate(read_json(path))
    except ValidationError as error:
        fail(f"{path} is not a receipt:\n{error}")


def _checked(check: Any, what: str) -> None:
    try:
        check()
    except (verify.NotVerified, KeyError, ValueError) as error:
        fail(f"NOT VERIFIED: {what}: {error}")
    out.print(f"[bold green]verified[/]: {what}")


@verify_app.command("receipt")
def verify_receipt(
    receipt: Annotated[Path, typer.Argument(help="A receipt file from `bid submit`.")],
    platform_key: Annotated[
        str, typer.Option(help="The platform's receipt key, base64 (GET /platform/keys).")
    ],
) -> None:
    """Check that the platform signed this receipt."""
    signed = _receipt(receipt)
    key = base64.b64decode(platform_key)
    _checked(lambda: verify.check_receipt(signed, key), f"signed by platform key {signed.key_id}")


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
        f"entry {signed.receipt.log_index} is in the tree of {served.get('tree_size')} with root {root or served.get('root')}",
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
