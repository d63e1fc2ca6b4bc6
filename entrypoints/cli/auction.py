"""``procurement auction``: the electronic reverse auction from a terminal: the buyer's
officer schedules it, a bidder sends prices and follows its own rank live."""

import json
from datetime import datetime
from typing import Annotated

import httpx
import typer

from entrypoints.cli.terminal import ApiOption, TokenOption, base_url, call, fail, out, show

auction_app = typer.Typer(help="Electronic reverse auctions.", no_args_is_help=True)

OcidArgument = Annotated[str, typer.Argument(help="The tender's ocid.")]
LotArgument = Annotated[str, typer.Argument(help="The lot's id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(auction_app, name="auction")


def _path(ocid: str, lot_id: str) -> str:
    return f"/tenders/{ocid}/auctions/{lot_id}"


@auction_app.command("schedule")
def schedule(
    ocid: OcidArgument,
    lot_id: LotArgument,
    starts_at: Annotated[
        datetime, typer.Option("--starts-at", help="When it opens, with a time zone.")
    ],
    api: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Schedule the auction of a lot whose evaluation is complete (the buyer's officer)."""
    if starts_at.tzinfo is None:
        fail("--starts-at needs a time zone, such as 2027-02-01T10:00:00+02:00")
    body = {"lot_id": lot_id, "starts_at": starts_at.isoformat()}
    show(call("POST", f"/tenders/{ocid}/auctions", api, token, json=body))


@auction_app.command("price")
def price(
    ocid: OcidArgument,
    lot_id: LotArgument,
    amount: Annotated[str, typer.Argument(help="Your new price, such as 940.00.")],
    api: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Send a new price (a bidder); prints your new rank."""
    answer = call("POST", f"{_path(ocid, lot_id)}/prices", api, token, json={"price": amount})
    _print_view(answer["view"])


@auction_app.command("show")
def show_auction(
    ocid: OcidArgument, lot_id: LotArgument, api: ApiOption = None, token: TokenOption = None
) -> None:
    """The auction's status and times; your own view if you bid in it; the final ranking
    if you are an officer of the buyer."""
    show(call("GET", _path(ocid, lot_id), api, token))


@auction_app.command("follow")
def follow(
    ocid: OcidArgument, lot_id: LotArgument, api: ApiOption = None, token: TokenOption = None
) -> None:
    """Print your view each time it changes, until the auction closes (a bidder)."""
    url = base_url(api) + f"{_path(ocid, lot_id)}/live"
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=None) as stream:
            if stream.is_error:
                stream.read()
                fail(f"{stream.status_code}: {stream.json().get('detail', stream.text)}")
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    _print_view(json.loads(line.removeprefix("data: ")))
    except httpx.TransportError as error:
        fail(f"cannot reach the API at {base_url(api)} ({error})")


def _print_view(view: dict[str, str]) -> None:
    leading = f", leading price {view['leading_price']}" if view.get("leading_price") else ""
    out.print(
        f"{view['status']}: your price {view['your_price']} {view['currency']}, "
        f"rank {view['your_rank']} of {view['participants']}{leading}; "
        f"next price at most {view['your_next_price_at_most']}; closes {view['closes_at']}",
        highlight=False,
    )
