"""Who may sit on a tender's committee: the rule that keeps one person from being a whole
committee (Directive 2014/24/EU, Annex IV (e): only authorised persons, acting together).

Each member holds one share of every bid's content key, so k members must be k people who
act on their own. An officer could otherwise register colleagues with its own token, hold
their keys and open the bids alone; so a member must have been registered by the operator or
by its agency's administrator, never by an officer, and never by the officer naming the
committee. What the candidates are is read at the edge (``app.committee_candidates``).
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from procurement.errors import Rejected
from schemas.commands import Role

MIN_THRESHOLD = 2  # one member alone must never open a bid
MAX_MEMBERS = 20  # every bid carries a sealed share per member
INDEPENDENT_REGISTRARS = frozenset({Role.OPERATOR, Role.AGENCY_ADMIN})


@dataclass(frozen=True)
class CommitteeCandidate:
    """An officer proposed for a committee, as its registration and keys record it.
    ``registered_by`` is None for registrations older than the record of who made them."""

    officer_id: str
    agency_id: str
    registered_by: str | None
    registered_by_role: Role
    has_keys: bool
    role: Role = Role.OFFICER


def check_committee(
    members: Sequence[CommitteeCandidate],
    naming_officer_id: str,
    buyer_agency_id: str,
    threshold: int,
) -> None:
    """Refuse a committee that one person could control; return if it may be named."""
    committee_size_must_allow_the_threshold(len(members), threshold)
    each_member_must_be_one_person(members)
    for member in members:
        member_must_be_an_officer_of_the_buyer(member, buyer_agency_id)
        member_must_be_registered_independently(member, naming_officer_id)
        member_must_have_committee_keys(member)


def committee_size_must_allow_the_threshold(size: int, threshold: int) -> None:
    if not MIN_THRESHOLD <= threshold <= size <= MAX_MEMBERS:
        msg = (
            f"a committee of {size} with threshold {threshold} is not allowed: "
            f"{MIN_THRESHOLD} <= threshold <= members <= {MAX_MEMBERS}"
        )
        raise Rejected(msg, code="bad_committee_size")


def each_member_must_be_one_person(members: Sequence[CommitteeCandidate]) -> None:
    twice = sorted(
        id_ for id_, seats in Counter(m.officer_id for m in members).items() if seats > 1
    )
    if twice:
        msg = f"{', '.join(twice)} named more than once: one person holds one seat"
        raise Rejected(msg, code="duplicate_member")


def member_must_be_an_officer_of_the_buyer(member: CommitteeCandidate, buyer: str) -> None:
    if member.role is not Role.OFFICER:
        msg = (
            f"{member.officer_id} is {member.role}, not an officer: only officers sit on committees"
        )
        raise Rejected(msg, code="member_not_an_officer")
    if member.agency_id != buyer:
        msg = f"{member.officer_id} is an officer of {member.agency_id}, not of the buyer {buyer}"
        raise Rejected(msg, code="member_of_another_agency")


def member_must_be_registered_independently(member: CommitteeCandidate, naming: str) -> None:
    if member.registered_by is not None and member.registered_by == naming:
        msg = f"{member.officer_id} was registered by {naming}, who names this committee"
        raise Rejected(msg, code="member_not_independent")
    if member.registered_by is None or member.registered_by_role not in INDEPENDENT_REGISTRARS:
        by = member.registered_by or "an officer before registrars were recorded"
        msg = (
            f"{member.officer_id} was registered by {by} ({member.registered_by_role}), not by "
            "the operator or its agency's administrator: ask the administrator to register it"
        )
        raise Rejected(msg, code="member_not_independent")


def member_must_have_committee_keys(member: CommitteeCandidate) -> None:
    if not member.has_keys:
        msg = f"{member.officer_id} has registered no committee keys a share can be sealed to"
        raise Rejected(msg, code="member_without_keys")
