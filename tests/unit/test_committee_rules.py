"""A committee is independent: distinct officers of the buyer, each registered by the operator
or the agency's administrator (never by the officer who names the committee), each with
committee keys, and a threshold of at least two of at most twenty members."""

from dataclasses import replace

import pytest

from procurement.committee_rules import MAX_MEMBERS, CommitteeCandidate, check_committee
from procurement.errors import Rejected
from schemas.commands import Role

BUYER = "agency-RO-CUI-4305857"
NAMER = "officer-namer"
ADMIN = "officer-admin"


def candidate(n: int, **changes: object) -> CommitteeCandidate:
    member = CommitteeCandidate(
        officer_id=f"officer-{n}",
        agency_id=BUYER,
        registered_by=ADMIN,
        registered_by_role=Role.AGENCY_ADMIN,
        has_keys=True,
    )
    return replace(member, **changes)  # type: ignore[arg-type]  # the test's own fields


def committee(size: int = 3) -> list[CommitteeCandidate]:
    return [candidate(n) for n in range(size)]


def refused(members: list[CommitteeCandidate], threshold: int = 2) -> str:
    with pytest.raises(Rejected) as refusal:
        check_committee(members, NAMER, BUYER, threshold)
    assert refusal.value.status == 422
    return refusal.value.code


def test_an_independent_committee_passes() -> None:
    """Three officers of the buyer registered by its administrator, 2 of 3, may sit."""
    check_committee(committee(3), NAMER, BUYER, 2)


def test_members_registered_by_the_operator_are_independent() -> None:
    """The operator registers officers too, and they may sit."""
    members = [
        candidate(n, registered_by="operator", registered_by_role=Role.OPERATOR) for n in (1, 2)
    ]
    check_committee(members, NAMER, BUYER, 2)


def test_the_naming_officer_may_sit_itself() -> None:
    """The naming officer may be one seat, provided someone independent registered it."""
    check_committee([candidate(0, officer_id=NAMER), candidate(1)], NAMER, BUYER, 2)


def test_one_person_cannot_hold_two_seats() -> None:
    """The same officer named twice is refused: one person would count as two members."""
    assert refused([candidate(1), candidate(2), candidate(1)]) == "duplicate_member"


def test_a_member_of_another_agency_is_refused() -> None:
    """Members are the buyer's own officers."""
    members = [candidate(1), candidate(2, agency_id="agency-RO-CUI-1")]
    assert refused(members) == "member_of_another_agency"


@pytest.mark.parametrize("role", [Role.OFFICER, Role.REVIEWER])
def test_a_member_registered_by_an_officer_is_not_independent(role: Role) -> None:
    """A colleague added by an officer (what older registrations read as) cannot sit: the
    officer may hold its token, a sock puppet."""
    members = [candidate(1), candidate(2, registered_by="officer-x", registered_by_role=role)]
    assert refused(members) == "member_not_independent"


def test_a_member_of_unknown_registrar_is_not_independent() -> None:
    """A registration from before registrars were recorded names nobody: it cannot sit."""
    members = [candidate(1), candidate(2, registered_by=None, registered_by_role=Role.OFFICER)]
    assert refused(members) == "member_not_independent"


def test_a_member_registered_by_the_naming_officer_is_not_independent() -> None:
    """Whatever its role was, the naming officer may not seat someone it registered."""
    members = [candidate(1), candidate(2, registered_by=NAMER, registered_by_role=Role.OPERATOR)]
    assert refused(members) == "member_not_independent"


def test_a_member_without_keys_is_refused() -> None:
    """Shares are sealed to a member's committee keys: without them it cannot open anything."""
    assert refused([candidate(1), candidate(2, has_keys=False)]) == "member_without_keys"


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.AGENCY_ADMIN, Role.SUPPLIER])
def test_only_officers_sit_on_a_committee(role: Role) -> None:
    """A reviewer rules on complaints, an administrator registers people: neither evaluates."""
    assert refused([candidate(1), candidate(2, role=role)]) == "member_not_an_officer"


@pytest.mark.parametrize(("size", "threshold"), [(0, 2), (1, 1), (2, 1), (3, 4), (3, 0)])
def test_a_threshold_outside_two_to_n_is_refused(size: int, threshold: int) -> None:
    """No single member opens alone, and k members must exist: 2 <= k <= n."""
    assert refused(committee(size), threshold) == "bad_committee_size"


def test_a_committee_of_more_than_twenty_is_refused() -> None:
    """Each bid carries a share per member: twenty bounds its size."""
    check_committee(committee(MAX_MEMBERS), NAMER, BUYER, 2)
    assert refused(committee(MAX_MEMBERS + 1)) == "bad_committee_size"
