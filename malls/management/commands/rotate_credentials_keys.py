"""Re-encrypt every readable stored secret under the first key of CREDENTIALS_KEYS.

Exits 1 when some secret could not be decrypted (listed by row and field, never a
value): the readable ones moved all the same.
"""

from django.core.management.base import BaseCommand

from malls import services


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (every encrypted column of every model) under the "
        "first CREDENTIALS_KEYS key. "
        "Safe to interrupt and rerun; never overwrites a concurrent edit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=services.ROTATION_BATCH_SIZE)

    def handle(self, *args, batch_size, **options):
        def progress(report):
            self.stdout.write(
                f"examined {report.examined}, rotated {report.rotated}, "
                f"skipped (edited meanwhile) {report.skipped_concurrent_edit}, "
                f"undecryptable {len(report.undecryptable)}"
            )

        report = services.rotate_credentials_keys(batch_size=batch_size, progress=progress)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {report.rotated} rows re-encrypted of {report.examined} examined."
            )
        )
        if report.skipped_concurrent_edit:
            self.stdout.write(
                f"{report.skipped_concurrent_edit} rows changed while rotating; run again to "
                "confirm they are under the new key."
            )
        if report.undecryptable:
            self.stderr.write(
                f"{len(report.undecryptable)} secrets could not be decrypted with any configured "
                "key and were left as they are; their merchants must enter them again. Every "
                "readable secret was re-encrypted; `manage.py check_credentials` lists what "
                "still uses each key id."
            )
            for ref in report.undecryptable:
                self.stderr.write(f"  {ref.model} {ref.pk}: {ref.field}")
            raise SystemExit(1)
