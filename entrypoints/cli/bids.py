"""``procurement supplier|bid|committee|opening``: sealed bids from a terminal. Keys stay
in local key files; checking the committee's keys, sealing, decrypting shares and every
check run on this machine."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from entrypoints.cli.terminal import (
    ApiOption,
    TokenOption,
    base_url,
    check_after_deadline,
    fail,
    load_key_file,
    out,
    read_json,
    show,
    write_private,
)
from schemas.bids import BidContent, SignedReceipt
from sdk import key_checks
from sdk.client import ApiError, Client
from sdk.key_checks import KeyCheckFailed
from sdk.keyfiles import KeyFile

supplier_app = typer.Typer(help="Economic operators (SMEs) and their keys.", no_args_is_help=True)
bid_app = typer.Typer(help="Seal, submit, replace and withdraw bids.", no_args_is_help=True)
opening_app = typer.Typer(help="The opening ceremony, for committee members.", no_args_is_help=True)
committee_app = typer.Typer(help="A tender's committee, for its members.", no_args_is_help=True)

KeysOption = Annotated[
    Path, typer.Option("--keys", help="Your key file (private: it never leaves this machine).")
]


def register(app: typer.Typer, tender_app: typer.Typer, officer_app: typer.Typer) -> None:
    app.add_typer(supplier_app, name="supplier")
    app.add_typer(bid_app, name="bid")
    app.add_typer(opening_app, name="opening")
    app.add_typer(committee_app, name="committee")
    tender_app.command("committee")(tender_committee)
    officer_app.command("keys")(officer_keys)


def _client(api_url: str | None, token: str | None) -> Client:
    return Client(base_url(api_url), token)


def _run(action: Any) -> Any:
    try:
        return action()
    except ApiError as error:
        fail(str(error))
    except KeyCheckFailed as error:
        fail(f"refused, nothing was sent: {error}")
    except OSError as error:
        fail(f"cannot reach the API or a file: {error}")


@supplier_app.command("register")
def supplier_register(
    name: Annotated[str, typer.Option(help="The company's registered name.")],
    identifier: Annotated[
        str, typer.Option(help="National registration number, e.g. RO-CUI-14399840.")
    ],
    email: Annotated[str, typer.Option(help="Contact e-mail.")],
    sme: Annotated[
        bool, typer.Option("--sme/--not-sme", help="Is it a small or medium enterprise?")
    ],
    key_path: KeysOption = Path("supplier-keys.json"),
    api_url: ApiOption = None,
) -> None:
    """Make a signing key (unless the key file exists) and register with its public half."""
    key_file = KeyFile.load(key_path) if key_path.exists() else KeyFile.generate(committee=False)
    with _client(api_url, None) as client:
        body = _run(
            lambda: client.register_supplier(
                name=name, identifier=identifier, is_sme=sme, email=email, key_file=key_file
            )
        )
    key_file.named(body["id"]).save(key_path)
    out.print(f"registered supplier [bold]{body['id']}[/]; private key in {key_path}")
    out.print(f"token (keep it secret, it is shown once): [bold]{body['token']}[/]")
    out.print(f"use it with: export PROCUREMENT_TOKEN={body['token']}", highlight=False)


def officer_keys(
    key_path: KeysOption = Path("committee-keys.json"),
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Make your committee keys (X25519, ML-KEM-768+X25519 and Ed25519) and register their
    public halves, bound to you by your signature."""
    with _client(api_url, token) as client:
        me = _run(lambda: client.request("GET", "/me"))
        key_file = KeyFile.load(key_path) if key_path.exists() else KeyFile.generate(committee=True)
        if key_file.encryption_key is None:
            fail(f"{key_path} holds no encryption key: is it a supplier's key file?")
        _run(lambda: client.register_committee_keys(key_file, me["id"]))
    key_file.named(me["id"]).save(key_path)
    out.print(f"committee keys of [bold]{me['id']}[/] registered; private keys in {key_path}")


