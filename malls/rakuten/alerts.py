"""What e-mail alerts need to know of Rakuten: its states, its texts, its shop page.

Registered from ``RakutenConfig.ready``. The labels and advice are the ones the
merchant screens show (the connection's status labels and ``malls.rakuten.verdicts``).
A connection that RMS stops accepting (verified -> rejected, an expired key) sends the
usual "broken" and "fixed" e-mails through ``note_connection_change`` in the services.
"""

from django.urls import NoReverseMatch, reverse

from malls.alerts import states
from malls.alerts.states import ConnectionState, Description, Health

from . import verdicts
from .api import Reason
from .connections import ExpiryState, Status

MALL_CODE = "rakuten"

# Rakuten's statuses beyond the generic ones (verified, rejected, unset, unverified).
# "expired" is the state word of a key whose date has passed (the provider's
# ``state``); RMS's refusal of it is stored as rejected/expired.
STATUSES = {
    ExpiryState.EXPIRED.value: Health.NEEDS_MERCHANT,
    Status.PENDING_ACTIVATION.value: Health.NEITHER,  # a fresh key RMS does not know yet
    Status.UNREACHABLE.value: Health.NEITHER,
}


def describe(state: ConnectionState) -> Description:
    """The status label and advice the merchant screens show for ``state``."""
    from .models import RakutenConnection

    labels = dict(RakutenConnection.Status.choices)
    known = Reason.of(state.reason)
    if state.status == ExpiryState.EXPIRED or known is Reason.EXPIRED:
        return Description(
            verdicts.reason_label(Reason.EXPIRED),
            verdicts.advice(Reason.EXPIRED, rejected=True),
        )
    if state.status not in labels:
        return Description(state.status)
    label = str(labels[state.status])
    if state.status in (Status.VERIFIED, Status.UNSET):
        return Description(label)
    rejected = state.status == Status.REJECTED
    if known is Reason.OTHER_SHOP:
        # The screens name the shop RMS reported; a state does not carry it.
        text = f"{verdicts.reason_label(state.reason)}: {verdicts.ADVICE['rejected']}"
    else:
        text = verdicts.advice(state.reason, rejected=rejected)
    if verdicts.check_label(state.check) and rejected:
        text = f"{verdicts.check_label(state.check)}: {text}"
    return Description(label, text)


def shop_path(shop) -> str:
    """The shop's Rakuten settings page (the merchant's list until that page exists)."""
    try:
        return reverse("malls:rakuten_settings", args=[shop.pk])
    except NoReverseMatch:
        return reverse("malls:mall_list")


def register() -> None:
    states.register_mall(
        MALL_CODE, describe=describe, shop_path=shop_path, statuses=STATUSES,
        connection_models=["rakuten.rakutenconnection"],
    )
