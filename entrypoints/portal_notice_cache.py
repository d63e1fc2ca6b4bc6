"""Rendered tender pages kept in memory, each for as long as what it shows is unchanged.

A page is kept with the fingerprint of what it showed (``portal_reads.TenderActivity``),
read on every view in the same round trip as the page's own reads; a kept page whose
fingerprint still matches is served as it is, which spares the other reads and the
rendering.
"""

from collections import OrderedDict

PAGES = 1024  # the most recently viewed tender pages are kept


class NoticeCache:
    def __init__(self, pages: int = PAGES) -> None:
        self.pages = pages
        self._kept: OrderedDict[str, tuple[str, bytes]] = OrderedDict()

    def kept(self, ocid: str, fingerprint: str) -> bytes | None:
        found = self._kept.get(ocid)
        if found is None or found[0] != fingerprint:
            return None
        self._kept.move_to_end(ocid)
        return found[1]

    def keep(self, ocid: str, fingerprint: str, page: bytes) -> None:
        """Keep the page rendered from reads made after this fingerprint was read: a change
        committed meanwhile gives the next view another fingerprint, and a new page."""
        self._kept[ocid] = (fingerprint, page)
        self._kept.move_to_end(ocid)
        if len(self._kept) > self.pages:
            self._kept.popitem(last=False)
