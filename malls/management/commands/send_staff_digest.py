"""Queue today's staff digest and send it (run once a day; a second run sends nothing)."""

from django.core.management.base import BaseCommand

from malls.alerts import digest, outbox


class Command(BaseCommand):
    help = "Queue and send the daily digest of broken shops to staff."

    def handle(self, *args, **options):
        queued = digest.queue_staff_digest()
        report = outbox.send_due()
        self.stdout.write(f"queued {queued} digests; sent {report.sent}")
