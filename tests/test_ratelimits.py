"""Database hit counters: exact under concurrency, per window, prunable."""

import threading

import pytest
from django.db import connection

from malls import ratelimits
from malls.models import RateCounter


@pytest.mark.django_db
def test_hits_over_the_limit_are_refused_until_the_next_window():
    now = [1_000.0]
    clock = lambda: now[0]  # noqa: E731
    results = [ratelimits.hit("k", limit=3, window_seconds=60, clock=clock) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert ratelimits.hits_in_window("k", window_seconds=60, clock=clock) == 5
    now[0] += 60
    assert ratelimits.hit("k", limit=3, window_seconds=60, clock=clock)
    assert ratelimits.prune(clock=lambda: now[0] + 1) == 1  # only the past window


@pytest.mark.django_db(transaction=True)
def test_concurrent_hits_are_all_counted():
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        for _ in range(10):
            ratelimits.hit("shared", limit=1000, window_seconds=3600)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert RateCounter.objects.get(key="shared").hits == 80
