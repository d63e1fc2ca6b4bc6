"""How the long-running processes (an API process, a stream worker) collect their garbage.

CPython collects its youngest generation every 700 new container objects, and one request
or one event allocates hundreds: the objects still in flight are promoted, and the old
generation fills with them until a full collection walks the whole heap again (every
module, model and cached event). Under load that was 15% of a stream worker's CPU and 10%
of an API process's (``./dev bench``, timed with ``gc.callbacks``). Once started, a process
freezes what it holds (never scanned again: the code, the schemas, the routes) and collects
its youngest generation every ``YOUNG_GENERATION`` objects, by which time most of a
request's objects are gone, freed by their reference counts.
"""

import gc

YOUNG_GENERATION = 50_000  # container objects; at most a few MB of cyclic garbage waits


def settle() -> None:
    """Call once the process is set up and before it serves."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, old)
