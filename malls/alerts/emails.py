"""Subjects and bodies of alert e-mails, in the recipient's language.

Everything here is built from the shop's names, each flattened to one line (a
merchant's name must not add lines or links to GoQ's mail, nor start a header), the
state's label and advice (the mall package's texts, the same as its screens) and
links; nothing reads a secret, so no e-mail can carry one. Times are written in Japan
time whatever the language.
"""

import re
from dataclasses import dataclass
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from core.text import one_line

from . import states

TOKYO = ZoneInfo("Asia/Tokyo")
SUBJECT_PREFIX = "[GoQSystem] "


def _tidy(body: str) -> str:
    # Template tags leave blank lines where optional parts were left out.
    return re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


def absolute_url(path: str) -> str:
    """``path`` under GOQ_BASE_URL: e-mails are read outside any request."""
    return urljoin(settings.GOQ_BASE_URL.rstrip("/") + "/", path.lstrip("/"))


def tokyo_time(moment) -> str:
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") if moment else ""


def preferences_url() -> str:
    return absolute_url(reverse("malls:alerts:preferences"))


def render_shop_alert(*, kind: str, language: str, shop, state, opened_at, at,
                      reminder_number: int = 0) -> Rendered:
    """A "broken", "fixed" or "reminder" e-mail about ``shop`` for one recipient.

    ``state`` is the connection's state the e-mail is about (for "fixed", the state
    it was in while broken); ``at`` is when this happened.
    """
    provider = states.provider_for(shop.mall.code)
    with translation.override(language):
        description = provider.describe(state)
        context = {
            "kind": kind,
            "shop_name": one_line(shop.name),
            "store_name": one_line(shop.store.name),
            "mall_name": one_line(shop.mall.name_en if language == "en" else shop.mall.name),
            "label": description.label,
            "advice": description.advice,
            "opened_at": tokyo_time(opened_at),
            "at": tokyo_time(at),
            "reminder_number": reminder_number,
            "shop_url": absolute_url(provider.shop_path(shop)),
            "preferences_url": preferences_url(),
        }
        subject = render_to_string(f"alerts/email/{kind}_subject.txt", context)
        body = render_to_string(f"alerts/email/{kind}.txt", context)
    return Rendered(SUBJECT_PREFIX + one_line(subject), _tidy(body))


def render_notice(*, language: str, shop, mall, store, describe) -> Rendered:
    """A notice about ``shop`` for one recipient: ``describe()`` gives, in the active
    language, what is coming (the subject) and what to do about it."""
    with translation.override(language):
        description = describe()
        context = {
            "shop_name": one_line(shop.name),
            "store_name": one_line(store.name),
            "mall_name": one_line(mall.name_en if language == "en" else mall.name),
            "label": one_line(description.label),
            "advice": description.advice,
            "shop_url": absolute_url(states.provider_for(mall.code).shop_path(shop)),
            "preferences_url": preferences_url(),
        }
        subject = render_to_string("alerts/email/notice_subject.txt", context)
        body = render_to_string("alerts/email/notice.txt", context)
    return Rendered(SUBJECT_PREFIX + one_line(subject), _tidy(body))


def render_digest(*, language: str, report) -> Rendered:
    """The staff digest (see ``digest.DigestReport``) for one staff user."""
    with translation.override(language):
        causes = [
            {
                "label": states.provider_for(cause.mall_code).describe(cause.state).label,
                "mall_name": one_line(cause.mall_names.get(language) or cause.mall_code),
                "code": "/".join(part for part in (cause.state.check, cause.state.reason) if part),
                "cause": cause,
                "examples": [
                    {**example, "shop": one_line(example["shop"]),
                     "store": one_line(example["store"])}
                    for example in cause.examples
                ],
            }
            for cause in report.causes
        ]
        upcoming = [
            {
                "label": str(item.label),
                "when_label": str(item.when_label),
                "mall_name": one_line(item.mall_names.get(language) or item.mall_code),
                "count": item.count,
                "url": absolute_url(item.admin_path) if item.admin_path else "",
                "examples": [
                    {**example, "shop": one_line(example["shop"]),
                     "store": one_line(example["store"])}
                    for example in item.examples
                ],
            }
            for item in report.upcoming
        ]
        context = {
            "report": report,
            "causes": causes,
            "upcoming": upcoming,
            "since": tokyo_time(report.since),
            "until": tokyo_time(report.until),
            "admin_url": absolute_url(
                reverse("admin:malls_shopalert_changelist") + "?closed_at__isnull=True"
            ),
            "preferences_url": preferences_url(),
        }
        subject = render_to_string("alerts/email/digest_subject.txt", context)
        body = render_to_string("alerts/email/digest.txt", context)
    return Rendered(SUBJECT_PREFIX + one_line(subject), _tidy(body))
