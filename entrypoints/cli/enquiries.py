"""``procurement tender document|documents|download|ask|answer|enquiries``: a tender's
procurement documents and its questions, from a terminal. A download is checked against the
SHA-256 the platform published before it is written."""

import hashlib
import mimetypes
from pathlib import Path
from typing import Annotated

import httpx
import typer

from entrypoints.cli.terminal import ApiOption, TokenOption, base_url, call, fail, out, show


def register(tender_app: typer.Typer) -> None:
    for name, command in (
        ("document", tender_document),
        ("documents", tender_documents),
        ("download", tender_download),
        ("ask", tender_ask),
        ("answer", tender_answer),
        ("enquiries", tender_enquiries),
    ):
        tender_app.command(name)(command)


def tender_document(
    ocid: str,
    file: Annotated[Path, typer.Argument(help="The document to publish.")],
    title: Annotated[str, typer.Option(help="The document's title.")],
    document_id: Annotated[
        str | None, typer.Option(help="Publish a new version of this document.")
    ] = None,
    document_type: Annotated[str, typer.Option(help="OCDS documentType.")] = "biddingDocuments",
    reason: Annotated[str | None, typer.Option(help="Why; required for a new version.")] = None,
    changes_requirements: Annotated[
        bool, typer.Option(help="A significant change: the deadline leaves the rules' period.")
    ] = False,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Publish a procurement document of your agency's tender, or a new version of one."""
    params = {
        "title": title,
        "file_name": file.name,
        "document_type": document_type,
        "changes_requirements": str(changes_requirements).lower(),
    } | ({"reason": reason} if reason else {})
    media_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    path = f"/tenders/{ocid}/documents" + (f"/{document_id}" if document_id else "")
    headers = {"Content-Type": media_type}
    show(
        call(
            "POST", path, api_url, token, params=params, content=file.read_bytes(), headers=headers
        )
    )


def tender_documents(ocid: str, api_url: ApiOption = None) -> None:
    """List a tender's documents, every version with its SHA-256."""
    show(call("GET", f"/tenders/{ocid}/documents", api_url))


def tender_download(
    ocid: str,
    document_id: str,
    to: Annotated[Path, typer.Option("--to", help="Where to write the document.")],
    version: Annotated[int | None, typer.Option(help="A version; the latest by default.")] = None,
    api_url: ApiOption = None,
) -> None:
    """Download a document and check it against the SHA-256 the platform published."""
    listed = call("GET", f"/tenders/{ocid}/documents", api_url)["documents"]
    versions = next((d["versions"] for d in listed if d["id"] == document_id), None)
    if not versions:
        fail(f"tender {ocid} has no document {document_id}")
    chosen = (
        versions[-1]
        if version is None
        else next((v for v in versions if v["version"] == version), None)
    )
    if chosen is None:
        fail(f"document {document_id} has no version {version}")
    response = httpx.get(base_url(api_url) + chosen["url"], timeout=60)
    if response.status_code != 200:
        fail(f"{response.status_code} downloading {chosen['url']}")
    if hashlib.sha256(response.content).hexdigest() != chosen["sha256"]:
        fail(f"the bytes downloaded are not those published (SHA-256 {chosen['sha256']})")
    to.write_bytes(response.content)
    out.print(f"{to}: version {chosen['version']}, SHA-256 {chosen['sha256']} checked")


def tender_ask(
    ocid: str,
    title: Annotated[str, typer.Option(help="The question in a line.")],
    question: Annotated[str, typer.Option(help="The question; published without your name.")],
    lot: Annotated[str | None, typer.Option(help="The lot it is about.")] = None,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Ask the buyer a question in the enquiry period (a registered supplier)."""
    body = {"title": title, "description": question} | ({"related_lot": lot} if lot else {})
    show(call("POST", f"/tenders/{ocid}/enquiries", api_url, token, json=body))


def tender_answer(
    ocid: str,
    enquiry_id: str,
    answer: Annotated[str, typer.Option(help="The answer, published with the question.")],
    document_id: Annotated[
        str | None, typer.Option(help="The document whose new version the answer made.")
    ] = None,
    api_url: ApiOption = None,
    token: TokenOption = None,
) -> None:
    """Answer a question about your agency's tender."""
    body = {"answer": answer} | (
        {"changes_documents": True, "document_id": document_id} if document_id else {}
    )
    show(call("POST", f"/tenders/{ocid}/enquiries/{enquiry_id}/answer", api_url, token, json=body))


def tender_enquiries(ocid: str, api_url: ApiOption = None) -> None:
    """The questions and answers of a tender, and when questions close."""
    show(call("GET", f"/tenders/{ocid}/enquiries", api_url))
