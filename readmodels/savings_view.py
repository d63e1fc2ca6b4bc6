"""The savings read model: one row per lot whose contract is concluded, fed by the
evaluation stream.

When an event may change which lots count (a concluded contract, or an award and what undoes
or contests it), the tender's rows are computed again from its recorded tender
and evaluation (``publication.savings.awarded_lots``) and replace the old ones, so that
redelivered or repaired events leave the same rows. ``GET /savings`` sums these rows.
"""

from collections.abc import Sequence
from typing import Any

from adapters.postgres import eventstore
from procurement import evaluation, tender
from publication import savings
from schemas.evaluation import EVALUATION_EVENTS
from schemas.events import Envelope

# The evaluation events after which a tender's awarded lots may differ: the public ones, an
# award and what undoes or contests it. The savings are public figures made from public facts.
CHANGES = frozenset(cls.__name__ for cls in EVALUATION_EVENTS if cls.public)


async def apply(connection: Any, envelopes: Sequence[Envelope]) -> None:
    changed = sorted(
        {
            item.aggregate_id.removesuffix(":evaluation")
            for item in envelopes
            if item.type in CHANGES
        }
    )
    for ocid in changed:
        published = tender.replay([e.event for e in await eventstore.load(connection, ocid)])
        evaluated = evaluation.replay(
            e.event for e in await eventstore.load(connection, evaluation.evaluation_id(ocid))
        )
        lots = (
            savings.awarded_lots(published, evaluated)
            if published is not None and evaluated is not None
            else []
        )
        await connection.execute("DELETE FROM lot_savings WHERE ocid = $1", ocid)
        await connection.executemany(
            "INSERT INTO lot_savings (ocid, lot_id, buyer_id, currency, lot) VALUES ($1, $2, $3, $4, $5)",
            [
                (lot.ocid, lot.lot_id, lot.buyer_id, lot.currency, lot.model_dump(mode="json"))
                for lot in lots
            ],
        )


async def awarded_lots(pool: Any) -> list[savings.AwardedLot]:
    rows = await pool.fetch("SELECT lot FROM lot_savings ORDER BY ocid, lot_id")
    return [savings.AwardedLot.model_validate(row["lot"]) for row in rows]
