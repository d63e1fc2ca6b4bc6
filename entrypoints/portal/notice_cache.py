"""Rendered tender pages kept in memory, each for as long as what it shows is unchanged.

A page is kept with the fingerprint of what it showed (``portal_reads.TenderActivity``),
read on every view in the same round trip as the page's own reads; a kept page whose
fingerprint still matches is served as it is, which spares the other reads and the
rendering. Pages are kept within a budget of bytes: a tender with a long timeline makes a
large page, and a count of pages would not bound the memory they take.
"""

from entrypoints.http.byte_cache import ByteBudgetCache

BUDGET = 64 * 1024 * 1024  # bytes of the most recently viewed tender pages


class NoticeCache:
    def __init__(self, budget: int = BUDGET) -> None:
        self._kept: ByteBudgetCache[tuple[str, bytes]] = ByteBudgetCache(budget)

    def __len__(self) -> int:
        return len(self._kept)

    def kept(self, ocid: str, fingerprint: str) -> bytes | None:
        found = self._kept.get(ocid)
        if found is None or found[0] != fingerprint:
            return None
        return found[1]

    def keep(self, ocid: str, fingerprint: str, page: bytes) -> None:
        """Keep the page rendered from reads made after this fingerprint was read: a change
        committed meanwhile gives the next view another fingerprint, and a new page."""
        self._kept.put(ocid, (fingerprint, page), len(fingerprint) + len(page))
