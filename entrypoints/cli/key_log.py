"""``procurement officer keys-check``: filled in by its own change."""

import typer


def register(officer_app: typer.Typer) -> None:
    """Adds the command to ``officer_app``."""