def tender_committee(
    ocid: str,
    member: Annotated[list[str], typer.Option(help="An officer id; repeat for each member.")],
    threshold: Annotated[int, typer.Option(help="Members needed together to open the bids.")],
    post_quantum: Annotated[
        bool,
        typer.Option(help="Seal the bids' key shares with ML-KEM-768+X25519 (post-quantum)."),
    ] = False,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Name the tender's committee. No key is made: each bidder splits its own bid's key
    among the members; bids are taken once THRESHOLD members confirmed."""
    suite = "mlkem768-x25519" if post_quantum else "x25519"
    with _client(api_url, token) as client:
        _run(lambda: client.name_committee(ocid, member, threshold, suite))
    out.print(
        f"{ocid}: committee of {len(member)} named ({suite}); it takes bids once {threshold}"
        " members confirmed (`procurement committee confirm`)"
    )


def _pinned_platform_key(client: Client, key_path: Path) -> bytes:
    """The platform key pinned beside the key file on first use; a changed key is refused."""
    served = key_checks.served_platform_key(client)
    return key_checks.pin_platform_key(key_checks.platform_key_file(key_path), served)


@committee_app.command("confirm")
def committee_confirm(
    ocid: str,
    key_path: KeysOption = Path("committee-keys.json"),
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Check that your entry in the committee holds your own keys and every member's keys
    are theirs in the key log, then sign the committee's key material."""
    key_file = load_key_file(key_path)
    if key_file.party_id is None or key_file.encryption_key is None:
        fail(f"{key_path} is not a registered committee key file (`procurement officer keys`)")
    with _client(api_url, token) as client:
        _run(
            lambda: client.confirm_committee(
                ocid, str(key_file.party_id), key_file, _pinned_platform_key(client, key_path)
            )
        )
    out.print(f"you confirmed the committee of {ocid}")


@bid_app.command("submit")
def bid_submit(
    file: Annotated[Path, typer.Argument(help="The bid as JSON (see docs/sealed-bids.md).")],
    version: Annotated[int, typer.Option(help="1 for a first bid, higher to replace it.")] = 1,
    key_path: KeysOption = Path("supplier-keys.json"),
    receipt_path: Annotated[
        Path | None, typer.Option("--receipt", help="Where to keep the receipt.")
    ] = None,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Seal the bid on this machine, submit it, and keep the signed receipt."""
    key_file = load_key_file(key_path)
    try:
        content = BidContent.model_validate(read_json(file))
    except ValidationError as error:
        fail(f"{file} is not a valid bid:\n{error}")
    with _client(api_url, token) as client:
        answer = _run(
            lambda: client.submit_bid_answer(
                content, version, key_file, _pinned_platform_key(client, key_path)
            )
        )
    receipt = SignedReceipt.model_validate(
        {k: v for k, v in answer.items() if k in ("receipt", "key_id", "signature")}
    )
    path = receipt_path or Path(f"receipt-{content.ocid}-v{version}.json")
    # Not whether this was a repeat, which is no part of the evidence.
    kept = {k: v for k, v in answer.items() if k != "replayed"}
    write_private(path, json.dumps(kept, indent=2).encode())
    out.print(
        f"bid received at {receipt.receipt.received_at.isoformat()}; receipt in {path}; after"
        f" the deadline `procurement bid proof {content.ocid} --receipt {path}` places it in"
        " the sealed log"
    )


@bid_app.command("withdraw")
def bid_withdraw(
    ocid: str,
    version: Annotated[int, typer.Option(help="Higher than your latest bid's version.")],
    key_path: KeysOption = Path("supplier-keys.json"),
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Withdraw your bid before the deadline."""
    key_file = load_key_file(key_path)
    if key_file.party_id is None:
        fail(f"{key_path} does not say whose it is; register with `procurement supplier register`")
    with _client(api_url, token) as client:
        receipt = _run(lambda: client.withdraw_bid(ocid, str(key_file.party_id), version, key_file))
    out.print(f"withdrawn at {receipt.receipt.received_at.isoformat()}; the receipt:")
    show(receipt.model_dump(mode="json"))


@bid_app.command("reconfirm")
def bid_reconfirm(
    ocid: str,
    key_path: KeysOption = Path("supplier-keys.json"),
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """After a significant amendment, reconfirm your current bid, signed, before the deadline:
    a bid sent before the change is not opened unless reconfirmed or replaced."""
    key_file = load_key_file(key_path)
    if key_file.party_id is None:
        fail(f"{key_path} does not say whose it is; register with `procurement supplier register`")
    with _client(api_url, token) as client:
        try:
            answer = _run(lambda: client.reconfirm_bid(ocid, str(key_file.party_id), key_file))
        except ValueError as error:
            fail(f"refused, nothing was sent: {error}")
    out.print(
        f"bid {answer['bid_id']} reconfirmed for requirements {answer['requirements_sha256']}"
    )


@bid_app.command("status")
def bid_status(ocid: str, api_url: ApiOption = None, token: TokenOption = None) -> None:
    """What you may see of a tender's bids: counts, your receipts, opened bids if allowed."""
    with _client(api_url, token) as client:
        show(_run(lambda: client.request("GET", f"/tenders/{ocid}/bids")))


@bid_app.command("proof")
def bid_proof(
    ocid: str,
    leaf: Annotated[
        int | None, typer.Option(help="A leaf's index in the sealed log: its inclusion proof.")
    ] = None,
    receipt: Annotated[
        Path | None,
        typer.Option(help="Your receipt file: its leaf found in the sealed log, and its proof."),
    ] = None,
    first: Annotated[
        int | None, typer.Option(help="An earlier tree size: a consistency proof.")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="Write the proof to a file.")] = None,
    api_url: ApiOption = None,
) -> None:
    """Fetch an inclusion proof (--leaf, or --receipt) or a consistency proof (--first) of
    the sealed bid log."""
    if sum(given is not None for given in (leaf, receipt, first)) != 1:
        fail("give exactly one of --leaf, --receipt and --first")
    with _client(api_url, None) as client:
        if receipt is not None:
            leaf = _run(lambda: client.leaf_index_of(ocid, _kept_receipt(receipt)))
        proof = _run(
            lambda: (
                client.inclusion_proof(ocid, leaf)
                if leaf is not None
                else client.consistency_proof(ocid, int(first or 0))
            )
        )
    if output is not None:
        output.write_text(json.dumps(proof, indent=2))
    show(proof)


def _kept_receipt(path: Path) -> SignedReceipt:
    data = read_json(path)
    try:
        return SignedReceipt.model_validate(
            {k: v for k, v in data.items() if k in ("receipt", "key_id", "signature")}
        )
    except (ValidationError, AttributeError) as error:
        fail(f"{path} is not a receipt:\n{error}")


@opening_app.command("share")
def opening_share(
    ocid: str,
    key_path: KeysOption = Path("committee-keys.json"),
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Decrypt your share of every bid's key here, sign them and hand them in, after the
    deadline."""
    key_file = load_key_file(key_path)
    if key_file.party_id is None or key_file.encryption_key is None:
        fail(f"{key_path} is not a registered committee key file (`procurement officer keys`)")
    with _client(api_url, token) as client:
        check_after_deadline(
            _run(lambda: client.request("GET", f"/tenders/{ocid}")), datetime.now(UTC)
        )
        result = _run(lambda: client.hand_in_shares(ocid, str(key_file.party_id), key_file))
    show(result)
