"""Template tags of the merchant screens: a connection's status, and the shop list's rows.

The markup is built in Python rather than with templates: the list prints a row per
shop, and at 50 shops a template per row costs several times the whole page layout
(see bench/pages.py). Every value goes through ``escape()``; only the markup around
the values is written here.
"""

from html import escape as _escape

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

register = template.Library()


def escape(value) -> str:
    # What django.utils.html.escape() does, without its lazy-string wrapper, which
    # costs more than the escaping itself a few hundred times per page.
    return _escape(str(value))


def time_markup(value, tz) -> str:
    """A moment as <time>, in the site's time zone (Asia/Tokyo)."""
    local = value.astimezone(tz)
    return f'<time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M}</time>'


class StatusMarkup:
    """Prints ``views.ConnectionStatus`` values: label, when, and what to do.

    Shops in the same state share label and advice, so their markup is made once.
    """

    def __init__(self):
        self.tz = timezone.get_current_timezone()
        self._described = {}

    def __call__(self, status) -> str:
        key = (status.tone, status.label, status.at_label, status.advice)
        if key not in self._described:
            advice = status.advice and (
                f'\n<span class="status__advice">{escape(status.advice)}</span>'
            )
            self._described[key] = (
                f'<span class="status status--{escape(status.tone)}">{escape(status.label)}</span>',
                f'\n<span class="status__when">{escape(status.at_label)} ',
                advice,
            )
        label, when, advice = self._described[key]
        when = f"{when}{time_markup(status.at, self.tz)}</span>" if status.at else ""
        return f"{label}{when}{advice}"


@register.simple_tag
def connection_status(status):
    """A connection's status (a ``views.ConnectionStatus``) as a badge with its details."""
    return mark_safe(StatusMarkup()(status))  # noqa: S308 - values escaped by StatusMarkup


@register.simple_tag
def shop_rows(rows):
    """The body of 出店中のモール一覧: a <tr> per shop (``views.ShopRow``)."""
    status_markup = StatusMarkup()
    muted = '<span class="muted">{}</span>'
    not_set = muted.format(escape(_("Not set")))
    not_here = muted.format(escape(_("Not set up on this screen")))
    not_received = muted.format(escape(_("Not received yet")))
    lines = []
    for row in rows:
        name = escape(row.name)
        if row.settings_url:
            name = f'<a href="{escape(row.settings_url)}">{name}</a>'
        shop_id = f"<code>{escape(row.shop_id)}</code>" if row.shop_id else not_set
        status = status_markup(row.status) if row.status else not_here
        notification = row.notification
        if notification.at:
            notification = (
                f"{time_markup(notification.at, status_markup.tz)}\n"
                f'<span class="status__advice">{escape(notification.event)}</span>'
            )
        else:
            notification = not_received
        lines.append(
            f'<tr><td>{escape(row.mall_name)}</td><th scope="row">{name}</th>'
            f'<td>{shop_id}</td><td class="status-cell">{status}</td>'
            f"<td>{escape(row.application)}</td><td>{notification}</td></tr>"
        )
    return mark_safe("\n".join(lines))  # noqa: S308 - every value above is escaped
