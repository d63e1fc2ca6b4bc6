"""The officers proposed for a committee, as their own records say: who registered each and
whether it has committee keys, read from each officer's events in the caller's transaction,
for ``procurement.committee_rules.check_committee`` to decide on."""

from collections.abc import Sequence
from typing import Protocol

from bidding import suites
from procurement.committee_rules import CommitteeCandidate
from procurement.errors import Rejected
from schemas.events import CommitteeKeysRegistered, Envelope, OfficerRegistered


class ReadsAggregates(Protocol):
    """What is read: a ``StoreTransaction`` (or the memory store) will do."""

    async def load(
        self, aggregate_id: str, after: int = 0, until: int | None = None
    ) -> list[Envelope]: ...


async def committee_candidates(
    store: ReadsAggregates, officer_ids: Sequence[str]
) -> list[CommitteeCandidate]:
    """One candidate per id, in the order given (duplicates kept, for the rule to refuse).
    An id that is no registered officer is refused as ``unknown_member``."""
    loaded: dict[str, CommitteeCandidate] = {}
    for officer_id in officer_ids:
        if officer_id not in loaded:
            loaded[officer_id] = candidate_of(officer_id, await store.load(officer_id))
    return [loaded[officer_id] for officer_id in officer_ids]


def candidate_of(officer_id: str, history: Sequence[Envelope]) -> CommitteeCandidate:
    registered = next((e.event for e in history if isinstance(e.event, OfficerRegistered)), None)
    if registered is None:
        raise Rejected(f"{officer_id} is not a registered officer", code="unknown_member")
    return CommitteeCandidate(
        officer_id=officer_id,
        agency_id=registered.agency_id,
        registered_by=registered.registered_by,
        registered_by_role=registered.registered_by_role,
        # Keys recorded before registration refused unsealable ones count as none.
        has_keys=any(
            isinstance(e.event, CommitteeKeysRegistered)
            and suites.unsealable_key(e.event.encryption_key, e.event.hybrid_encryption_key) is None
            for e in history
        ),
        role=registered.role,
    )
