"""``procurement inbox``: your notices (award decisions, requests, cancellations, review
decisions), and a private Atom feed link to follow them in a feed reader."""

from typing import Annotated

import typer
from rich.table import Table

from entrypoints.cli.terminal import ApiOption, TokenOption, call, out, show, token_or_saved

inbox_app = typer.Typer(help="Your notices.")


def register(app: typer.Typer) -> None:
    app.add_typer(inbox_app, name="inbox")


@inbox_app.callback(invoke_without_command=True)
def list_notices(
    context: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    before: Annotated[int | None, typer.Option(min=1, help="Older than this position.")] = None,
    mark_read: Annotated[bool, typer.Option("--mark-read", help="Mark those shown read.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Your notices, newest first, each in full."""
    if context.invoked_subcommand is not None:
        return
    params = {"limit": limit} | ({"before": before} if before else {})
    page = call("GET", "/inbox", api_url, token_or_saved(token), params=params)
    if mark_read and page["notices"]:
        through = {"through": page["notices"][0]["position"]}
        page["unread"] = call("POST", "/inbox/read", api_url, token_or_saved(token), json=through)[
            "unread"
        ]
    if as_json:
        show(page)
        return
    table = Table("position", "date", "tender", "notice", "", show_lines=True)
    for notice in page["notices"]:
        table.add_row(
            str(notice["position"]),
            notice["occurred_at"],
            notice["ocid"],
            notice["text"],
            "" if notice["read"] else "new",
        )
    out.print(table)
    more = f"; older: --before {page['next_before']}" if page["next_before"] else ""
    out.print(f"{page['unread']} unread{more}", highlight=False)


@inbox_app.command("feed-link")
def feed_link(api_url: ApiOption = None, token: TokenOption = None) -> None:
    """A private Atom feed link to your notices for a feed reader. It is shown once, and the
    link you had before stops working."""
    answer = call("POST", "/inbox/feed-links", api_url, token_or_saved(token))
    out.print(answer["url"], highlight=False, soft_wrap=True)
    out.print("Keep it private: whoever has it reads your notices.", highlight=False)
