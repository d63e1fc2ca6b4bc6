"""``procurement audit``: check a procedure, or every tender, from public data alone."""

import json
from pathlib import Path
from typing import Annotated

import typer

from entrypoints.cli.terminal import ApiOption, base_url, fail, out
from sdk.audit import DirectorySource, HttpSource, KeptReceipt, PublicSource, audit_all
from sdk.audit import audit_procedure as audit_one


def register(app: typer.Typer) -> None:
    """Adds the command to ``app``."""
    app.command(name="audit")(audit)


def audit(
    ocid: Annotated[str | None, typer.Argument(help="The procedure to audit.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Audit every tender listed.")] = False,
    api_url: ApiOption = None,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Read saved public answers here instead of the API."),
    ] = None,
    receipts: Annotated[
        Path | None,
        typer.Option("--receipts", help="A folder of bidders' signed receipts (JSON) to check."),
    ] = None,
) -> None:
    """Verify a procedure from public data alone: the platform key, the transparency log's
    signed head and every event of the procedure, the sealed bid log, the receipts given,
    and each lot's ranking and award recomputed from the published rules. Prints every
    check; exits with 1 if any fails."""
    if (ocid is None) == (not every):
        fail("name one procedure (OCID) or give --all")
    source: PublicSource = (
        DirectorySource(directory) if directory is not None else HttpSource(base_url(api_url))
    )
    if directory is not None and not directory.is_dir():
        fail(f"no such folder: {directory}")
    if receipts is not None and not receipts.is_dir():
        fail(f"no such folder: {receipts}")
    kept = kept_receipts(receipts) if receipts is not None else []
    report = audit_all(source, kept) if ocid is None else audit_one(source, ocid, kept)
    for check in report.checks:
        style = "yellow" if check.pending else "green" if check.ok else "bold red"
        out.print(f"[{style}]{check.label}[/]  {check.subject}: {check.detail}", highlight=False)
    out.print(report.summary(), highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def kept_receipts(folder: Path) -> list[KeptReceipt]:
    """Every ``*.json`` under ``folder``: a signed receipt, or a list of them; each named by
    its path under ``folder`` (every bidder's file for a tender has the same name), with
    ``#i`` for the i-th of a list."""
    kept = []
    for file in sorted(folder.rglob("*.json")):
        try:
            content = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            fail(f"{file} is not readable JSON: {error}")
        items = content if isinstance(content, list) else [content]
        name = file.relative_to(folder).as_posix()
        kept += [
            KeptReceipt(f"{name}#{i}" if len(items) > 1 else name, item)
            for i, item in enumerate(items)
        ]
    return kept
