"""Every benchmark still runs: each script in bench/ once, in smoke mode.

A benchmark is only run when someone wants its figures, so a change that breaks one
went unnoticed until then. ``--smoke`` takes each step once at the smallest size; the
figures are not read, only that the script ends well. Scripts are found by globbing,
so a new benchmark is covered without being listed here. They run as a developer runs
them, in a process of their own with this run's environment (``DATABASE_URL``
included), each with its own throw-away database.
"""

import signal
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
GIVE_UP_AFTER = 300  # seconds; a smoke run takes 15 at most on a busy machine


def bench_scripts() -> list[Path]:
    """The runnable scripts of bench/: not the shared helpers (``_common``), nor the
    settings and URL modules the benchmarks' servers load, which have no main guard."""
    return sorted(
        path for path in (ROOT / "bench").glob("*.py")
        if not path.name.startswith("_") and 'if __name__ == "__main__":' in path.read_text()
    )


def smoke_run(script: Path) -> subprocess.CompletedProcess:
    """Run ``script --smoke``; one that hangs is interrupted as Ctrl-C would, so that it
    stops the servers and workers it started and drops its database."""
    with subprocess.Popen(
        [sys.executable, str(script), "--smoke"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=GIVE_UP_AFTER)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGINT)
            try:
                stdout, stderr = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                stdout, stderr = process.communicate()
            stderr += f"\n[interrupted: still running after {GIVE_UP_AFTER} s]"
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@pytest.fixture(scope="module")
def smoke_runs(request):
    """The smoke run of each script this session selected, all started at the first test."""
    selected = [
        item.callspec.params["script"] for item in request.session.items
        if getattr(item, "module", None) is request.module and hasattr(item, "callspec")
    ]
    with ThreadPoolExecutor(max_workers=RUNS_AT_ONCE) as pool:
        yield {script: pool.submit(smoke_run, script) for script in selected}


@pytest.mark.parametrize("script", bench_scripts(), ids=lambda path: path.stem)
def test_bench_runs_in_smoke_mode(script, smoke_runs):
    result = smoke_runs[script].result()
    exit_code = result.returncode
    if exit_code == EXIT_SKIPPED:  # it printed why (no PostgreSQL server answers)
        pytest.skip(f"{script.name}: {result.stdout.strip().splitlines()[-1]}")
    assert exit_code == 0, (
        f"{script.name} --smoke exited with {result.returncode}\n"
        f"stdout (end):\n{result.stdout[-3000:]}\nstderr (end):\n{result.stderr[-5000:]}"
    )


def test_the_servers_modules_are_not_taken_for_benchmarks():
    names = {path.stem for path in bench_scripts()}
    assert {"overview", "load", "notifications"} <= names
    assert not names & {"load_stack", "notifications_stack", "notifications_urls"}


def test_a_smoke_run_without_a_postgresql_server_is_skipped_with_the_reason():
    # Port 9 on loopback: nothing listens (as for the tests' MakeShop address).
    result = subprocess.run(
        [sys.executable, "bench/load.py", "--smoke", "--postgres",
         "postgres://postgres:not-shown@127.0.0.1:9"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == EXIT_SKIPPED, result.stderr[-3000:]
    assert result.stdout.startswith(
        "skipped: needs a PostgreSQL server, none answers at 127.0.0.1:9 ("
    )
    assert "not-shown" not in result.stdout + result.stderr
