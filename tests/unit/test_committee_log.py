"""Naming a tender's committee, its members confirming the key material, and bids waiting
until k members confirmed."""

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import committee_log, committee_material, keys, suites
from bidding.committee_log import Committee, RegisteredKeys
from procurement.committee_rules import CommitteeCandidate
from procurement.errors import NotAllowed, Rejected, WrongState
from schemas.commands import Actor, Role
from schemas.committee import NameCommittee
from tests.unit.examples import BUYER, DEADLINE, NOW, OCID, OFFICER, published

MEMBERS = ("officer-b", "officer-c", "officer-d")
SIGNING = {officer: Ed25519PrivateKey.generate() for officer in MEMBERS}
ENCRYPTION = {officer: suites.MemberPrivateKeys.generate() for officer in MEMBERS}
REGISTERED = {
    officer: RegisteredKeys(
        x25519=ENCRYPTION[officer].public("x25519"),
        hybrid=ENCRYPTION[officer].public("mlkem768-x25519"),
        signing=keys.raw_public(SIGNING[officer]),
    )
    for officer in MEMBERS
}


def Candidate(officer_id: str, agency_id: str) -> CommitteeCandidate:
    """An officer the operator registered, with committee keys."""
    return CommitteeCandidate(officer_id, agency_id, "operator", Role.OPERATOR, has_keys=True)


CANDIDATES = [Candidate(officer, BUYER) for officer in MEMBERS]


def member(officer: str) -> Actor:
    return Actor(id=officer, role=Role.OFFICER, agency_id=BUYER)


def named(suite: str = "x25519", threshold: int = 2) -> Committee:
    command = NameCommittee(ocid=OCID, members=list(MEMBERS), threshold=threshold, suite=suite)
    [event] = committee_log.name_committee(
        published(), command, OFFICER, NOW, CANDIDATES, REGISTERED, None
    )
    return Committee(event.material)


@pytest.mark.parametrize("suite", ["x25519", "mlkem768-x25519"])
def test_the_buyers_officer_names_a_committee_with_the_members_registered_keys(suite: str) -> None:
    committee = named(suite)
    material = committee.material
    assert material.suite == suite
    assert [m.officer_id for m in material.members] == list(MEMBERS)
    assert [bytes(m.encryption_key) for m in material.members] == [
        ENCRYPTION[o].public(suite) for o in MEMBERS
    ]
    assert not committee.is_confirmed


def test_no_committee_without_each_members_key_of_the_suite() -> None:
    without_hybrid = {
        **REGISTERED,
        "officer-c": RegisteredKeys(
            REGISTERED["officer-c"].x25519, None, REGISTERED["officer-c"].signing
        ),
    }
    command = NameCommittee(ocid=OCID, members=list(MEMBERS), threshold=2, suite="mlkem768-x25519")
    with pytest.raises(Rejected, match="officer-c has registered no mlkem768-x25519 key"):
        committee_log.name_committee(
            published(), command, OFFICER, NOW, CANDIDATES, without_hybrid, None
        )


@pytest.mark.parametrize(
    ("candidates", "threshold", "code"),
    [
        ([Candidate("officer-b", BUYER), Candidate("officer-b", BUYER)], 2, "duplicate_member"),
        (
            [Candidate("officer-b", BUYER), Candidate("officer-x", "agency-RO-CUI-1")],
            2,
            "member_of_another_agency",
        ),
        (
            [
                Candidate("officer-b", BUYER),
                CommitteeCandidate("officer-c", BUYER, OFFICER.id, Role.OFFICER, has_keys=True),
            ],
            2,
            "member_not_independent",
        ),
        (CANDIDATES, 1, "bad_committee_size"),
        (CANDIDATES, 4, "bad_committee_size"),
    ],
)
def test_a_committee_one_person_could_control_is_refused(
    candidates: list[CommitteeCandidate], threshold: int, code: str
) -> None:
    ids = [c.officer_id for c in candidates]
    command = NameCommittee.model_construct(
        ocid=OCID, members=ids, threshold=threshold, suite="x25519"
    )
    with pytest.raises(Rejected) as refused:
        committee_log.name_committee(
            published(), command, OFFICER, NOW, candidates, REGISTERED, None
        )
    assert refused.value.code == code


def test_only_the_buyers_officer_names_it_once_before_the_deadline() -> None:
    command = NameCommittee(ocid=OCID, members=list(MEMBERS), threshold=2)
    other = Actor(id="officer-z", role=Role.OFFICER, agency_id="agency-RO-CUI-1")
    with pytest.raises(NotAllowed):
        committee_log.name_committee(published(), command, other, NOW, CANDIDATES, REGISTERED, None)
    with pytest.raises(WrongState, match="already has its committee"):
        committee_log.name_committee(
            published(), command, OFFICER, NOW, CANDIDATES, REGISTERED, named()
        )
    with pytest.raises(WrongState, match="too late"):
        committee_log.name_committee(
            published(),
            command,
            OFFICER,
            DEADLINE + timedelta(seconds=1),
            CANDIDATES,
            REGISTERED,
            None,
        )


def test_bids_wait_until_k_members_confirmed_and_each_confirms_only_its_own_seat() -> None:
    committee = named()
    with pytest.raises(WrongState) as waiting:
        committee_log.committee_must_be_confirmed(committee, OCID)
    assert waiting.value.code == "committee_not_confirmed"
    mine = committee_material.confirm(committee.material, "officer-b", SIGNING["officer-b"])
    with pytest.raises(NotAllowed):
        committee_log.confirm_committee(committee, mine, member("officer-c"), OCID)
    forged = committee_material.confirm(committee.material, "officer-c", SIGNING["officer-b"])
    with pytest.raises(Rejected, match="not officer-c's signature"):
        committee_log.confirm_committee(committee, forged, member("officer-c"), OCID)
    [event] = committee_log.confirm_committee(committee, mine, member("officer-b"), OCID)
    committee = committee.with_confirmation(event.confirmation)
    with pytest.raises(WrongState, match="already confirmed"):
        committee_log.confirm_committee(committee, mine, member("officer-b"), OCID)
    with pytest.raises(WrongState, match="confirmed by 1 of the 2"):
        committee_log.committee_must_be_confirmed(committee, OCID)
    theirs = committee_material.confirm(committee.material, "officer-d", SIGNING["officer-d"])
    [event] = committee_log.confirm_committee(committee, theirs, member("officer-d"), OCID)
    committee = committee.with_confirmation(event.confirmation)
    assert committee_log.committee_must_be_confirmed(committee, OCID) is committee
