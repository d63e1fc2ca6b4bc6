"""The procedure types the platform runs, as data: one entry per type, one module each.

Each entry says how the procedure publishes in OCDS (``procurementMethod`` from the OCDS
``method`` codelist and ``procurementMethodDetails``), whether it ends with an electronic
auction, how it runs (as a tender with sealed bids, ``procurement.tender``, or from the
electronic catalogue), its own minimum period when it differs from the deployment's
``ProcedureRules``, and the estimated values it is for. The thresholds themselves are a
setting (``Thresholds``), per contracting authority and CPV code.

Adding a procedure type: a value in ``schemas.values.ProcedureType``, a module here with its
``PROCEDURE`` entry and its ``decide``/``evolve``, and one line in ``PROCEDURES`` below.
"""

from procurement.errors import Rejected
from procurement.procedures import direct_purchase, open, price_quotation
from procurement.procedures.registry import Engine, Procedure, Thresholds, ValueBand
from schemas.values import ProcedureType

PROCEDURES: dict[ProcedureType, Procedure] = {
    ProcedureType.OPEN: open.OPEN,
    ProcedureType.OPEN_WITH_AUCTION: open.OPEN_WITH_AUCTION,
    ProcedureType.DIRECT_PURCHASE: direct_purchase.PROCEDURE,
    ProcedureType.PRICE_QUOTATION: price_quotation.PROCEDURE,
}

_missing = set(ProcedureType) - set(PROCEDURES)
assert not _missing, f"procedure types with no entry: {sorted(_missing)}"


def procedure_must_run_as_a_tender(procedure_type: ProcedureType) -> None:
    """A catalogue procedure is not published as a tender: it has its own commands."""
    if PROCEDURES[procedure_type].engine is not Engine.TENDER:
        msg = (
            f"a {procedure_type} procedure buys from the electronic catalogue; "
            "it is not published as a tender (see /catalogue)"
        )
        raise Rejected(msg, code="not_a_tendered_procedure")


__all__ = [
    "PROCEDURES",
    "Engine",
    "Procedure",
    "Thresholds",
    "ValueBand",
    "procedure_must_run_as_a_tender",
]
