"""Reading a tender's complaints and review decisions from the event store: compiled on each
read from the public events of its conditions' complaints
(``publication.conditions_complaints``) and of its evaluation (``publication.complaints``)."""

from typing import Any

from procurement.conditions_complaints import complaints_id
from publication.complaints import READS, public_complaints
from publication.conditions_complaints import public_conditions_complaints
from schemas.remedies import PublicComplaints
from schemas.upcasting import read_envelope

_PUBLIC = """
SELECT envelope FROM events
WHERE aggregate_id = $1 AND type = ANY($2) ORDER BY sequence
"""
_ALL = "SELECT envelope FROM events WHERE aggregate_id = $1 ORDER BY sequence"


async def complaints(pool: Any, ocid: str) -> PublicComplaints:
    rows = await pool.fetch(_PUBLIC, f"{ocid}:evaluation", list(READS))
    about_awards = public_complaints(ocid, (read_envelope(row["envelope"]) for row in rows))
    tender = [read_envelope(row["envelope"]).event for row in await pool.fetch(_ALL, ocid)]
    rows = await pool.fetch(_ALL, complaints_id(ocid))
    about_conditions = public_conditions_complaints(
        ocid, (read_envelope(row["envelope"]) for row in rows), tender
    )
    return about_awards.model_copy(
        update={"complaints": (*about_conditions, *about_awards.complaints)}
    )
