"""The tender's procurement documents: what the buyer publishes for anyone to download.

The bytes are kept by a document store (``adapters.document_store``); the event records
what anyone needs to check them: the SHA-256, the size, the media type and a safe file name.
"""

import hashlib
import re
import unicodedata
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, computed_field

from schemas.base import TenderEvent
from schemas.bids import Sha256Hex
from schemas.commands import Command
from schemas.text import OneLine
from schemas.values import Identifier, Text, Title

MAX_FILE_NAME_CHARS = 120
MAX_DOCUMENTS = 100  # per tender
MAX_VERSIONS = 50  # per document
LARGEST = 2**40  # bytes: a bound for the schema; the upload limit is a setting, far lower

# Anything but letters, digits, and a few harmless marks becomes "_": no path separator,
# no quote to break out of a header, no shell or HTML metacharacter.
_UNSAFE = re.compile(r"[^\w .()+-]")
_RUNS = re.compile(r"_{2,}")


def safe_file_name(raw: str) -> str:
    """A file name that is safe on every disk and in a ``Content-Disposition`` header:
    the last path component only, NFKC, no control or format character, no leading dot
    (never hidden, never ``..``), at most ``MAX_FILE_NAME_CHARS``; ``document`` if nothing
    is left."""
    name = unicodedata.normalize("NFKC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _RUNS.sub("_", _UNSAFE.sub("_", name)).strip(" ._")
    if len(name) > MAX_FILE_NAME_CHARS:
        _, dot, suffix = name.rpartition(".")
        keep = suffix if dot and len(suffix) <= 10 else ""
        name = name[: MAX_FILE_NAME_CHARS - len(keep) - 1].rstrip(" ._") + (
            "." + keep if keep else ""
        )
    return name or "document"


def _is_safe(name: str) -> str:
    if safe_file_name(name) != name:
        msg = f"{name!r} is not a safe file name; send it as {safe_file_name(name)!r}"
        raise ValueError(msg)
    return name


# The edge sanitises what an uploader sends (``safe_file_name``); a message holds only the result.
FileName = Annotated[
    str, Field(min_length=1, max_length=MAX_FILE_NAME_CHARS), OneLine, AfterValidator(_is_safe)
]
# As the uploader declared it, without parameters: recorded, but a download is served as
# it only if it is on the allow-list of the download route.
MediaType = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$",
        max_length=129,
    ),
]


class DocumentType(StrEnum):
    """Of the OCDS ``documentType`` codelist, those a tender's documents are."""

    TENDER_NOTICE = "tenderNotice"
    BIDDING_DOCUMENTS = "biddingDocuments"
    TECHNICAL_SPECIFICATIONS = "technicalSpecifications"
    EVALUATION_CRITERIA = "evaluationCriteria"
    ELIGIBILITY_CRITERIA = "eligibilityCriteria"
    CONTRACT_DRAFT = "contractDraft"
    BILL_OF_QUANTITY = "billOfQuantity"
    CLARIFICATIONS = "clarifications"


class DocumentFile(Command):
    """What an upload holds besides its bytes, as the route reads it."""

    title: Title
    document_type: DocumentType = DocumentType.BIDDING_DOCUMENTS
    file_name: FileName
    # True when the document changes what is bought or how the award is decided: a
    # significant amendment, whose deadline rule applies (procurement.tender).
    changes_requirements: bool = False
    reason: Text | None = None  # why; required for a new version


class PublishDocument(DocumentFile):
    """Publish a document of the tender, or with ``document_id`` a new version of one.

    ``content`` is the bytes, kept by the handler only once the rules accept the upload; it
    is left out of the command's JSON (its digest is in it)."""

    ocid: Identifier
    document_id: Identifier | None = None
    media_type: MediaType
    content: Annotated[bytes, Field(min_length=1, max_length=LARGEST, exclude=True, repr=False)]

    # In the command's JSON: an Idempotency-Key reused for other bytes is refused.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class TenderDocumentPublished(TenderEvent):
    """A version of a procurement document; a version after the first is an amendment."""

    public = True
    type: Literal["TenderDocumentPublished"] = "TenderDocumentPublished"
    document_id: Identifier
    version: Annotated[int, Field(ge=1, le=MAX_VERSIONS)]
    title: Title
    document_type: DocumentType
    file_name: FileName
    media_type: MediaType
    size: Annotated[int, Field(ge=1, le=LARGEST)]
    sha256: Sha256Hex
    changes_requirements: bool
    reason: Text | None = None

    @property
    def is_amendment(self) -> bool:
        return self.version > 1 or self.changes_requirements
