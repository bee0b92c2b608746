"""How the staff pages write a moment and a person."""

from django.utils import timezone
from django.utils.formats import date_format

NOBODY = "—"


def when(value) -> str:
    """A moment in the site's time zone, short; "" for none."""
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


def actor(record) -> str:
    """Who made a recorded change; a dash for the system (webhooks, jobs, commands)."""
    return record.actor.get_username() if record.actor_id else NOBODY
