"""A small Python client for suppliers and committee members. Everything secret happens
here, on the caller's machine: bids are sealed and shares decrypted before any request.

    from sdk.client import Client
    from sdk.keyfiles import KeyFile

    client = Client("http://127.0.0.1:8000", token)
    receipt = client.submit_bid(content, version=1, keys=KeyFile.load(path))
"""

import base64
from typing import Any

import httpx

from bidding import keys, receipts, reconfirmation, sealing
from schemas.bids import BidContent, SignedReceipt
from schemas.committee import MySealedShares
from schemas.values import Requirements
from sdk import committee, key_checks
from sdk.audit.sources import Params, Unavailable
from sdk.keyfiles import KeyFile


class ApiError(Exception):
    """The API refused: ``status`` and the problem document's ``code`` and ``detail``."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.code = str(problem.get("code", "http_error"))
        self.detail = str(problem.get("detail", problem))
        super().__init__(f"{problem.get('title', 'Refused')} ({status}): {self.detail}")


class Client:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60) -> None:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.is_error:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text[:500]}
            raise ApiError(response.status_code, problem)
        return response.json()

    def get(self, path: str, params: Params | None = None) -> Any:
        """A public read, as ``sdk.key_checks`` reads the key log: ``Unavailable`` if refused."""
        try:
            return self.request("GET", path, params=params)
        except (ApiError, httpx.HTTPError) as error:
            raise Unavailable(f"GET {path}: {error}") from error

    def checked_platform_key(self, pinned: bytes | None) -> bytes:
        """The key to check the platform's signatures with: the one pinned, else as served."""
        return pinned if pinned is not None else key_checks.served_platform_key(self)

    # Suppliers

    def register_supplier(
        self, *, name: str, identifier: str, is_sme: bool, email: str, key_file: KeyFile
    ) -> dict[str, Any]:
        """Register with the public half of ``key_file``; the answer holds id and token, once."""
        public = keys.raw_public(key_file.signing_key)
        proof = keys.sign(
            key_file.signing_key,
            keys.SUPPLIER_REGISTRATION,
            keys.supplier_registration_fields(identifier, public),
        )
        body = {
            "name": name,
            "identifier": identifier,
            "is_sme": is_sme,
            "email": email,
            "signing_key": _b64(public),
            "proof": _b64(proof),
        }
        answer: dict[str, Any] = self.request("POST", "/suppliers", json=body)
        return answer

    def committee(self, ocid: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", f"/tenders/{ocid}/committee")
        return answer

    def submit_bid(
        self,
        content: BidContent,
        version: int,
        key_file: KeyFile,
        platform_key: bytes | None = None,
    ) -> SignedReceipt:
        """Check the tender's committee keys against the key log (``KeyCheckFailed``, and
        nothing sent, if any does not verify), seal ``content`` to them, sign, send: the
        receipt. ``platform_key`` is the key pinned on first use (else as served now)."""
        answer = self.submit_bid_answer(content, version, key_file, platform_key)
        return SignedReceipt.model_validate(
            {k: v for k, v in answer.items() if k in ("receipt", "key_id", "signature")}
        )

    def submit_bid_answer(
        self,
        content: BidContent,
        version: int,
        key_file: KeyFile,
        platform_key: bytes | None = None,
    ) -> dict[str, Any]:
        """``submit_bid``, answering the whole answer: the signed receipt and ``replayed``."""
        checked = self.checked_platform_key(platform_key)
        sealed = committee.seal_verified(
            self.committee(content.ocid), checked, self, content, version, key_file.signing_key
        )
        answer: dict[str, Any] = self.request(
            "POST", f"/tenders/{content.ocid}/bids", content=sealed.model_dump_json()
        )
        return answer

    def withdraw_bid(
        self, ocid: str, bidder_id: str, version: int, key_file: KeyFile
    ) -> SignedReceipt:
        withdrawal = sealing.withdraw_bid(ocid, bidder_id, version, key_file.signing_key)
        answer = self.request(
            "POST", f"/tenders/{ocid}/bids/withdrawal", content=withdrawal.model_dump_json()
        )
        return SignedReceipt.model_validate(
            {k: v for k, v in answer.items() if k in ("receipt", "key_id", "signature")}
        )

    def reconfirm_bid(self, ocid: str, bidder_id: str, key_file: KeyFile) -> dict[str, Any]:
        """After a significant amendment: check that what the platform asks to reconfirm
        against is the tender's public requirements, or them with a public document that
        changes them, then sign and send the reconfirmation of the bidder's current bid."""
        awaiting = self.request("GET", f"/tenders/{ocid}/bids").get("my_reconfirmation")
        if awaiting is None:
            raise ApiError(409, {"code": "nothing_to_reconfirm", "detail": "no bid waits"})
        published = self.request("GET", f"/tenders/{ocid}")
        fields = {name: published[name] for name in Requirements.model_fields if name in published}
        requirements = Requirements.model_validate(fields)
        documents = self.request("GET", f"/tenders/{ocid}/documents")["documents"]
        public = {reconfirmation.requirements_sha256(requirements)} | {
            reconfirmation.document_change_sha256(
                requirements, document["id"], version["version"], version["sha256"]
            )
            for document in documents
            for version in document["versions"]
            if version["changes_requirements"]
        }
        digest = awaiting["requirements_sha256"]
        if digest not in public:
            msg = (
                f"the platform asks to reconfirm requirements {digest}, which neither the"
                " tender's public requirements nor any of its public documents that change"
                " them hash to: nothing was signed"
            )
            raise ValueError(msg)
        signed = reconfirmation.reconfirm_bid(
            ocid, bidder_id, awaiting["bid_id"], digest, key_file.signing_key
        )
        answer: dict[str, Any] = self.request(
            "POST", f"/tenders/{ocid}/bids/reconfirmations", content=signed.model_dump_json()
        )
        return answer

    # Committee members

    def register_committee_keys(self, key_file: KeyFile, officer_id: str) -> dict[str, Any]:
        """Both encryption keys (X25519, ML-KEM-768+X25519) and the signing key, bound to the
        officer by its own signature over all three."""
        member = key_file.member_keys()
        encryption = member.public("x25519")
        hybrid = member.public("mlkem768-x25519")
        signing = keys.raw_public(key_file.signing_key)
        proof = keys.sign(
            key_file.signing_key,
            keys.COMMITTEE_KEYS,
            keys.committee_keys_fields(officer_id, encryption, signing, hybrid),
        )
        body = {
            "encryption_key": _b64(encryption),
            "hybrid_encryption_key": _b64(hybrid),
            "signing_key": _b64(signing),
            "proof": _b64(proof),
        }
        answer: dict[str, Any] = self.request("POST", "/officers/me/committee-keys", json=body)
        return answer

    def name_committee(
        self, ocid: str, members: list[str], threshold: int, suite: str = "x25519"
    ) -> dict[str, Any]:
        """Name the tender's committee; the platform fills in the members' registered keys.
        No key is made here: each bid's own key is split among the members by its bidder."""
        body = {"members": members, "threshold": threshold, "suite": suite}
        answer: dict[str, Any] = self.request("POST", f"/tenders/{ocid}/committee", json=body)
        return answer

    def confirm_committee(
        self, ocid: str, officer_id: str, key_file: KeyFile, platform_key: bytes | None = None
    ) -> dict[str, Any]:
        """Check this member's own keys and every member's against the key log, then sign
        the committee's material (``KeyCheckFailed``, and nothing signed, otherwise)."""
        confirmation = committee.confirm(
            self.committee(ocid),
            officer_id,
            key_file.member_keys(),
            key_file.signing_key,
            self.checked_platform_key(platform_key),
            self,
        )
        answer: dict[str, Any] = self.request(
            "POST",
            f"/tenders/{ocid}/committee/confirmations",
            content=confirmation.model_dump_json(),
        )
        return answer

    def hand_in_shares(self, ocid: str, officer_id: str, key_file: KeyFile) -> dict[str, Any]:
        """Fetch this member's sealed share of every current bid, decrypt them here, sign
        them and hand them in at once; a share that does not decrypt is reported."""
        material = committee.material_of(self.committee(ocid))
        sealed = MySealedShares.model_validate(
            self.request("GET", f"/tenders/{ocid}/opening/my-shares")
        )
        handed = committee.hand_in(
            material, officer_id, sealed.shares, key_file.member_keys(), key_file.signing_key
        )
        answer: dict[str, Any] = self.request(
            "POST", f"/tenders/{ocid}/opening/shares", content=handed.model_dump_json()
        )
        return answer

    # Every party's inbox

    def inbox(self, limit: int = 50, before: int | None = None) -> dict[str, Any]:
        """Your notices, newest first (``notices``, ``unread``); pass ``next_before`` as
        ``before`` for older ones."""
        params: dict[str, int] = {"limit": limit} | ({"before": before} if before else {})
        answer: dict[str, Any] = self.request("GET", "/inbox", params=params)
        return answer

    def mark_read(self, through: int) -> int:
        """Mark your notices read up to position ``through``; how many are still unread."""
        answer = self.request("POST", "/inbox/read", json={"through": through})
        return int(answer["unread"])

    def new_feed_link(self) -> str:
        """A private Atom feed link to your notices, shown once; the one before stops working."""
        return str(self.request("POST", "/inbox/feed-links")["url"])

    # Public checks

    def inclusion_proof(
        self, ocid: str, leaf_index: int, tree_size: int | None = None
    ) -> dict[str, Any]:
        params = {"leaf_index": leaf_index} | ({"tree_size": tree_size} if tree_size else {})
        answer: dict[str, Any] = self.request(
            "GET", f"/tenders/{ocid}/bid-log/inclusion", params=params
        )
        return answer

    def leaf_index_of(self, ocid: str, signed: SignedReceipt) -> int:
        """Where the receipt's leaf is in the sealed bid log (public from the deadline): a
        receipt names no position, which would tell how many bids came before it."""
        leaves: list[str] = self.request("GET", f"/tenders/{ocid}/bid-log/leaves")["leaves"]
        leaf = receipts.leaf_hash(signed.receipt).hex()
        if leaf not in leaves:
            detail = (
                f"the receipt of {signed.receipt.bid_id} is no leaf of the sealed log of {ocid}"
            )
            raise ApiError(
                404, {"title": "Not in the sealed log", "code": "not_a_leaf", "detail": detail}
            )
        return leaves.index(leaf)

    def consistency_proof(self, ocid: str, first: int, second: int | None = None) -> dict[str, Any]:
        params = {"first": first} | ({"second": second} if second else {})
        answer: dict[str, Any] = self.request(
            "GET", f"/tenders/{ocid}/bid-log/consistency", params=params
        )
        return answer

    def platform_key(self) -> bytes:
        return base64.b64decode(
            self.request("GET", "/platform/keys")["receipt_keys"][0]["public_key"]
        )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
