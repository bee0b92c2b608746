"""Queue due reminders and notices, then send every due alert e-mail (run every few
minutes)."""

from django.core.management.base import BaseCommand

from malls.alerts import notices, outbox, services


class Command(BaseCommand):
    help = "Queue due reminders and notices, and send due alert e-mails (retries included)."

    def add_arguments(self, parser):
        parser.add_argument("--worker-id", default=None, help="name this sender in its claims")
        parser.add_argument(
            "--no-reminders", action="store_true",
            help="only send the outbox (no reminders, no notices)",
        )

    def handle(self, *args, **options):
        reminded = 0 if options["no_reminders"] else services.queue_reminders()
        noticed = 0 if options["no_reminders"] else notices.queue_due()
        report = outbox.send_due(worker=options["worker_id"])
        self.stdout.write(
            f"reminded {reminded} shops; queued {noticed} notices; sent {report.sent}, "
            f"retrying {report.retrying}, failed {report.failed}, "
            f"cancelled {report.cancelled}"
        )
        if report.retrying:
            self.stderr.write(f"mail server errors: {', '.join(sorted(set(report.errors)))}")
