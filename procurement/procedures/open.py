"""The open procedure (Directive 2014/24/EU, Article 27), with or without an electronic
reverse auction after the evaluation (Article 35).

Both run as a published tender: their decide and evolve are ``procurement.tender``'s (the
tender), ``bidding`` (sealed bids) and ``procurement.evaluation`` (evaluation and award),
which reads ``has_auction`` from here. Their periods are the deployment's
``procurement.rules.ProcedureRules``.
"""

from procurement.procedures.registry import Engine, Procedure, ValueBand

OPEN = Procedure(
    method="open",
    method_details="Open procedure",
    engine=Engine.TENDER,
    value_band=ValueBand.ANY,
)
OPEN_WITH_AUCTION = Procedure(
    method="open",
    method_details="Open procedure followed by an electronic reverse auction",
    engine=Engine.TENDER,
    value_band=ValueBand.ANY,
    has_auction=True,
)
