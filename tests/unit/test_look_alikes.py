"""A party cannot register under a spelling that reads as another's: names take one Unicode
form, identifiers refuse invisible characters and mixed-script look-alikes, and an
identifier that reads as one already registered is refused."""

import pytest
from hypothesis import given
from pydantic import ValidationError

from procurement import parties
from procurement.errors import WrongState
from schemas.commands import Actor, RegisterAgency, RegisterOfficer, RegisterSupplier, Role
from tests.strategies import identifiers

OPERATOR = Actor(id="operator", role=Role.OPERATOR)
REGISTERED = "RO-CUI-4305857"
KEY = "A" * 43 + "="
PROOF = "A" * 86 + "=="
FULLWIDTH = "RO-CUI-" + "".join(chr(ord(digit) + 0xFEE0) for digit in "4305857")


def agency(identifier: str = REGISTERED, name: str = "Primăria Cluj-Napoca") -> RegisterAgency:
    return RegisterAgency(name=name, identifier=identifier)


def supplier(identifier: str) -> RegisterSupplier:
    return RegisterSupplier.model_validate(
        {
            "name": "Hârtia Nouă SRL",
            "identifier": identifier,
            "is_sme": True,
            "email": "oferte@hartia.ro",
            "signing_key": KEY,
            "proof": PROOF,
        }
    )


def test_a_name_takes_its_nfkc_form() -> None:
    """Fullwidth letters and ligatures in a name are stored in their ordinary form."""
    assert agency(name="\uff30rimăria \ufb01nanțe").name == "Primăria finanțe"
    officer = RegisterOfficer(agency_id="agency-x", name="\uff21na Pop", email="ana@example.ro")
    assert officer.name == "Ana Pop"


@pytest.mark.parametrize(
    ("identifier", "reason"),
    [
        pytest.param("RO-CUI-430\u200d5857", "U+200D", id="zero-width joiner"),
        pytest.param("RO-CUI-430\u200c5857", "U+200C", id="zero-width non-joiner"),
        pytest.param(FULLWIDTH, "write it as 'RO-CUI-4305857'", id="fullwidth digits"),
        pytest.param("RO-CUI-43\u041e5857", "mixes scripts", id="Cyrillic O among Latin"),
        pytest.param("RO-CUI-\u0410\u0412C", "mixes scripts", id="Cyrillic A and B"),
    ],
)
def test_an_identifier_with_another_spelling_is_refused(identifier: str, reason: str) -> None:
    """Invisible characters, compatibility forms and mixed-script look-alikes are refused
    for agencies and suppliers alike, saying what is wrong."""
    for register in (agency, supplier):
        with pytest.raises(ValidationError, match="identifier") as refused:
            register(identifier)
        assert reason in str(refused.value)


@pytest.mark.parametrize("name", ["Primăria\u200b Cluj", "Ana\u2060Pop", "\u202eaniramirP"])
def test_a_name_with_an_invisible_character_is_refused(name: str) -> None:
    """Zero-width spaces, word joiners and direction overrides do not hide in a name."""
    with pytest.raises(ValidationError, match="invisible"):
        agency(name=name)


@pytest.mark.parametrize(
    "look_alike",
    ["ro-cui-4305857", "RO-CUI-43O5857", "RO-CUl-4305857", "R0-CUI-4305857", "RO-CUI-43o5857"],
)
def test_look_alike_identifiers_share_a_skeleton(look_alike: str) -> None:
    """Case, O for 0 and l or I for 1 do not make a new identifier."""
    assert parties.skeleton(look_alike) == parties.skeleton(REGISTERED)


@pytest.mark.parametrize("other", ["RO-CUI-4305858", "RO-CUI-4365857", "RO-CUI-430585"])
def test_different_identifiers_keep_different_skeletons(other: str) -> None:
    """Another digit is another company: the skeleton folds look-alikes, not differences."""
    assert parties.skeleton(other) != parties.skeleton(REGISTERED)


@given(identifier=identifiers())
def test_the_skeleton_of_a_skeleton_is_itself(identifier: str) -> None:
    """Folding twice changes nothing, so a stored skeleton compares with a new one."""
    assert parties.skeleton(parties.skeleton(identifier)) == parties.skeleton(identifier)


def test_an_agency_that_reads_as_a_registered_one_is_refused() -> None:
    """The operator cannot register RO-CUI-43O5857 beside RO-CUI-4305857 by mistake: 409,
    naming the registered identifier."""
    with pytest.raises(WrongState, match=f"cannot be told apart from {REGISTERED}") as refused:
        parties.register_agency(None, agency("RO-CUI-43O5857"), OPERATOR, look_alike=REGISTERED)
    assert refused.value.code == "look_alike_identifier"


def test_a_supplier_that_reads_as_a_registered_one_is_refused() -> None:
    """A supplier registering a look-alike of another's identifier is refused with 409."""
    with pytest.raises(WrongState, match="ask the platform operator"):
        parties.register_supplier(False, supplier("ro-cui-4305857"), True, look_alike=REGISTERED)


def test_an_identifier_that_reads_only_as_itself_is_registered() -> None:
    """The skeleton's own identifier, or none, is no look-alike."""
    events = parties.register_agency(None, agency(), OPERATOR, look_alike=None)
    assert [type(e).__name__ for e in events] == ["AgencyRegistered"]
    events = parties.register_supplier(False, supplier("RO-CUI-1"), True, look_alike="RO-CUI-1")
    assert [type(e).__name__ for e in events] == ["SupplierRegistered"]
