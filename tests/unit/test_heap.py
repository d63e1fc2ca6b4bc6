"""The API process and the stream worker settle their heap before they serve: start-up
objects frozen, the youngest generation collected every ``heap.YOUNG_GENERATION`` objects
(see ``entrypoints.heap`` for the figures)."""

import subprocess
import sys

from entrypoints import heap

# Each entrypoint, started in a fresh interpreter up to the point where it would serve.
API = """
import asyncio
from adapters.settings import Settings
from entrypoints import launcher
asyncio.run = lambda serving: serving.close()  # set up, then stop where it would serve
launcher.serve_api(Settings(), "postgresql://unused", "127.0.0.1", 0)
"""
WORKER = """
import faust
from adapters.settings import Settings
from entrypoints import worker
async def no_topics(*args, **kwargs): pass
worker.create_topics = no_topics
faust.Worker.execute_from_commandline = lambda self: None
worker.run(Settings(), "postgresql://unused", "localhost:9092", 6066)
"""
REPORT = """
import gc
print(gc.get_threshold()[0], gc.get_freeze_count())
"""


def _heap_after(code: str) -> tuple[int, int]:
    done = subprocess.run(
        [sys.executable, "-c", code + REPORT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    young, frozen = done.stdout.split()[-2:]
    return int(young), int(frozen)


def test_a_fresh_interpreter_collects_as_cpython_does() -> None:
    """The baseline the other tests differ from: nothing frozen, every 700 objects."""
    assert _heap_after("") == (700, 0)


def test_an_api_process_settles_its_heap_before_it_serves() -> None:
    young, frozen = _heap_after(API)
    assert young == heap.YOUNG_GENERATION
    assert frozen > 10_000  # the modules, the schemas and the routes


def test_a_stream_worker_settles_its_heap_before_it_serves() -> None:
    young, frozen = _heap_after(WORKER)
    assert young == heap.YOUNG_GENERATION
    assert frozen > 10_000
