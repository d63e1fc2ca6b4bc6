"""Every benchmark runs to its end and writes its figures, at small sizes: a benchmark that
falls over measures nothing. Two had: the bids benchmark's opening of 10,000 bids (a
hand-in over the body limit), and the reads benchmark's demo market (a deadline too close
for its enquiry and its amendment)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

SMALL = {
    "publish": ["--tenders", "100", "--rate", "50", "--baseline-count", "100"],
    "bids": ["--quick", "--seal-samples", "50", "--baseline-count", "100"],
    "auction": ["--bidders", "5", "--seconds", "10", "--baseline-count", "100"],
    "procedure": [
        "--tenders",
        "10",
        "--bidders",
        "3",
        "--deadline",
        "5",
        "--baseline-count",
        "100",
    ],
    "reads": ["--releases", "500", "--requests", "50", "--awards", "5"],
    "soak": ["--minutes", "0.25", "--rate", "5"],
}


@pytest.mark.parametrize("benchmark", sorted(SMALL))
def test_the_benchmark_runs_to_its_end(benchmark: str, tmp_path: Path) -> None:
    out = tmp_path / f"{benchmark}.json"
    command = [
        sys.executable,
        "-m",
        f"benchmarks.{benchmark}",
        *SMALL[benchmark],
        "--out",
        str(out),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert isinstance(figures, dict)
    assert figures, f"{benchmark} wrote no figures"
