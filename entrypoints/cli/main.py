"""``procurement``: run the platform, and act on it from a terminal.

Every action goes through the HTTP API, so the CLI sees exactly what any client sees.
"""

import asyncio
import contextlib
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from adapters.settings import Settings, parse_duration
from entrypoints.cli import auction as cli_auction
from entrypoints.cli import audit as cli_audit
from entrypoints.cli import backup as cli_backup
from entrypoints.cli import bids as cli_bids
from entrypoints.cli import demo as cli_demo
from entrypoints.cli import enquiries as cli_enquiries
from entrypoints.cli import inbox as cli_inbox
from entrypoints.cli import key_log as cli_key_log
from entrypoints.cli import monitor as cli_monitor
from entrypoints.cli import operations as cli_operations
from entrypoints.cli import verify as cli_verify
from entrypoints.cli.terminal import (
    ApiOption,
    InsecureHttpOption,
    TokenOption,
    allow_insecure_http,
    call,
    fail,
    out,
    private_umask,
    read_json,
    show,
    token_or_saved,
)

app = typer.Typer(
    help="An open e-procurement platform: tenders, sealed bids, open data.", no_args_is_help=True
)


@app.callback()
def _every_command(insecure_http: InsecureHttpOption = False) -> None:
    """An open e-procurement platform: tenders, sealed bids, open data."""
    allow_insecure_http(insecure_http)
    private_umask()  # keys, tokens and receipts are the user's alone from their creation


agency_app = typer.Typer(help="Contracting authorities.", no_args_is_help=True)
officer_app = typer.Typer(help="Procurement officers.", no_args_is_help=True)
tender_app = typer.Typer(
    help="Publish, amend, cancel, list and read tenders.", no_args_is_help=True
)
app.add_typer(agency_app, name="agency")
app.add_typer(officer_app, name="officer")
app.add_typer(tender_app, name="tender")
cli_bids.register(app, tender_app, officer_app)
cli_enquiries.register(tender_app)
cli_verify.register(app)
cli_key_log.register(officer_app)
cli_auction.register(app)
cli_demo.register(app)
cli_backup.register(app)
cli_operations.register(app)
cli_audit.register(app)
cli_monitor.register(app)
cli_inbox.register(app)


# Running the platform


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Port of the HTTP API.")] = 8000,
    host: Annotated[str, typer.Option(help="Address the API listens on.")] = "127.0.0.1",
    workers: Annotated[int, typer.Option(min=1, help="Stream workers to run.")] = 1,
    api_processes: Annotated[
        int | None,
        typer.Option(
            min=1, help="API processes, sharing the port.  [default: the number of cores]"
        ),
    ] = None,
) -> None:
    """Run the whole platform: API processes, stream workers, and the embedded PostgreSQL
    and Kafka broker unless DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS are set."""
    from adapters.data_dir_lock import AlreadyRunning
    from entrypoints.http.serving import PortInUse
    from entrypoints.launcher import Platform

    apis = api_processes or os.cpu_count() or 1
    platform = Platform(
        Settings.from_env(), api_host=host, api_port=port, workers=workers, apis=apis
    )
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        asyncio.run(platform.run())
    except (AlreadyRunning, PortInUse) as refused:
        fail(str(refused))
    except KeyboardInterrupt:
        _exit_now(130)  # Ctrl-C: stopped as asked
    except SystemExit as stopped:
        _exit_now(stopped.code if isinstance(stopped.code, int) else 1)


