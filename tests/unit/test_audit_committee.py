"""The audit checks each procedure's committee as a supplier's client does before sealing:
its material against the key log and its confirmations, reporting ok or FAIL with why."""

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from typer.testing import CliRunner

from bidding import keys
from entrypoints.cli.main import app
from sdk.audit.committee import check_committee
from sdk.audit.report import Check
from sdk.audit.sources import Params, RecordingSource, Unavailable
from sdk.audit.transparency import LoggedEvent
from tests.unit.test_key_checks import (
    OCID,
    KeyLogWorld,
    Member,
    b64,
    committee_answer,
    confirmation,
    members,
    refresh_digest,
    world,
)

__all__ = ["members", "world"]  # the fixtures of the key-check tests, used here too

NAMED = [LoggedEvent(1, "CommitteeNamed", None, None)]


class Published:
    """The key log's answers, and the tender's committee as ``GET /tenders/{ocid}/committee``."""

    def __init__(self, world: KeyLogWorld, committee: dict[str, Any] | None) -> None:
        self.world, self.committee = world, committee

    def get(self, path: str, params: Params | None = None) -> Any:
        if path == f"/tenders/{OCID}/committee":
            if self.committee is None:
                raise Unavailable(f"GET {path} answered 404: no committee")
            return self.committee
        return self.world.get(path, params)


def audited(world: KeyLogWorld, committee: dict[str, Any] | None, **options: Any) -> Check:
    bid_log = options.get("bid_log", NAMED)
    return check_committee(Published(world, committee), OCID, world.platform_key, bid_log)


def test_a_good_committee_passes_saying_what_verified(
    members: list[Member], world: KeyLogWorld
) -> None:
    """k of n, the suite, the confirmations and each member's logged key are named."""
    check = audited(world, committee_answer(members))
    assert check.ok, check.line
    assert check.subject == f"{OCID} committee"
    for part in ("2 of 3", "suite x25519", "3 confirmations verified", "binding signature"):
        assert part in check.detail, check.detail
    for member in members:
        assert member.officer_id in check.detail
        assert keys.key_id(member.public[1]) in check.detail
    assert "key entry 2" in check.detail


def test_a_substituted_member_key_fails(members: list[Member], world: KeyLogWorld) -> None:
    """The operator's encryption key for officer-2, even confirmed again, is not the logged one."""
    committee = committee_answer(members)
    operator = keys.raw_public(X25519PrivateKey.generate())
    committee["material"]["members"][1]["encryption_key"] = b64(operator)
    refresh_digest(committee, members)
    check = audited(world, committee)
    assert not check.ok
    assert "officer-2" in check.detail, check.detail
    assert "substituted key" in check.detail, check.detail


def test_a_missing_confirmation_fails(members: list[Member], world: KeyLogWorld) -> None:
    """One confirmation for k = 2 is not confirmed."""
    check = audited(world, committee_answer(members, confirm=1))
    assert not check.ok
    assert "1 valid confirmation" in check.detail, check.line
    assert "threshold 2" in check.detail, check.line


def test_a_confirmation_over_other_material_fails(
    members: list[Member], world: KeyLogWorld
) -> None:
    """officer-2 signed another digest: its confirmation does not count, and is named."""
    committee = committee_answer(members, confirm=1)
    committee["confirmations"].append(confirmation(members[1], "ab" * 32))
    check = audited(world, committee)
    assert not check.ok
    assert "officer-2's confirmation is not over material" in check.detail, check.line


def test_a_bid_log_without_a_committee_fails_and_no_bid_log_is_said(
    members: list[Member], world: KeyLogWorld
) -> None:
    """A tender with a bid log must serve its committee; one with no bid log has none yet."""
    check = audited(world, None)
    assert not check.ok, check.line
    assert "no committee" in check.detail, check.line
    check = audited(world, None, bid_log=None)
    assert check.ok, check.line
    assert "no bid log" in check.detail, check.line


def test_without_a_verified_platform_key_the_committee_fails(
    members: list[Member], world: KeyLogWorld
) -> None:
    """The key log proves nothing without the platform key the audit verified."""
    source = Published(world, committee_answer(members))
    check = check_committee(source, OCID, None, NAMED)
    assert not check.ok
    assert "platform key" in check.detail


def test_verify_committee_checks_a_recorded_folder_offline(
    members: list[Member], world: KeyLogWorld, tmp_path: Path
) -> None:
    """The audit's recording holds the committee and the key log: `procurement verify
    committee` passes on it, and names the member once its key log is not the one served."""
    recording = RecordingSource(Published(world, committee_answer(members)), tmp_path)
    assert audited_through(recording, world).ok
    key = b64(world.platform_key)
    args = ["verify", "committee", OCID, "--dir", str(tmp_path), "--platform-key", key]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "verified" in result.output
    assert "2 of 3" in result.output
    (tmp_path / "transparency" / "keys" / "officer-2.json").unlink()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "NOT VERIFIED" in result.output, result.output
    assert "officer-2" in result.output, result.output


def audited_through(source: RecordingSource, world: KeyLogWorld) -> Check:
    return check_committee(source, OCID, world.platform_key, NAMED)
