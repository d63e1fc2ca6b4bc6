"""A least-recently-used cache that holds at most a number of bytes, however many entries.

Counting entries is no bound when one entry may be a few bytes or a few megabytes; the
budget counts what each entry holds, and what does not fit pushes the oldest out.
"""

from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class ByteBudgetCache(Generic[V]):
    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._kept: OrderedDict[str, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: str) -> V | None:
        found = self._kept.get(key)
        if found is None:
            return None
        self._kept.move_to_end(key)
        return found[0]

    def put(self, key: str, value: V, size: int) -> None:
        """Keep ``value`` (``size`` bytes, its key included) unless it alone is over budget."""
        self.discard(key)
        size += len(key)
        if size > self.budget:
            return
        self._kept[key] = (value, size)
        self.used += size
        while self.used > self.budget:
            _, (_, dropped) = self._kept.popitem(last=False)
            self.used -= dropped

    def discard(self, key: str) -> None:
        found = self._kept.pop(key, None)
        if found is not None:
            self.used -= found[1]

    def clear(self) -> None:
        self._kept.clear()
        self.used = 0