def _exit_now(code: int) -> None:
    """Exit without tearing the interpreter down: every child has stopped and every file
    is closed, and a teardown of the loaded modules took seconds on a busy machine."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@app.command()
def api(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    reuse_port: Annotated[
        bool,
        typer.Option(
            "--reuse-port",
            help="Share the port with other API processes on this machine (SO_REUSEPORT).",
        ),
    ] = False,
) -> None:
    """Serve only the HTTP API, on the PostgreSQL named by DATABASE_URL. It keeps nothing
    that another API process needs: run as many as the load asks for."""
    from entrypoints.launcher import serve_api

    settings, database_url, _ = _external()
    serve_api(settings, database_url, host, port, reuse_port=reuse_port)


@app.command()
def worker() -> None:
    """Run one stream worker on DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS."""
    from adapters.embedded import free_port
    from entrypoints import worker as stream_worker

    settings, database_url, bootstrap_servers = _external()
    port = int(os.environ.get("PROCUREMENT_WORKER_WEB_PORT") or free_port())
    stream_worker.run(settings, database_url, bootstrap_servers, port)


def _external() -> tuple[Settings, str, str]:
    settings = Settings.from_env()
    if settings.database_url is None or settings.kafka_bootstrap_servers is None:
        fail(
            "this command needs DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS; "
            "`procurement up` runs everything on the embedded default instead"
        )
    return settings, settings.database_url, settings.kafka_bootstrap_servers


def _deadline(text: str) -> str:
    """An ISO 8601 moment as given, or ``+35d``-style offsets from now, in UTC."""
    if not text.startswith("+"):
        return text
    try:
        offset = parse_duration(text[1:], "--deadline")
    except ValueError as error:
        fail(str(error))
    return (datetime.now(UTC) + offset).isoformat(timespec="seconds")


# Commands


@agency_app.command("register")
def agency_register(
    name: Annotated[str, typer.Argument(help="The authority's name.")],
    identifier: Annotated[
        str, typer.Argument(help="National registration number, e.g. RO-CUI-4305857.")
    ],
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Register a contracting authority (operator token)."""
    body = call(
        "POST",
        "/agencies",
        api_url,
        token_or_saved(token),
        json={"name": name, "identifier": identifier},
    )
    out.print(f"registered agency [bold]{body['id']}[/]")


@agency_app.command("list")
def agency_list(api_url: ApiOption = None) -> None:
    """List registered agencies."""
    table = Table("id", "name", "identifier")
    for agency in call("GET", "/agencies", api_url):
        table.add_row(agency["agency_id"], agency["name"], agency["identifier"])
    out.print(table)


