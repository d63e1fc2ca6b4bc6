"""``procurement audit``: filled in by its own change."""

import typer


def register(app: typer.Typer) -> None:
    """Adds the command to ``app``."""
