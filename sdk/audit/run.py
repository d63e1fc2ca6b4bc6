"""The audit of one procedure, or of every tender the platform lists: each check in order,
every one reported. Only public routes are read, through a ``PublicSource``."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

from sdk.audit import evidence as read_evidence
from sdk.audit.bidlog import (
    SealedLog,
    check_current_bids,
    check_opened_bids,
    check_receipt,
    check_seal,
    sealed_log,
)
from sdk.audit.cancellation import check_cancellation
from sdk.audit.committee import check_committee
from sdk.audit.events import check_lot_against_events
from sdk.audit.model import DecidedLot, PendingLot
from sdk.audit.ranking import check_lot
from sdk.audit.report import Check, Report, failed, passed
from sdk.audit.scores import check_scores
from sdk.audit.sources import PublicSource, Unavailable
from sdk.audit.transparency import (
    Head,
    LoggedEvent,
    check_aggregate,
    check_head,
    check_platform_key,
)


@dataclass(frozen=True)
class KeptReceipt:
    """A signed receipt as a bidder keeps it; ``name`` says where it came from."""

    name: str
    content: Any

    @property
    def ocid(self) -> str | None:
        receipt = self.content.get("receipt") if isinstance(self.content, dict) else None
        return receipt.get("ocid") if isinstance(receipt, dict) else None


@dataclass(frozen=True)
class Trust:
    """What every procedure is checked against: the platform key and the signed head."""

    platform_key: bytes | None
    head: Head | None


def establish_trust(source: PublicSource, report: Report) -> Trust:
    try:
        key_check, key = check_platform_key(source.get("/platform/keys"))
    except Unavailable as missing:
        key_check, key = failed("platform key", str(missing)), None
    report.add(key_check)
    try:
        head_check, head = check_head(source.get("/transparency/head"), key)
    except Unavailable as missing:
        head_check, head = failed("transparency log: signed head", str(missing)), None
    report.add(head_check)
    return Trust(key, head)


def audit_procedure(
    source: PublicSource, ocid: str, receipts: Sequence[KeptReceipt] = ()
) -> Report:
    report = Report()
    trust = establish_trust(source, report)
    report.extend(procedure_checks(source, ocid, trust, receipts))
    return report


def audit_all(source: PublicSource, receipts: Sequence[KeptReceipt] = ()) -> Report:
    """Every tender listed at ``GET /tenders``, and every receipt given."""
    report = Report()
    trust = establish_trust(source, report)
    try:
        ocids = list_tenders(source)
    except Unavailable as missing:
        report.add(failed("tenders", str(missing)))
        return report
    report.add(passed("tenders", f"{len(ocids)} listed at GET /tenders"))
    for ocid in ocids:
        report.extend(procedure_checks(source, ocid, trust, receipts))
    for receipt in receipts:
        if receipt.ocid not in ocids:
            report.add(
                failed(f"receipt {receipt.name}", f"its tender {receipt.ocid} is not listed")
            )
    return report


def list_tenders(source: PublicSource) -> list[str]:
    ocids: list[str] = []
    params: dict[str, str | int | None] = {"limit": 100}
    while True:
        page = source.get("/tenders", params)
        ocids += [str(item["ocid"]) for item in page.get("items", ())]
        following = page.get("next")
        if not following:
            return ocids
        cursor = parse_qs(urlparse(str(following)).query).get("cursor", [None])[0]
        params = {"limit": 100, "cursor": cursor}


def procedure_checks(
    source: PublicSource, ocid: str, trust: Trust, receipts: Sequence[KeptReceipt]
) -> list[Check]:
    checks: list[Check] = []
    lots = _evidence(source, ocid, checks)
    decided = [lot for lot in lots if isinstance(lot, DecidedLot)]
    events: dict[str, list[LoggedEvent]] = {}
    for aggregate_id in _aggregates(source, ocid, decided, checks):
        check, logged = check_aggregate(source, aggregate_id, trust.head)
        checks.append(check)
        events[aggregate_id] = logged
    log = _bid_log(source, ocid, events.get(f"{ocid}:bids", []), decided, checks)
    checks.append(check_committee(source, ocid, trust.platform_key, events.get(f"{ocid}:bids")))
    opened = {
        e.event["bid_id"]: e.event for e in events.get(f"{ocid}:bids", []) if e.type == "BidOpened"
    }
    keys = _committee_keys(source, decided)
    for lot in lots:
        if isinstance(lot, PendingLot):
            detail = (
                "unsuccessful: no bid can win it, so it has no award to check"
                if lot.status == "unsuccessful"
                else f"not decided yet ({lot.status}): its award is checked once decided"
            )
            checks.append(passed(f"{ocid} lot {lot.lot_id}", detail))
            continue
        if log is None:
            checks.append(
                failed(f"{ocid} lot {lot.lot_id}: bids in the sealed log", "no sealed log")
            )
        else:
            checks.append(check_opened_bids(lot, log))
        checks.append(check_scores(lot, keys))
        evaluation = events.get(f"{ocid}:evaluation", [])
        if lot.cancellation is None:
            checks.extend(check_lot(lot))
        else:  # no award to recompute: the cancellation is checked instead
            checks.append(check_cancellation(lot, evaluation))
        auction = events.get(f"{ocid}:auction:{lot.lot_id}")
        checks.append(check_lot_against_events(lot, evaluation, auction, opened))
    mine = [receipt for receipt in receipts if receipt.ocid == ocid]
    for receipt in mine:
        checks.append(check_receipt(receipt.name, receipt.content, trust.platform_key, log))
    if mine:
        checks.append(_current_bids(ocid, mine, events.get(f"{ocid}:bids", [])))
    return checks


def _current_bids(ocid: str, mine: Sequence[KeptReceipt], bid_log: Sequence[LoggedEvent]) -> Check:
    def fate(kind: str) -> set[str]:
        return {str(e.event.get("bid_id")) for e in bid_log if e.type == kind}

    done = any(e.type == "BidsOpened" for e in bid_log)
    contents = [receipt.content for receipt in mine]
    return check_current_bids(ocid, contents, fate("BidOpened"), fate("BidRejected"), done)


def _evidence(
    source: PublicSource, ocid: str, checks: list[Check]
) -> list[DecidedLot | PendingLot]:
    subject = f"{ocid}: award evidence"
    try:
        lots = read_evidence.lots(ocid, source.get(f"/tenders/{ocid}/award-evidence"))
    except (Unavailable, read_evidence.Malformed) as problem:
        checks.append(failed(subject, str(problem)))
        return []
    decided = sum(isinstance(lot, DecidedLot) for lot in lots)
    checks.append(passed(subject, f"{len(lots)} lots, {decided} decided"))
    return lots


def _aggregates(
    source: PublicSource, ocid: str, decided: Sequence[DecidedLot], checks: list[Check]
) -> list[str]:
    """The procedure's aggregates as the log lists them, which must include those the
    evidence rests on: the tender, its bid log, its evaluation and each decided lot's auction."""
    subject = f"{ocid}: logged aggregates"
    needed = [ocid]
    if decided:
        needed += [f"{ocid}:bids", f"{ocid}:evaluation"]
        needed += [f"{ocid}:auction:{lot.lot_id}" for lot in decided if lot.auction is not None]
    try:
        listed = [str(a) for a in source.get(f"/transparency/procedures/{ocid}")["aggregates"]]
    except (Unavailable, KeyError, TypeError) as problem:
        checks.append(failed(subject, f"the log's list of them is unavailable: {problem}"))
        return needed
    missing = [aggregate for aggregate in needed if aggregate not in listed]
    if missing:
        checks.append(failed(subject, f"the log does not list {missing}, which the award rests on"))
    else:
        checks.append(passed(subject, ", ".join(listed)))
    return listed + missing


