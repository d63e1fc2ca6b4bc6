"""``procurement officer keys-check``: a committee member checks the key log for its own
entries, so that a key written in its name by anyone else is seen by the one it impersonates.

Every entry the log holds for the member must be included under a head signed by the
platform key pinned on first use (beside the key file), and hold only keys the member's key
file holds; any other key is reported as substituted, with exit status 1.
"""

from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bidding import keys
from entrypoints.cli.terminal import ApiOption, base_url, err, fail, load_key_file, out
from sdk import key_checks
from sdk.audit.sources import HttpSource
from sdk.key_checks import KeyCheckFailed, KeyEntry
from sdk.keyfiles import KeyFile


def register(officer_app: typer.Typer) -> None:
    """Adds the command to ``officer_app``."""
    officer_app.command("keys-check")(keys_check)


def keys_check(
    key_path: Annotated[
        Path, typer.Option("--keys", help="Your key file (it never leaves this machine).")
    ] = Path("committee-keys.json"),
    api_url: ApiOption = None,
) -> None:
    """Check that every key the public key log holds for you is one your key file holds."""
    key_file = load_key_file(key_path)
    if key_file.party_id is None:
        fail(f"{key_path} names no officer: register your keys with `procurement officer keys`")
    officer_id = str(key_file.party_id)
    held = held_public_keys(key_file)
    source = HttpSource(base_url(api_url))
    try:
        served = key_checks.served_platform_key(source)
        pinned = key_checks.pin_platform_key(key_checks.platform_key_file(key_path), served)
        out.print(f"ok   platform key {keys.key_id(pinned)} (pinned beside {key_path})")
        logged = key_checks.party_key_log(source, officer_id, pinned)
    except KeyCheckFailed as error:
        fail(f"FAIL {error}")
    finally:
        source.close()
    if not logged:
        fail(f"FAIL the key log holds no key entry for {officer_id}: register your keys first")
    substituted = [problem for entry in logged for problem in _foreign_keys(entry, held)]
    for entry in logged:
        if not any(entry.where in problem for problem in substituted):
            out.print(f"ok   {entry.where}: included under the signed head, every key yours")
    for problem in substituted:
        err.print(f"[bold red]FAIL[/] {problem}", highlight=False)
    if substituted:
        raise typer.Exit(1)
    out.print(f"[bold green]verified[/]: the key log holds only your own keys for {officer_id}")


def _foreign_keys(entry: KeyEntry, held: set[bytes]) -> list[str]:
    return [
        f"{entry.where}: {name} {keys.key_id(key)} is not a key your key file holds:"
        " a substituted key, written in your name by someone else"
        for name, key in entry.public_keys().items()
        if key not in held
    ]


def held_public_keys(key_file: KeyFile) -> set[bytes]:
    """The public half of every private key in the key file (raw bytes), and each suite's
    public key of a member's key file that gives them by suite."""
    private = (
        [getattr(key_file, f.name) for f in fields(key_file)] if is_dataclass(key_file) else []
    )
    held = {raw for key in private if (raw := _raw_public(key)) is not None}
    return held | _suite_keys(key_file)


def _suite_keys(key_file: Any) -> set[bytes]:
    member_keys = getattr(key_file, "member_keys", None)
    if not callable(member_keys):
        return set()
    found = set()
    for suite in key_checks.SUITE_KEY_SIZES:
        try:
            found.add(bytes(member_keys().public(suite)))
        except Exception:  # a suite this key file has no key for (its own error type)
            continue
    return found


def _raw_public(key: Any) -> bytes | None:
    public = getattr(key, "public_key", None)
    if not callable(public):
        return None
    half = public()
    if hasattr(half, "public_bytes_raw"):
        return bytes(half.public_bytes_raw())
    try:
        return bytes(half.public_bytes(Encoding.Raw, PublicFormat.Raw))
    except (AttributeError, TypeError, ValueError):
        return None
