"""The recorded events of one procedure as OCDS 1.1 releases, records and packages.

``releases`` folds the history of one ocid (the tender, its bid log, its evaluation, its
contracts and auctions, in store order) and writes one release for each event that changes
what the public may know; the others write none. Each release is a snapshot of everything
public at its moment; merging them (``compile_record``) gives the record, and ``dumps``
writes any of them as JSON with exact amounts. The choices behind the mapping are explained
where each part lives:

- ``standard``: the schema and the platform's extensions, the version, the language, and how
  values and dates are written;
- ``registrations``: what the platform knows of a party (``PartyInfo``, ``party_info``);
- ``history``: the history folded into releases, one snapshot per public event, and which
  event types the mapping reads (``READS``, ``QUIET``);
- ``procedure``: the procedure as the releases see it, built up event by event;
- ``tendering``: the tender, its amendments, lots and items, and its main category;
- ``bidders``: when the bidders and their bids become public;
- ``awarding``: the awards and their statuses; ``contracting``: the contracts, their
  amendments and implementation, and their dates;
- ``parties``: the parties of a release and their roles;
- ``packages``: release and record packages; ``records``: the compiled record, by the OCDS
  merge rules; ``json_text``: the JSON text, each amount exact.
"""

from publication.ocds.history import QUIET, READS, releases
from publication.ocds.json_text import dumps
from publication.ocds.packages import extension_urls, record_package, release_package
from publication.ocds.records import compile_record
from publication.ocds.registrations import PartyInfo, party_info
from publication.ocds.standard import EXTENSIONS, LANGUAGE, VERSION, Release

__all__ = [
    "EXTENSIONS",
    "LANGUAGE",
    "QUIET",
    "READS",
    "VERSION",
    "PartyInfo",
    "Release",
    "compile_record",
    "dumps",
    "extension_urls",
    "party_info",
    "record_package",
    "release_package",
    "releases",
]