@agency_app.command("admin")
def agency_admin(
    agency: Annotated[str, typer.Argument(help="The agency id, e.g. agency-RO-CUI-4305857.")],
    name: Annotated[str, typer.Option(help="The administrator's full name.")],
    email: Annotated[str, typer.Option(help="The administrator's work e-mail.")],
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Register the agency's administrator (the operator only), who registers its officers
    and reviewers and does nothing else; prints the token once."""
    _register_officer(agency, name, email, "agency_admin", api_url, token)


@officer_app.command("register")
def officer_register(
    agency: Annotated[str, typer.Option(help="The agency id, e.g. agency-RO-CUI-4305857.")],
    name: Annotated[str, typer.Option(help="The officer's full name.")],
    email: Annotated[str, typer.Option(help="The officer's work e-mail.")],
    reviewer: Annotated[
        bool, typer.Option(help="A review officer, who rules on complaints.")
    ] = False,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Add a procurement officer (or a review officer), as the operator or the agency's
    administrator; prints the token once."""
    _register_officer(agency, name, email, "reviewer" if reviewer else "officer", api_url, token)


def _register_officer(
    agency: str, name: str, email: str, role: str, api_url: str | None, token: str | None
) -> None:
    body = call(
        "POST",
        "/officers",
        api_url,
        token_or_saved(token),
        json={"agency_id": agency, "name": name, "email": email, "role": role},
    )
    kind = "administrator" if role == "agency_admin" else role
    out.print(f"registered {kind} [bold]{body['id']}[/]")
    out.print(f"token (keep it secret, it is shown once): [bold]{body['token']}[/]")
    out.print(f"use it with: export PROCUREMENT_TOKEN={body['token']}", highlight=False)


@officer_app.command("show")
def officer_show(officer_id: str, api_url: ApiOption = None) -> None:
    """Who an officer is, publicly: name, agency and who registered it."""
    officer = call("GET", f"/officers/{officer_id}", api_url)
    out.print(f"[bold]{officer['name']}[/] ({officer['role']}), {officer['officer_id']}")
    out.print(f"agency: {officer['agency_name'] or ''} {officer['agency_id']}", highlight=False)
    registrar = officer["registered_by"] or "unknown (registered before registrars were recorded)"
    out.print(f"registered by: {registrar} ({officer['registered_by_role']})", highlight=False)


@tender_app.command("publish")
def tender_publish(
    file: Annotated[Path, typer.Argument(help="A JSON file with the tender (see the README).")],
    deadline: Annotated[
        str | None,
        typer.Option(
            help="Submission deadline: ISO 8601 with a time zone, or from now, like +35d."
        ),
    ] = None,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Publish a tender for your agency."""
    tender = read_json(file)
    if deadline is not None:
        tender["submission_deadline"] = _deadline(deadline)
    body = call("POST", "/tenders", api_url, token, json=tender)
    out.print(f"published [bold]{body['id']}[/]")


@tender_app.command("amend")
def tender_amend(
    ocid: str,
    reason: Annotated[str, typer.Option(help="Why the tender changes; published with it.")],
    title: Annotated[str | None, typer.Option()] = None,
    description: Annotated[str | None, typer.Option()] = None,
    deadline: Annotated[
        str | None, typer.Option(help="New submission deadline, ISO 8601 with a time zone.")
    ] = None,
    requirements: Annotated[
        Path | None, typer.Option(help="A JSON file with the new lots, CPV codes and criteria.")
    ] = None,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Amend a tender before its deadline."""
    change: dict[str, Any] = {"reason": reason, "title": title, "description": description}
    change["submission_deadline"] = deadline and _deadline(deadline)
    if requirements is not None:
        change["requirements"] = read_json(requirements)
    change = {key: value for key, value in change.items() if value is not None}
    body = call("PATCH", f"/tenders/{ocid}", api_url, token, json=change)
    out.print(f"amended {ocid}: " + ", ".join(e["type"] for e in body["events"]))


@tender_app.command("cancel")
def tender_cancel(
    ocid: str,
    reason: Annotated[str, typer.Option(help="Why the tender is cancelled; published with it.")],
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Cancel a tender."""
    call("POST", f"/tenders/{ocid}/cancellation", api_url, token, json={"reason": reason})
    out.print(f"cancelled {ocid}")


@tender_app.command("list")
def tender_list(
    status: Annotated[
        str | None, typer.Option(help="active, closed, cancelled or unsuccessful")
    ] = None,
    buyer: Annotated[str | None, typer.Option(help="A buyer's agency id.")] = None,
    cpv: Annotated[str | None, typer.Option(help="A CPV code or a prefix such as 30.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    api_url: ApiOption = None,
) -> None:
    """List published tenders, newest first."""
    query = {"status": status, "buyer": buyer, "cpv": cpv, "limit": limit}
    params = {key: value for key, value in query.items() if value is not None}
    page = call("GET", "/tenders", api_url, params=params)
    if as_json:
        show(page)
        return
    table = Table("title", "buyer", "status", "value", "deadline")
    table.add_column("ocid", no_wrap=True)
    for tender in page["items"]:
        value = tender["estimated_value"]
        table.add_row(
            tender["title"],
            tender["buyer_name"] or tender["buyer_id"],
            tender["status"],
            f"{value['amount']} {value['currency']}",
            tender["submission_deadline"],
            tender["ocid"],
        )
    out.print(table)


@tender_app.command("show")
def tender_show(ocid: str, api_url: ApiOption = None) -> None:
    """Show one tender as the public sees it."""
    show(call("GET", f"/tenders/{ocid}", api_url))


@app.command()
def savings(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    api_url: ApiOption = None,
) -> None:
    """Savings against the estimated value: totals per buyer, CPV division, procedure type
    and month, per currency."""
    from publication.savings import Summary

    answer = call("GET", "/savings", api_url)
    if as_json:
        show(answer)
        return
    if not answer["currencies"]:
        out.print("no awards yet")
    for summary in answer["currencies"].values():
        out.print("\n".join(Summary.model_validate(summary).to_text()), highlight=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
