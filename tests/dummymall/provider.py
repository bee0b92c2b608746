"""The dummy mall's provider: everything the generic core needs, nothing more.

Its one check sends both secrets at once and learns the key's expiry; a key the mall
refuses within minutes of being pasted is "pending activation", not rejected.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.urls import path, reverse

from malls import providers
from malls.presenters import ConnectionStatus, MallRow

CODE = "dummymall"
RATE = providers.RatePolicy(spacing=0.5, ceiling_setting="DUMMYMALL_MAX_CALLS_PER_SECOND")
# What the dummy mall's API would answer, by license key: (accepted?, days to expiry).
ANSWERS = {"good-key": (True, 60), "new-key": (False, None)}
TONES = {"verified": "ok", "rejected": "error"}


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""
    facts: dict | None = None


def verify(connection, *, today: date) -> Verdict:
    """The one check: both secrets together; facts learned on the way."""
    if not (connection.service_secret and connection.license_key):
        return Verdict(False, "missing")
    accepted, days = ANSWERS.get(connection.license_key.reveal(), (False, None))
    if accepted:
        return Verdict(True, facts={"expires_on": today + timedelta(days=days)})
    return Verdict(False, "key_refused")


def settings_view(request, shop_pk):  # pragma: no cover - only reversed, never opened
    raise NotImplementedError


class DummyProvider:
    code = CODE
    name = "Dummy mall"
    rate = RATE
    jobs_run: list = []

    @property
    def connection_model(self):
        from .models import DummyConnection

        return DummyConnection

    def urlpatterns(self):
        return [path("settings/malls/dummy/<int:shop_pk>/", settings_view, name="dummy_settings")]

    def add_url(self):
        return ""

    def shop_status(self, connection) -> ConnectionStatus:
        status = connection.Status(connection.status)
        return ConnectionStatus(str(status.label), TONES.get(status, "neutral"))

    def list_rows(self, shop_pks) -> dict:
        rows = self.connection_model.objects.filter(shop_id__in=shop_pks)
        found = {
            c.shop_id: MallRow(
                shop_id=c.shop_code,
                settings_url=reverse("malls:dummy_settings", args=[c.shop_id]),
                status=self.shop_status(c),
            )
            for c in rows
        }
        return found

    def check_label(self, check):
        return "Keys"

    def reason_label(self, reason):
        return {"key_refused": "Key refused"}.get(reason, reason)

    def reason_labels(self):
        return {"key_refused": "Key refused"}

    def likely_cause(self, connection):
        return ""

    def advice(self, check, reason, *, rejected):
        return "Paste a new key."

    def parse_notification(self, *sources):
        raise providers.MalformedNotification("the dummy mall sends none")

    def periodic_jobs(self):
        return (providers.PeriodicJob("re-read expiry dates", self._reread, every=86400),)

    def _reread(self):
        self.jobs_run.append("re-read")
        return 0


DUMMY = DummyProvider()
