"""``procurement dead-letters``: what the streams set aside, and replaying it once the cause
is fixed (the operator's token)."""

from typing import Annotated

import typer
from rich.table import Table

from entrypoints.cli.terminal import ApiOption, TokenOption, call, out, show, token_or_saved

dead_letters_app = typer.Typer(
    help="Events a projection or the relay set aside (the operator).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(dead_letters_app, name="dead-letters")


@dead_letters_app.command("list")
def list_letters(
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """The open dead letters, oldest first, with the error that set each aside."""
    page = call(
        "GET", "/operations/dead-letters", api_url, token_or_saved(token), params={"limit": limit}
    )
    if as_json:
        show(page)
        return
    table = Table("id", "consumer", "position", "event", "failed at", "error")
    for letter in page["items"]:
        table.add_row(
            str(letter["id"]),
            letter["consumer"],
            str(letter["position"]),
            f"{letter['event_type']} {letter['event_id']}",
            letter["failed_at"],
            letter["error"][:200],
        )
    out.print(table)
    out.print(f"{page['unresolved']} unresolved", highlight=False)


@dead_letters_app.command("replay")
def replay(
    letter_id: Annotated[int, typer.Argument(min=1, help="The dead letter's id.")],
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Apply or publish the event again, as the store holds it now; resolved on success."""
    answer = call(
        "POST", f"/operations/dead-letters/{letter_id}/replay", api_url, token_or_saved(token)
    )
    if answer["status"] == "resolved":
        out.print(f"dead letter {letter_id} replayed and resolved")
    else:
        out.print(f"dead letter {letter_id} is queued for the relay; list again to see it go")
