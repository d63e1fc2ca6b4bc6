"""When a bearer token stops naming its actor, and how long tokens live by default."""

from datetime import UTC, datetime, timedelta

from adapters.postgres.credentials import Credential
from adapters.settings import Settings
from schemas.commands import Actor, Role

SUPPLIER = Actor(id="supplier-1", role=Role.SUPPLIER)
NOON = datetime(2027, 3, 1, 12, tzinfo=UTC)


def test_a_token_names_its_actor_until_the_moment_it_expires() -> None:
    """A token is good one microsecond before its expiry and refused, as expired, at it."""
    credential = Credential(SUPPLIER, expires_at=NOON, revoked=False)
    assert credential.refusal(NOON - timedelta(microseconds=1)) is None
    refusal = credential.refusal(NOON)
    assert refusal is not None
    assert "expired at 2027-03-01T12:00:00+00:00" in refusal


def test_a_revoked_token_is_refused_as_revoked_even_before_it_expires() -> None:
    """Revocation wins over a lifetime that has not run out."""
    credential = Credential(SUPPLIER, expires_at=NOON, revoked=True)
    assert credential.refusal(NOON - timedelta(days=1)) == "the bearer token was revoked"


def test_tokens_live_ninety_days_unless_configured() -> None:
    """PROCUREMENT_TOKEN_LIFETIME sets the lifetime of issued tokens; 90 days otherwise."""
    assert Settings.from_env({}).token_lifetime == timedelta(days=90)
    configured = Settings.from_env({"PROCUREMENT_TOKEN_LIFETIME": "12h"})
    assert configured.token_lifetime == timedelta(hours=12)
