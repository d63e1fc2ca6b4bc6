"""The electronic reverse auction of one lot (Directive 2014/24/EU, Article 35), as pure functions.

One aggregate per lot, id ``<ocid>:auction:<lot_id>``. ``schedule`` invites every admissible
tenderer at once (``invitations`` says what each one is sent); the platform's timer calls
``open_auction`` at ``starts_at`` and ``close_if_due`` until the closing rule is met; bidders
send prices with ``submit_price``; the buyer may ``cancel``. ``evolve`` applies one event and
``replay`` rebuilds the state from the aggregate's own events. Time and ids are arguments.

**Cost.** The participants and the index from bidder id to position are fixed at the
scheduling and shared by every later state; the bidders' current prices live in a persistent
vector, so ``evolve`` and ``submit_price`` cost O(log n) for n participants, and the lowest
price is kept as it falls. ``ranking`` is O(n log n); ``bidder_views`` ranks once for all
bidders.

Where each part lives:

- ``state``: the state, its lifecycle and its clock; ``vector``: the bidders' current prices;
- ``scoring``: the published formula, the live ranking and its ties;
- ``rules``: the rules, named as the sentences they enforce, and how a rejection is answered;
- ``decisions``: what each command decides; ``evolution``: every event, applied;
- ``views``: what bidders are sent and see.
"""

from procurement.auction.decisions import (
    cancel,
    close_if_due,
    open_auction,
    result,
    schedule,
    schedule_from_evaluation,
    submit_price,
)
from procurement.auction.evolution import evolve, replay
from procurement.auction.rules import (
    MAX_DIGITS,
    MINIMUM_NOTICE,
    auction_must_be_due_to_open,
    auction_must_be_live,
    auction_must_be_taking_prices,
    auction_must_exist,
    auction_must_not_be_scheduled_yet,
    auction_must_start_after_the_notice,
    auction_needs_two_participants,
    check_price,
    each_bidder_takes_part_once,
    error_of,
    lot_must_be_waiting_for_its_auction,
    only_the_platform_times_an_auction,
    participant_must_be_invited,
    price_must_be_an_amount_in_cents,
    price_must_fall_by_the_minimum_decrement,
    quality_parts_must_fit_the_formula,
    scheduler_must_be_the_buyer_or_the_platform,
)
from procurement.auction.scoring import CENT, HUNDRED, POINT, Rank, most_a_bidder_may_offer, ranking
from procurement.auction.state import (
    LIFECYCLE,
    Auction,
    AuctionStatus,
    Standing,
    auction_id,
    closes_at,
    next_due,
    round_at,
)
from procurement.auction.vector import PersistentVector
from procurement.auction.views import bidder_view, bidder_views, invitations

__all__ = [
    "CENT",
    "HUNDRED",
    "LIFECYCLE",
    "MAX_DIGITS",
    "MINIMUM_NOTICE",
    "POINT",
    "Auction",
    "AuctionStatus",
    "PersistentVector",
    "Rank",
    "Standing",
    "auction_id",
    "auction_must_be_due_to_open",
    "auction_must_be_live",
    "auction_must_be_taking_prices",
    "auction_must_exist",
    "auction_must_not_be_scheduled_yet",
    "auction_must_start_after_the_notice",
    "auction_needs_two_participants",
    "bidder_view",
    "bidder_views",
    "cancel",
    "check_price",
    "close_if_due",
    "closes_at",
    "each_bidder_takes_part_once",
    "error_of",
    "evolve",
    "invitations",
    "lot_must_be_waiting_for_its_auction",
    "most_a_bidder_may_offer",
    "next_due",
    "only_the_platform_times_an_auction",
    "open_auction",
    "participant_must_be_invited",
    "price_must_be_an_amount_in_cents",
    "price_must_fall_by_the_minimum_decrement",
    "quality_parts_must_fit_the_formula",
    "ranking",
    "replay",
    "result",
    "round_at",
    "schedule",
    "schedule_from_evaluation",
    "scheduler_must_be_the_buyer_or_the_platform",
    "submit_price",
]
