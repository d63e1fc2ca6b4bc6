"""How large a message may grow, so that every record fits on the way to Kafka.

Each field is bounded, but a composite such as a tender's lots and items multiplies its
bounds; ``MaxJsonBytes`` gives it a budget of its own. Together they keep every event that
a command records under ``MAX_EVENT_BYTES`` as envelope JSON (proven field by field in
tests/unit/test_event_bounds.py), far under the broker's record limit.
"""

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema, to_json

MAX_EVENT_BYTES = 1024 * 1024
# What a tender's lots and items may take, leaving room for its title, description and
# envelope in MAX_EVENT_BYTES. Specifications longer than this belong in documents.
MAX_REQUIREMENTS_BYTES = 768 * 1024

T = TypeVar("T")


@dataclass(frozen=True)
class MaxJsonBytes:
    """Annotates a type whose JSON may take at most ``limit`` bytes; ``what`` names it and
    ``advice`` says what to do instead."""

    limit: int
    what: str
    advice: str = ""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def check(self, value: T) -> T:
        """``value``, if its JSON fits the limit; a model calls this from a validator and
        names the budget in a ``json_budget`` class variable, so both can be read."""
        size = len(to_json(value))
        if size > self.limit:
            msg = f"{self.what}: {size:,} bytes as JSON, more than the {self.limit:,} allowed"
            raise ValueError(f"{msg}; {self.advice}" if self.advice else msg)
        return value
