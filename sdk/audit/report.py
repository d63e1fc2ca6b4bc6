"""What the audit found: one line per check, each ``ok`` with what it verified or failed
with why. No check raises: a check that cannot run for want of data fails and names it.

A check the publication rules do not allow yet (a lot decided while another lot of the same
evaluation is not, whose events are served only once every lot is decided) is ``pending``,
with the condition that will allow it: neither verified nor failed, and said so."""

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    subject: str  # what was checked: "ocds-1 lot-1: ranking"
    ok: bool
    detail: str  # what was verified, why it failed, or what it waits for
    pending: bool = False

    @property
    def label(self) -> str:
        return "wait" if self.pending else "ok  " if self.ok else "FAIL"

    @property
    def line(self) -> str:
        return f"{self.label}  {self.subject}: {self.detail}"


def passed(subject: str, detail: str) -> Check:
    return Check(subject, True, detail)


def failed(subject: str, detail: str) -> Check:
    return Check(subject, False, detail)


def pending(subject: str, waits_for: str) -> Check:
    """Not checkable yet by the publication rules; ``waits_for`` says until when."""
    return Check(subject, True, waits_for, pending=True)


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
    def waiting(self) -> list[Check]:
        return [check for check in self.checks if check.pending]

    @property
    def ok(self) -> bool:
        return bool(self.checks) and not self.failures

    def summary(self) -> str:
        failing, waiting = len(self.failures), len(self.waiting)
        verdict = "all verified" if self.ok and not waiting else f"{failing} failed"
        if self.ok and waiting:
            verdict = f"{waiting} not checkable yet, the others verified"
        elif waiting:
            verdict += f", {waiting} not checkable yet"
        if not self.checks:
            verdict = "nothing was checked"
        return f"{len(self.checks)} checks, {verdict}"
