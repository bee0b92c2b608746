"""Re-encrypt every stored secret under the first key of CREDENTIALS_KEYS."""

from django.core.management.base import BaseCommand

from malls import services


class Command(BaseCommand):
    help = (
        "Re-encrypt stored MakeShop secrets under the first CREDENTIALS_KEYS key. "
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
                f"{len(report.undecryptable)} rows could not be decrypted with any configured "
                "key (see `manage.py check_credentials`); their merchants must re-enter them."
            )
            raise SystemExit(1)
