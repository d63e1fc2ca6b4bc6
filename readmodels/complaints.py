"""Reading a tender's complaints and review decisions from the event store: compiled on each
read from the evaluation's public events (``publication.complaints``)."""

from typing import Any

from publication.complaints import READS, public_complaints
from schemas.remedies import PublicComplaints
from schemas.upcasting import read_envelope

_PUBLIC = """
SELECT envelope FROM events
WHERE aggregate_id = $1 AND type = ANY($2) ORDER BY sequence
"""


async def complaints(pool: Any, ocid: str) -> PublicComplaints:
    rows = await pool.fetch(_PUBLIC, f"{ocid}:evaluation", list(READS))
    return public_complaints(ocid, (read_envelope(row["envelope"]) for row in rows))
