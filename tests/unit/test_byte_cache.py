"""The byte-budget cache holds at most its budget, whatever the number or size of entries."""

from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.byte_cache import ByteBudgetCache


def test_the_least_recently_used_entries_go_first() -> None:
    """Over budget, the entry read longest ago is dropped, not the one just read."""
    cache: ByteBudgetCache[bytes] = ByteBudgetCache(budget=30)
    cache.put("a", b"1" * 9, 9)
    cache.put("b", b"2" * 9, 9)
    assert cache.get("a") == b"1" * 9
    cache.put("c", b"3" * 9, 9)  # 3 x (9 + 1) = 30: all fit
    cache.put("d", b"4" * 9, 9)  # "b" was read longest ago
    assert cache.get("b") is None
    assert [cache.get(k) is not None for k in "acd"] == [True, True, True]


def test_an_entry_larger_than_the_budget_is_not_kept() -> None:
    """One huge page cannot push every other page out and then sit alone in memory."""
    cache: ByteBudgetCache[bytes] = ByteBudgetCache(budget=100)
    cache.put("small", b"x", 1)
    cache.put("huge", b"y" * 1000, 1000)
    assert cache.get("huge") is None
    assert cache.get("small") == b"x"


@given(st.lists(st.tuples(st.text(max_size=20), st.integers(0, 500)), max_size=200))
def test_the_budget_is_never_exceeded(entries: list[tuple[str, int]]) -> None:
    """Whatever is put, in whatever sizes, the bytes held stay within the budget and match
    what the entries say they hold."""
    cache: ByteBudgetCache[int] = ByteBudgetCache(budget=1000)
    for key, size in entries:
        cache.put(key, size, size)
        assert cache.used <= cache.budget
    last = dict(entries)
    kept = [key for key in last if cache.get(key) is not None]
    assert cache.used == sum(last[key] + len(key) for key in kept)
    assert len(cache) == len(kept)
