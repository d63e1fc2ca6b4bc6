"""A persistent vector for the bidders' current prices: an update shares all but one path with
the state before it, so applying an accepted price costs O(log n) for n participants.
"""

from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_BITS = 4
_WIDTH = 1 << _BITS
_MASK = _WIDTH - 1


class PersistentVector(Generic[T]):
    """A fixed-size persistent vector: a tree of tuples 16 wide. ``set`` returns a new vector
    that shares all but one path with the old one, so an update costs O(log n) and no earlier
    state changes."""

    __slots__ = ("_root", "_shift", "_size")

    def __init__(self, root: tuple[Any, ...], shift: int, size: int) -> None:
        self._root = root
        self._shift = shift  # bits of the index above the leaves
        self._size = size

    @classmethod
    def of(cls, items: Iterable[T]) -> "PersistentVector[T]":
        nodes: list[Any] = list(items)
        size, shift = len(nodes), 0
        nodes = [tuple(nodes[i : i + _WIDTH]) for i in range(0, size, _WIDTH)] or [()]
        while len(nodes) > 1:
            nodes = [tuple(nodes[i : i + _WIDTH]) for i in range(0, len(nodes), _WIDTH)]
            shift += _BITS
        return cls(nodes[0], shift, size)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int) -> T:
        if not 0 <= index < self._size:
            raise IndexError(index)
        node, shift = self._root, self._shift
        while shift:
            node = node[(index >> shift) & _MASK]
            shift -= _BITS
        item: T = node[index & _MASK]
        return item

    def set(self, index: int, item: T) -> "PersistentVector[T]":
        if not 0 <= index < self._size:
            raise IndexError(index)
        return PersistentVector(_set(self._root, self._shift, index, item), self._shift, self._size)

    def __iter__(self) -> Iterator[T]:
        return _walk(self._root, self._shift)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PersistentVector) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal by content, like a list

    def __repr__(self) -> str:
        return f"PersistentVector({list(self)!r})"


def _set(node: tuple[Any, ...], shift: int, index: int, item: object) -> tuple[Any, ...]:
    slot = (index >> shift) & _MASK
    child = item if shift == 0 else _set(node[slot], shift - _BITS, index, item)
    return (*node[:slot], child, *node[slot + 1 :])


def _walk(node: tuple[Any, ...], shift: int) -> Iterator[Any]:
    if shift == 0:
        yield from node
    else:
        for child in node:
            yield from _walk(child, shift - _BITS)
