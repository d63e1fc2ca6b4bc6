"""``procurement audit``: an outsider's verifier of every procedure, from public data alone.

It reads only public routes (or a directory of their saved answers) and the documented
formats, and recomputes each decided lot's award from the published rules. The entry points:

- ``audit_all(source, receipts=()) -> Report``: every tender listed at ``GET /tenders``;
- ``audit_procedure(source, ocid, receipts=()) -> Report``: one procedure;
- ``record(api_url, out) -> Report``: ``audit_all`` against a live API through a
  ``RecordingSource``, so that ``out`` holds exactly the answers a later
  ``procurement audit --all --dir out`` reads (file names in ``sdk.audit.sources``).

Sources: ``HttpSource(api_url)``, ``DirectorySource(dir)``, ``RecordingSource(inner, dir)``.
A ``Report`` lists every check (``ok`` with what was verified, or failed with why).
"""

from pathlib import Path

from sdk.audit.report import Check, Report
from sdk.audit.run import KeptReceipt, audit_all, audit_procedure
from sdk.audit.sources import (
    DirectorySource,
    HttpSource,
    PublicSource,
    RecordingSource,
    Unavailable,
    answer_file,
)


def record(api_url: str, out: Path) -> Report:
    """Audit every tender of the live API at ``api_url``, saving every answer under ``out``."""
    http = HttpSource(api_url)
    try:
        return audit_all(RecordingSource(http, out))
    finally:
        http.close()


__all__ = [
    "Check",
    "DirectorySource",
    "HttpSource",
    "KeptReceipt",
    "PublicSource",
    "RecordingSource",
    "Report",
    "Unavailable",
    "answer_file",
    "audit_all",
    "audit_procedure",
    "record",
]
