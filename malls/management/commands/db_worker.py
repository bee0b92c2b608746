"""``manage.py db_worker``: django_tasks_db's worker, kept alive through transient
database errors.

The library's poll loop retries a locked SQLite only around taking a job; a lock while
opening its transaction (SQLite's ``BEGIN IMMEDIATE`` gives up after the connection's
timeout), a write that fails, or a dropped PostgreSQL connection ends the whole process,
and queued jobs wait until someone restarts it. This command (it takes the name because
``malls`` comes before ``django_tasks_db`` in INSTALLED_APPS) closes the broken
connections, waits with an exponential back-off and polls again. Other errors still end
it: run it under a supervisor all the same (docs/operations.md).

A job that was running when the error struck stays marked running; the hourly
``verify_makeshop --enqueue`` puts such jobs back on the queue.
"""

import logging
import random
import time

from django.db import InterfaceError, OperationalError, connections
from django_tasks_db.management.commands import db_worker

logger = logging.getLogger(__name__)


class ResilientWorker(db_worker.Worker):
    first_delay = 1.0  # seconds; doubled after each error in a row
    max_delay = 60.0
    # An error after this long without one starts the back-off again from first_delay.
    calm_after = 300.0

    def run(self) -> None:
        delay = self.first_delay
        while True:
            started = time.monotonic()
            try:
                return super().run()
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() - started > self.calm_after:
                    delay = self.first_delay
                logger.warning(
                    "Database error in the worker loop (%s: %s); polling again in %.1f s",
                    type(exc).__name__, exc, delay,
                    extra={"event": "worker.db_error", "worker_id": self.worker_id},
                )
                for connection in connections.all(initialized_only=True):
                    connection.close()  # a fresh one next time, whatever state this was in
                if not self.running:  # asked to stop meanwhile
                    return None
                # SIGTERM during the wait exits at once (the library's signal handler).
                time.sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 (jitter)
                delay = min(delay * 2, self.max_delay)
                self.startup_delay = False


class Command(db_worker.Command):
    help = db_worker.Command.help + " (retries transient database errors with a back-off)"

    def handle(self, *args, **options):
        # The library's handle() builds its worker from the module's Worker name.
        original = db_worker.Worker
        db_worker.Worker = ResilientWorker
        try:
            return super().handle(*args, **options)
        finally:
            db_worker.Worker = original
