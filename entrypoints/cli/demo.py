"""``procurement demo``: a whole market on a platform of its own (see entrypoints.demo.run)."""

import time
from pathlib import Path
from typing import Annotated

import typer

from entrypoints.cli.terminal import fail, out


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for summary.json and the public documents.")
    ] = Path("demo-output"),
    tenders: Annotated[int, typer.Option(min=1, max=8, help="Tenders to publish.")] = 8,
    suppliers: Annotated[int, typer.Option(min=6, max=40, help="Suppliers that bid.")] = 36,
    bidding_seconds: Annotated[
        float, typer.Option(min=5, help="Seconds from publication to the bids' deadline.")
    ] = 15.0,
    api_url: Annotated[
        str | None,
        typer.Option("--api", help="Drive this running platform instead of starting one."),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="The operator token of that platform.")
    ] = None,
) -> None:
    """Run a whole market on the embedded default: agencies, SMEs with their own keys,
    sealed bids opened by 2 of 3 committee members, evaluation, auctions, awards, a
    complaint, signed contracts carried out; print the savings and write the public data."""
    from entrypoints.demo import run as market_demo
    from sdk.market import ApiRefused

    started = time.monotonic()

    def say(line: str) -> None:
        out.print(f"{time.monotonic() - started:6.1f}s  {line}", highlight=False, markup=False)

    options = market_demo.Options(out_dir, tenders, suppliers, bidding_seconds)
    try:
        market_demo.run(options, say, api_url, token)
    except (market_demo.DemoFailed, ApiRefused, TimeoutError, ValueError) as error:
        fail(str(error))
    except KeyboardInterrupt:
        fail("interrupted; the demo's platform was stopped and removed")
