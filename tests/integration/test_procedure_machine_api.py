"""No procedure gets stuck on the real services: a small hypothesis state machine takes opened
sealed bids through the API in any order (qualification, completion, award, complaints and
their rulings, annulments of the award, cancellations of a lot, of the procedure or of the
tender), and at its end drives the procedure as its actors would: each lot must reach an end
(awarded with nothing open, unsuccessful, contracted or cancelled), every answer is a clear 2xx or 4xx, and the published OCDS record is
consistent. The pure domain's machine (tests/unit/test_procedure_machine.py) covers the
rest; its ``TOLERATED`` items are the defects still open here too.

Hypothesis runs the machine in a thread; each step sends its requests on the event loop that
serves the API, so the stack answers while the machine waits.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any, ClassVar

import httpx
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.integration.market import (
    Buyer,
    Party,
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually
from tests.unit.test_procedure_machine import TOLERATED

LOT = "lot-1"
END = ("awarded", "cancelled", "unsuccessful", "contracted")


class ApiProcedureMachine(RuleBasedStateMachine):
    """One tender with two opened bids, worked through the API by every actor."""

    stack: ClassVar[Stack]
    loop: ClassVar[asyncio.AbstractEventLoop]
    reviewer: ClassVar[str]
    found: ClassVar[list[str]] = []  # tolerated violations seen, for the report

    ocid: str
    buyer: Buyer
    bidders: list[Party]
    bids: list[str]
    tender_cancelled: bool

    def call(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout=120)

    def post(self, token: str, path: str, body: dict[str, Any]) -> int:
        """Send a command; whatever it is, the answer is a success or a clear refusal."""

        async def send() -> httpx.Response:
            async with self.stack.client(token) as client:
                return await client.post(path, json=body)

        answer: httpx.Response = self.call(send())
        assert answer.status_code < 500, (path, answer.text)
        if answer.status_code >= 400:
            assert answer.json().get("code"), answer.text  # a problem document names its rule
        return answer.status_code

    def evaluation(self) -> dict[str, Any]:
        async def read() -> dict[str, Any]:
            async with self.stack.client(self.buyer.officer.token) as client:
                view = await client.get(f"/tenders/{self.ocid}/evaluation")
            assert view.status_code == 200, view.text
            return dict(view.json())

        result: dict[str, Any] = self.call(read())
        return result

    def lot_status(self) -> str:
        [lot] = self.evaluation()["lots"]
        return str(lot["status"])

    def command(self, token: str, path: str, body: dict[str, Any]) -> int:
        return self.post(token, f"/tenders/{self.ocid}/evaluation/{path}", body)

    @initialize()
    def bids_opened(self) -> None:
        self.call(self._open())
        self.tender_cancelled = False

    async def _open(self) -> None:
        self.buyer = await buyer_with_committee(self.stack, size=2)
        self.ocid, key, deadline = await sealed_tender(self.stack, self.buyer)
        self.bidders = [
            await register_supplier(self.stack, name) for name in ("Ieftin SRL", "Scump SA")
        ]
        self.bids = []
        for bidder, amount in zip(self.bidders, ("880.00", "960.00"), strict=True):
            answer = await submit(
                self.stack, bidder, seal(bid_content(self.ocid, bidder.id, amount), key, bidder)
            )
            self.bids.append(answer.json()["receipt"]["bid_id"])
        await until_sealed(self.stack, self.ocid, deadline)
        for member in self.buyer.members:
            assert (await hand_in(self.stack, member, self.ocid)).status_code == 200

        async def started() -> bool:
            async with self.stack.client(self.buyer.officer.token) as client:
                return (await client.get(f"/tenders/{self.ocid}/evaluation")).status_code == 200

        await eventually(started)

    @rule(
        action=st.sampled_from(
            [
                "qualify",
                "complete",
                "award",
                "annul",
                "complain",
                "rule",
                "cancel_lot",
                "cancel_tender",
            ]
        ),
        which=st.integers(0, 1),
        flag=st.booleans(),
    )
    def act(self, action: str, which: int, flag: bool) -> None:
        """One actor's step: drawn afresh each time, so every order of steps is tried."""
        match action:
            case "qualify":
                self.qualify(which, admissible=flag)
            case "complete":
                self.complete()
            case "award":
                self.award()
            case "annul":
                self.annul(refused=flag)
            case "complain":
                self.complain(which)
            case "rule":
                self.rule_on_complaint(uphold=flag, complaint=which + 1)
            case "cancel_lot":
                self.cancel_lot()
            case _:
                self.cancel_tender()

    def qualify(self, which: int, admissible: bool) -> None:
        member = self.buyer.members[0].token
        if admissible:
            self.command(member, "qualifications", {"bid_id": self.bids[which]})
        else:
            body = {"bid_id": self.bids[which], "reason": "The guarantee is missing"}
            self.command(member, "disqualifications", body)

    def complete(self) -> None:
        self.command(self.buyer.officer.token, "lot-completions", {"lot_id": LOT})

    def award(self) -> None:
        self.command(self.buyer.officer.token, "awards", {"lot_id": LOT})

    def annul(self, refused: bool) -> None:
        """The winner refuses to sign, or fails its checks: the buyer annuls its award."""
        reason_code = "refused_to_sign" if refused else "no_supporting_documents"
        body = {"lot_id": LOT, "reason_code": reason_code, "reason": "As the file records"}
        self.command(self.buyer.officer.token, "award-annulments", body)

    def complain(self, which: int) -> None:
        body = {"lot_id": LOT, "grounds": "The winner's price is not credible"}
        self.command(self.bidders[which].token, "complaints", body)

    def rule_on_complaint(self, uphold: bool, complaint: int) -> None:
        body: dict[str, Any] = {"complaint_id": f"complaint-{complaint}", "reason": "Ruled"}
        if uphold:
            self.command(self.reviewer, "complaint-upholdings", body | {"remedy": "re_evaluate"})
        else:
            self.command(self.reviewer, "complaint-dismissals", body)

    def cancel_lot(self) -> None:
        body = {"lot_id": LOT, "reason": "The need disappeared"}
        self.command(self.buyer.officer.token, "lot-cancellations", body)

    def cancel_tender(self) -> None:
        path = f"/tenders/{self.ocid}/cancellation"
        if self.post(self.buyer.officer.token, path, {"reason": "The budget was withdrawn"}) == 200:
            self.tender_cancelled = True

    @invariant()
    def answers_stay_readable(self) -> None:
        assert self.lot_status() in ("evaluation", "ranked", "auction", "suspended", *END)

    def teardown(self) -> None:
        """Every actor does what it can, round after round: the lot must reach an end."""
        if not hasattr(self, "ocid"):
            return
        officer, member = self.buyer.officer.token, self.buyer.members[0].token
        if self.tender_cancelled:  # cancellation stops everything after it
            body = {"bid_id": self.bids[0]}
            if self.command(member, "qualifications", body) < 300:
                self._violation("item 5", f"{self.ocid}: a bid is qualified after the cancellation")
        self._drive_to_an_end(officer, member)
        if not self.tender_cancelled and self.lot_status() == "awarded":
            # The winner then refuses to sign: the lot goes on to the next bid, or ends.
            self.annul(refused=True)
            self._drive_to_an_end(officer, member)
        status = self.lot_status()
        stuck = not self.tender_cancelled and status not in END
        if stuck:
            self._violation("new", f"{self.ocid}: lot {LOT} is stuck {status}")
        self._check_record()

    def _drive_to_an_end(self, officer: str, member: str) -> None:
        for _ in range(4):
            if self.tender_cancelled or self.lot_status() in END:
                break
            for bid_id in self.bids:
                self.command(member, "qualifications", {"bid_id": bid_id})
            self.command(officer, "lot-completions", {"lot_id": LOT})
            self.command(officer, "awards", {"lot_id": LOT})
            for n in range(1, 6):
                body = {"complaint_id": f"complaint-{n}", "reason": "No grounds"}
                self.command(self.reviewer, "complaint-dismissals", body)

    def _check_record(self) -> None:
        """The published record: a cancelled tender has no live award, award ids are unique."""

        async def record() -> dict[str, Any] | None:
            async with self.stack.client() as public:
                answer = await public.get(f"/ocds/records/{self.ocid}")
            if answer.status_code != 200:
                return None
            compiled: dict[str, Any] = answer.json()["records"][0]["compiledRelease"]
            status = compiled["tender"]["status"]
            caught_up = not self.tender_cancelled or status == "cancelled"
            return compiled if caught_up else None

        compiled = self.call(eventually(record))
        awards = compiled.get("awards", [])
        ids = [award["id"] for award in awards]
        if len(ids) != len(set(ids)):
            self._violation("item 4", f"{self.ocid}: award ids repeat: {ids}")
        if compiled["tender"]["status"] == "cancelled":
            live = [award["id"] for award in awards if award["status"] in ("pending", "active")]
            if live:
                self._violation(
                    "item 5", f"{self.ocid}: the cancelled tender has live awards {live}"
                )

    def _violation(self, item: str, what: str) -> None:
        assert item in TOLERATED, what
        self.found.append(f"{item}: {what}")


async def test_no_procedure_gets_stuck_on_the_real_services(stack: Stack) -> None:
    """A few procedures worked through the API in random orders all reach an end."""
    async with stack.client(OPERATOR_TOKEN) as operator:
        body = await operator.post("/agencies", json={"name": "CNSC", "identifier": "RO-CNSC-M"})
        assert body.status_code == 201, body.text
        reviewer = await operator.post(
            "/officers",
            json={
                "agency_id": body.json()["id"],
                "name": "Maria Ionescu",
                "email": "maria@cnsc.ro",
                "role": "reviewer",
            },
        )
        assert reviewer.status_code == 201, reviewer.text
    ApiProcedureMachine.stack = stack
    ApiProcedureMachine.loop = asyncio.get_running_loop()
    ApiProcedureMachine.reviewer = reviewer.json()["token"]
    machine_settings = settings(
        max_examples=4,
        stateful_step_count=8,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # a failure is printed as it ran: shrinking would take minutes
        suppress_health_check=list(HealthCheck),
    )
    await asyncio.to_thread(
        run_state_machine_as_test, ApiProcedureMachine, settings=machine_settings
    )
