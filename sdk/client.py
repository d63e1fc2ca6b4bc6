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

from bidding import committee, keys, sealing
from schemas.bids import BidContent, EncryptedShare, SignedReceipt
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

    def opening_key(self, ocid: str) -> dict[str, Any]:
        answer: dict[str, Any] = self.request("GET", f"/tenders/{ocid}/opening-key")
        return answer

    def submit_bid(self, content: BidContent, version: int, key_file: KeyFile) -> SignedReceipt:
        """Seal ``content`` to the tender's opening key, sign it, send it: the receipt."""
        tender_key = base64.b64decode(self.opening_key(content.ocid)["public_key"])
        sealed = sealing.seal_bid(content, version, tender_key, key_file.signing_key)
        answer = self.request(
            "POST", f"/tenders/{content.ocid}/bids", content=sealed.model_dump_json()
        )
        return SignedReceipt.model_validate({k: v for k, v in answer.items() if k != "replayed"})

    def withdraw_bid(
        self, ocid: str, bidder_id: str, version: int, key_file: KeyFile
    ) -> SignedReceipt:
        withdrawal = sealing.withdraw_bid(ocid, bidder_id, version, key_file.signing_key)
        answer = self.request(
            "POST", f"/tenders/{ocid}/bids/withdrawal", content=withdrawal.model_dump_json()
        )
        return SignedReceipt.model_validate({k: v for k, v in answer.items() if k != "replayed"})

    # Committee members

    def register_committee_keys(self, key_file: KeyFile, officer_id: str) -> dict[str, Any]:
        assert key_file.encryption_key is not None, "committee keys need an encryption key"
        encryption = keys.raw_public(key_file.encryption_key)
        signing = keys.raw_public(key_file.signing_key)
        proof = keys.sign(
            key_file.signing_key,
            keys.COMMITTEE_KEYS,
            keys.committee_keys_fields(officer_id, encryption, signing),
        )
        body = {
            "encryption_key": _b64(encryption),
            "signing_key": _b64(signing),
            "proof": _b64(proof),
        }
        answer: dict[str, Any] = self.request("POST", "/officers/me/committee-keys", json=body)
        return answer

    def issue_opening_key(self, ocid: str, members: list[str], threshold: int) -> dict[str, Any]:
        """Make the tender's opening key here, split it among ``members`` (officer ids), seal
        each share to its member, and send only the public key and the sealed shares."""
        member_keys = [
            (
                member,
                base64.b64decode(
                    self.request("GET", f"/officers/{member}/committee-keys")["encryption_key"]
                ),
            )
            for member in members
        ]
        setup = committee.make_opening_key(ocid, member_keys, threshold)
        answer: dict[str, Any] = self.request(
            "POST", f"/tenders/{ocid}/opening-key", content=setup.model_dump_json()
        )
        return answer

    def hand_in_share(self, ocid: str, officer_id: str, key_file: KeyFile) -> dict[str, Any]:
        """Fetch this member's sealed share, decrypt it here, sign it and hand it in."""
        assert key_file.encryption_key is not None, "a committee key file holds an encryption key"
        sealed = EncryptedShare.model_validate(
            self.request("GET", f"/tenders/{ocid}/opening-key/my-share")
        )
        share = committee.hand_in_share(
            ocid, officer_id, sealed, key_file.encryption_key, key_file.signing_key
        )
        answer: dict[str, Any] = self.request(
            "POST", f"/tenders/{ocid}/opening/shares", content=share.model_dump_json()
        )
        return answer

    # Public checks

    def inclusion_proof(
        self, ocid: str, leaf_index: int, tree_size: int | None = None
    ) -> dict[str, Any]:
        params = {"leaf_index": leaf_index} | ({"tree_size": tree_size} if tree_size else {})
        answer: dict[str, Any] = self.request(
            "GET", f"/tenders/{ocid}/bid-log/inclusion", params=params
        )
        return answer

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
