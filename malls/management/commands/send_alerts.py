"""Queue due reminders, then send every due alert e-mail (run every few minutes)."""

from django.core.management.base import BaseCommand

from malls.alerts import outbox, services


class Command(BaseCommand):
    help = "Queue due reminders and send due alert e-mails (retries included)."

    def add_arguments(self, parser):
        parser.add_argument("--worker-id", default=None, help="name this sender in its claims")
        parser.add_argument("--no-reminders", action="store_true", help="only send the outbox")

    def handle(self, *args, **options):
        reminded = 0 if options["no_reminders"] else services.queue_reminders()
        report = outbox.send_due(worker=options["worker_id"])
        self.stdout.write(
            f"reminded {reminded} shops; sent {report.sent}, retrying {report.retrying}, "
            f"failed {report.failed}, cancelled {report.cancelled}"
        )
        if report.retrying:
            self.stderr.write(f"mail server errors: {', '.join(sorted(set(report.errors)))}")
