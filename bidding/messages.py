"""What bidders are told about their bids in the bid log: reconfirmation requests after a
significant amendment, bids rejected at the opening."""

from schemas.events import Event


def notices(event: Event) -> list[tuple[str, str]]:
    """What each bidder is told, as (bidder id, message)."""
    return []
