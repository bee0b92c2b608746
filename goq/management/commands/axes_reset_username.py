"""``axes_reset_username NAME...``: unlock accounts, whatever spelling staff type.

Replaces axes' command of the same name (``goq`` comes first in INSTALLED_APPS): axes
stores names as ``goq.signin`` normalises them, so the names given are normalised the
same way. Each unlock is logged by ``goq.signin`` (event ``signin.reset``).
"""

from axes.utils import reset
from django.core.management.base import BaseCommand

from goq.signin import normalise_username


class Command(BaseCommand):
    help = "Unlock sign-in for the given user names (any case or Unicode form)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="+", type=str)

    def handle(self, *args, **options):
        count = sum(reset(username=normalise_username(name)) for name in options["username"])
        if count:
            self.stdout.write(f"{count} attempts removed.")
        else:
            self.stdout.write("No attempts found.")
