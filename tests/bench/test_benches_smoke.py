"""Every benchmark still runs: each script in bench/ once, in smoke mode.

A benchmark is only run when someone wants its figures, so a change that breaks one
went unnoticed until then. ``--smoke`` takes each step once at the smallest size; the
figures are not read, only that the script ends well. Scripts are found by globbing,
so a new benchmark is covered without being listed here. They run as a developer runs
them, in a process of their own with this run's environment (``DATABASE_URL``
included), each with its own throw-away database.
"""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench._common import EXIT_SKIPPED

ROOT = Path(__file__).resolve().parents[2]
# Most of a smoke run is waiting (MakeShop's second between a shop's calls, servers
# starting, the database), so a few run side by side.
RUNS_AT_ONCE = 3


def bench_scripts() -> list[Path]:
    """The runnable scripts of bench/: not the shared helpers (``_common``), nor the
    settings and URL modules the benchmarks' servers load, which have no main guard."""
    return sorted(
        path for path in (ROOT / "bench").glob("*.py")
        if not path.name.startswith("_") and 'if __name__ == "__main__":' in path.read_text()
    )


def smoke_run(script: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), "--smoke"], cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def smoke_runs(request):
    """The smoke run of each script this session selected, all started at the first test."""
    selected = [
        item.callspec.params["script"] for item in request.session.items
        if item.module is request.module and hasattr(item, "callspec")
    ]
    with ThreadPoolExecutor(max_workers=RUNS_AT_ONCE) as pool:
        yield {script: pool.submit(smoke_run, script) for script in selected}


@pytest.mark.parametrize("script", bench_scripts(), ids=lambda path: path.stem)
def test_bench_runs_in_smoke_mode(script, smoke_runs):
    result = smoke_runs[script].result()
    if result.returncode == EXIT_SKIPPED:  # it printed why (no PostgreSQL server answers)
        pytest.skip(f"{script.name}: {result.stdout.strip().splitlines()[-1]}")
    assert result.returncode == 0, (
        f"{script.name} --smoke exited with {result.returncode}\n"
        f"stdout (end):\n{result.stdout[-3000:]}\nstderr (end):\n{result.stderr[-5000:]}"
    )


def test_the_servers_modules_are_not_taken_for_benchmarks():
    names = {path.stem for path in bench_scripts()}
    assert {"overview", "load", "notifications"} <= names
    assert not names & {"load_stack", "notifications_stack", "notifications_urls"}
