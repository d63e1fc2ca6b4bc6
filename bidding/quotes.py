"""Sealing a price quotation's quote on the supplier's machine, and opening it with the key
the officer hands in after the deadline: the bids' HPKE suite (``bidding.sealing``), bound
to the quotation and the supplier by its ``info``."""

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import ValidationError

from bidding import keys
from bidding.sealing import SUITE
from schemas.catalogue import Quote, QuoteOpened

QUOTE = "procurement-quote/1"  # the HPKE info that binds a sealed quote to its place


def quote_context(ocid: str, supplier_id: str) -> bytes:
    return keys.signed_message(QUOTE, {"ocid": ocid, "supplier_id": supplier_id})


def seal_quote(quote: Quote, quotation_key: bytes) -> bytes:
    """Encrypt the quote to the quotation's public key (raw X25519)."""
    plaintext = keys.canonical_json(quote.model_dump(mode="json"))
    context = quote_context(quote.ocid, quote.supplier_id)
    return SUITE.encrypt(plaintext, X25519PublicKey.from_public_bytes(quotation_key), context)


def private_key(raw: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(raw)


def key_matches(raw: bytes, public_key: bytes) -> bool:
    """Whether the private key handed in (raw X25519) is the one the quotes were sealed to."""
    try:
        return keys.raw_public(private_key(raw)) == public_key
    except ValueError:
        return False


def open_quote(
    ocid: str, supplier_id: str, sealed: bytes, key: X25519PrivateKey, currency: str
) -> QuoteOpened:
    """The quote as it opens; a quote that does not open, or names another place or
    currency, opens with no price and the reason."""

    def refused(reason: str) -> QuoteOpened:
        return QuoteOpened(supplier_id=supplier_id, unit_price=None, reason=reason)

    try:
        plaintext = SUITE.decrypt(sealed, key, quote_context(ocid, supplier_id))
    except (InvalidTag, ValueError):
        return refused("it does not decrypt for this quotation and supplier")
    try:
        quote = Quote.model_validate_json(plaintext)
    except ValidationError:
        return refused("the decrypted quote is not a valid quote")
    if (quote.ocid, quote.supplier_id) != (ocid, supplier_id):
        return refused("the quote inside names another quotation or supplier")
    if quote.unit_price.currency != currency:
        return refused(f"the quote is in {quote.unit_price.currency}, not {currency}")
    return QuoteOpened(supplier_id=supplier_id, unit_price=quote.unit_price)
