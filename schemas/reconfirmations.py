"""Bids standing after a significant amendment: the platform's request that each bidder
reconfirm the bid it sent before the tender's requirements changed, and the bidder's signed
reconfirmation (Directive 2014/24/EU Article 47(3); ProZorro marks such bids ``invalid``
until the bidder confirms them). The bytes signed are defined in ``bidding.reconfirmation``.
"""

from typing import Literal

from pydantic import AwareDatetime

from schemas.base import BidEvent, Message
from schemas.bids import Sha256Hex, Signature
from schemas.commands import Command
from schemas.values import Identifier, Text


class BidReconfirmation(Message):
    """``POST /tenders/{ocid}/bids/reconfirmations``: the bidder's word that its bid
    ``bid_id`` stands under the amended requirements, named by their digest."""

    ocid: Identifier
    bidder_id: Identifier
    bid_id: Identifier  # the entry of the bid log that is reconfirmed: the bidder's latest
    requirements_sha256: Sha256Hex  # the amendment: SHA-256 of the requirements as amended
    signature: Signature


class ReconfirmBid(Command):
    ocid: Identifier
    reconfirmation: BidReconfirmation


class ReconfirmationRequested(BidEvent):
    """The tender's requirements changed after this bid arrived: it is opened only if its
    bidder reconfirms it, or sends a new version, before the deadline. One per bid, so that
    the event stays small however many bids the tender has."""

    public = False
    type: Literal["ReconfirmationRequested"] = "ReconfirmationRequested"
    bidder_id: Identifier
    bid_id: Identifier
    version: int
    requirements_sha256: Sha256Hex
    reason: Text  # the amendment's


class BidReconfirmed(BidEvent):
    public = False
    type: Literal["BidReconfirmed"] = "BidReconfirmed"
    bidder_id: Identifier
    bid_id: Identifier
    version: int
    requirements_sha256: Sha256Hex
    signature: Signature
    received_at: AwareDatetime


class AwaitingReconfirmation(Message):
    """A supplier's own bid that waits for its reconfirmation: sign these and send them."""

    bid_id: Identifier
    version: int
    requirements_sha256: Sha256Hex


class ReconfirmationTaken(Message):
    """The answer to a reconfirmation: the bid now stands under these requirements."""

    ocid: Identifier
    bidder_id: Identifier
    bid_id: Identifier
    requirements_sha256: Sha256Hex
    replayed: bool
