"""The hand-in route's body limit fits the largest hand-in its schema takes."""

import base64
import json

from entrypoints.http.routes.bids import HAND_IN_MAX_BODY
from schemas.bids import MAX_MEMBERS
from schemas.committee import MAX_HANDED_SHARES, OpeningShares


def test_the_largest_hand_in_the_schema_takes_fits_the_body_limit() -> None:
    share = base64.b64encode(bytes(67)).decode()
    longest_id = "b" * 100
    largest = {
        "shares": [
            {"bid_id": longest_id, "x": MAX_MEMBERS, "share": share, "problem": None}
            for _ in range(MAX_HANDED_SHARES)
        ],
        "signature": base64.b64encode(bytes(64)).decode(),
    }
    body = json.dumps(largest).encode()
    assert len(OpeningShares.model_validate_json(body).shares) == MAX_HANDED_SHARES
    assert len(body) <= HAND_IN_MAX_BODY