def _bid_log(
    source: PublicSource,
    ocid: str,
    logged: list[LoggedEvent],
    decided: list[DecidedLot],
    checks: list[Check],
) -> SealedLog | None:
    sealed = next((e for e in logged if e.type == "BidLogSealed"), None)
    if sealed is None and not decided:
        checks.append(
            passed(f"{ocid} bid log", "not sealed yet: its leaves are public once sealed")
        )
        return None
    try:
        log = sealed_log(source.get(f"/tenders/{ocid}/bid-log/leaves"))
    except (Unavailable, KeyError, TypeError, ValueError) as problem:
        checks.append(failed(f"{ocid} bid log: leaves", str(problem)))
        return None
    event = None if sealed is None or sealed.document is None else sealed.event
    try:
        head = source.get(f"/tenders/{ocid}/bid-log")
    except Unavailable as missing:
        head = {"sealed_root": f"unavailable ({missing})"}
    checks.extend(check_seal(ocid, event, log, decided, head))
    return log


def _committee_keys(source: PublicSource, lots: Iterable[DecidedLot]) -> dict[str, str | None]:
    members = sorted({s.officer_id for lot in lots for bid in lot.bids for s in bid.scores})
    registered: dict[str, str | None] = {}
    for member in members:
        try:
            registered[member] = source.get(f"/officers/{member}/committee-keys").get("signing_key")
        except (Unavailable, AttributeError):
            registered[member] = None
    return registered
