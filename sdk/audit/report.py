"""What the audit found: one line per check, each ``ok`` with what it verified or failed
with why. No check raises: a check that cannot run for want of data fails and names it."""

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    subject: str  # what was checked: "ocds-1 lot-1: ranking"
    ok: bool
    detail: str  # what was verified, or why it failed

    @property
    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.subject}: {self.detail}"


def passed(subject: str, detail: str) -> Check:
    return Check(subject, True, detail)


def failed(subject: str, detail: str) -> Check:
    return Check(subject, False, detail)


def outcome(subject: str, problems: Iterable[str], verified: str) -> Check:
    """Failed with every problem found, joined; otherwise ok with what was verified."""
    found = list(problems)
    return failed(subject, "; ".join(found)) if found else passed(subject, verified)


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, *checks: Check) -> None:
        self.checks.extend(checks)

    def extend(self, checks: Iterable[Check]) -> None:
        self.checks.extend(checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.ok]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and not self.failures

    def summary(self) -> str:
        failing = len(self.failures)
        verdict = "all verified" if self.ok else f"{failing} failed"
        if not self.checks:
            verdict = "nothing was checked"
        return f"{len(self.checks)} checks, {verdict}"
