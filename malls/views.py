"""The merchant screens: 各種設定 → モール詳細設定 → a MakeShop shop's settings → next steps.

Every view needs a signed-in member of a store, and looks shops up through the
user's memberships, so another store's shop is a 404 and never a 403 that would
confirm it exists. Pages that show settings are never cached.
"""

import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from . import crypto, providers, services
from .forms import AddMakeShopShopForm, MakeShopSettingsForm
from .makeshop.notifications import notification_path
from .models import (
    UNREADABLE_REASON,
    ChangeRecord,
    MakeShopConnection,
    Mall,
    MallShop,
    NotificationEvent,
    Store,
)

CURRENT_STORE_SESSION_KEY = "malls.current_store"
PENDING_SESSION_KEY = "malls.pending.{shop_pk}"
# How long the new settings of an undecided save wait for "keep as 接続未確認".
PENDING_TTL_SECONDS = 10 * 60
RECENT_NOTIFICATIONS = 10

Status = MakeShopConnection.Status


# --- The current store ---------------------------------------------------------------


def store_member_required(view):
    """Require a signed-in user who belongs to a store; set ``request.store``.

    ``request.member_stores`` lists the user's stores (for the store switcher) and
    ``request.store`` is the one chosen in the session, else the first.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        stores = list(Store.objects.filter(memberships__user=request.user))
        if not stores:
            return render(request, "malls/no_store.html", status=403)
        chosen = request.session.get(CURRENT_STORE_SESSION_KEY)
        request.member_stores = stores
        request.store = next((store for store in stores if store.pk == chosen), stores[0])
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _use_store(request, store):
    """Make ``store`` (one of the user's) the current store."""
    request.store = store
    request.session[CURRENT_STORE_SESSION_KEY] = store.pk


@require_POST
@store_member_required
def switch_store(request):
    """Switch to another of the user's stores, then go back where the user was."""
    store = next(
        (store for store in request.member_stores if str(store.pk) == request.POST.get("store")),
        None,
    )
    if store is None:
        raise Http404("Not one of the user's stores")
    _use_store(request, store)
    next_url = request.POST.get("next", "")
    # Only a local path: redirect() would also take a view's name ("login") for a URL.
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("malls:mall_list")
    return HttpResponseRedirect(next_url)


def _makeshop_shop_or_404(request, shop_pk) -> MallShop:
    """One of the user's MakeShop shops, with its connection loaded if it has one.

    A shop of another of the user's stores becomes the current store, so a link to it
    works whichever store was selected.
    """
    shop = get_object_or_404(
        MallShop.objects.select_related("mall", "store", "makeshop"),
        pk=shop_pk,
        store__in=request.member_stores,
        mall__code=Mall.MAKESHOP,
    )
    if shop.store_id != request.store.pk:
        _use_store(request, shop.store)
    return shop


def _connection_of(shop) -> MakeShopConnection:
    """The shop's saved connection, or a new unsaved one."""
    try:
        return shop.makeshop
    except MakeShopConnection.DoesNotExist:
        return MakeShopConnection(shop=shop)


# --- 各種設定 and モール詳細設定 -----------------------------------------------------------


@never_cache
@store_member_required
def settings_index(request):
    """各種設定: the settings areas a merchant can open."""
    return render(request, "malls/settings_index.html")


@dataclass(slots=True)
class ConnectionStatus:
    """How a shop's connection is shown to the merchant: a label, a tone, when, what to do."""

    label: str
    tone: str  # ok, warning, error or neutral; also the CSS modifier
    at: datetime | None = None
    at_label: str = ""
    advice: str = ""


def connection_status(connection) -> ConnectionStatus:
    """Describe a connection's verification state in the merchant's words.

    ``connection`` is a ``MakeShopConnection``, a ``ListedConnection`` or None.
    """
    if connection is None or connection.status == Status.UNSET:
        state = (Status.UNSET, "", "", False)
    else:
        state = (
            connection.status,
            connection.failed_check,
            connection.failure_reason,
            connection.has_unreadable_secret,
        )
    label, tone, at_field, at_label, advice = _describe_state(get_language(), *state)
    at = getattr(connection, at_field) if at_field else None
    return ConnectionStatus(label, tone, at, at_label, advice)


@lru_cache(maxsize=256)
def _describe_state(language, status, check, reason, unreadable):
    """The texts for one state: (label, tone, which time to show, its label, advice).

    They depend on these arguments only, so they are translated once per language
    instead of once per shop of a list (``language`` is the active one).
    """
    if status == Status.UNSET:
        return Status.UNSET.label, "neutral", "", "", _("Enter the shop's MakeShop settings.")
    if unreadable:
        advice = _("A saved password or code can no longer be read. Enter it again.")
        return _("Must be entered again"), "error", "", "", advice
    status = Status(status)
    label = str(status.label)
    if status == Status.VERIFIED:
        return label, "ok", "verified_at", _("Verified at"), ""
    if status == Status.PENDING:
        return label, "neutral", "", "", _("GoQ will check the settings with MakeShop shortly.")
    makeshop = providers.get(Mall.MAKESHOP)
    advice = makeshop.advice(check, reason, rejected=status == Status.REJECTED)
    if check_label := makeshop.check_label(check):
        advice = f"{check_label}: {advice}"
    if status == Status.REJECTED:
        return label, "error", "failing_since", _("Failing since"), advice
    return label, "warning", "last_checked_at", _("Last tried at"), advice


@dataclass(slots=True)
class LastNotification:
    """The last update notification MakeShop sent for a shop, if any."""

    at: datetime | None = None
    event: str = ""


def last_notification(connection) -> LastNotification:
    if connection is None or not connection.last_notification_at:
        return LastNotification()
    kind = connection.last_notification_kind
    return LastNotification(
        connection.last_notification_at, _notification_kinds(get_language()).get(kind, kind)
    )


@lru_cache(maxsize=8)
def _notification_kinds(language) -> dict[str, str]:
    return {value: str(label) for value, label in NotificationEvent.Kind.choices}


@dataclass(slots=True)
class ListedConnection:
    """What the list needs of a MakeShop connection, read as plain values.

    Has the attributes ``connection_status`` and ``last_notification`` read, so a
    list of many shops costs one query and no model instances per row.
    """

    status: str
    failed_check: str
    failure_reason: str
    verified_at: datetime | None
    failing_since: datetime | None
    last_checked_at: datetime | None
    last_notification_at: datetime | None
    last_notification_kind: str
    has_unreadable_secret: bool

    FIELDS = (
        "status", "failed_check", "failure_reason", "verified_at", "failing_since",
        "last_checked_at", "last_notification_at", "last_notification_kind",
    )

    @classmethod
    def from_values(cls, values: dict, keyring) -> "ListedConnection":
        """Read from a ``MallShop.values()`` row that joined the connection as ``makeshop__``."""
        # Flags a secret whose key is no longer configured (the way secrets become
        # unreadable in practice) without decrypting 3 values per row; the settings
        # page decrypts, and so catches any other damage too.
        return cls(
            *(values[key] for key in _LISTED_KEYS),
            has_unreadable_secret=values["makeshop__failure_reason"] == UNREADABLE_REASON or any(
                token is not None and token.kid not in keyring.keys
                for token in (values[key] for key in _SECRET_KEYS)
            ),
        )


_LISTED_KEYS = tuple(f"makeshop__{name}" for name in ListedConnection.FIELDS)
_SECRET_KEYS = tuple(f"makeshop__{name}" for name in MakeShopConnection.SECRET_FIELDS)


@dataclass(slots=True)
class ShopRow:
    """One line of 出店中のモール一覧, ready to print."""

    name: str
    mall_name: str
    shop_id: str
    application: str
    settings_url: str  # empty for malls not set up on these screens
    status: ConnectionStatus | None
    notification: LastNotification


def _shop_rows(store) -> list[ShopRow]:
    """The store's shops in one query, joined with their mall and MakeShop connection."""
    # Ordered explicitly: the model's default ordering starts with "store", a join to
    # the store table that a list of one store's shops does not need.
    shops = MallShop.objects.filter(store=store).order_by("mall__sort_order", "name", "pk")
    shops = shops.values(
        "pk", "name", "application_status", "mall__code", "mall__name", "mall__name_en",
        "makeshop__makeshop_shop_id", *_LISTED_KEYS, *_SECRET_KEYS,
    )
    language = get_language()
    in_japanese = (language or "").startswith("ja")
    keyring = crypto.get_keyring()
    applications = _application_labels(language)
    # reverse() once for all rows: it costs as much as printing a row.
    sentinel = "2147483647"
    settings_url = reverse("malls:makeshop_settings", args=[sentinel])
    rows = []
    for shop in shops:
        is_makeshop = shop["mall__code"] == Mall.MAKESHOP
        connection = None
        # status is never NULL in a saved connection: NULL means the join found none.
        if is_makeshop and shop["makeshop__status"] is not None:
            connection = ListedConnection.from_values(shop, keyring)
        rows.append(
            ShopRow(
                name=shop["name"],
                mall_name=(
                    shop["mall__name"] if in_japanese or not shop["mall__name_en"]
                    else shop["mall__name_en"]
                ),
                shop_id=shop["makeshop__makeshop_shop_id"] or "",
                application=applications.get(shop["application_status"], ""),
                settings_url=(
                    settings_url.replace(sentinel, str(shop["pk"])) if is_makeshop else ""
                ),
                status=connection_status(connection) if is_makeshop else None,
                notification=last_notification(connection),
            )
        )
    return rows


@lru_cache(maxsize=8)
def _application_labels(language) -> dict[str, str]:
    return {value: str(label) for value, label in MallShop.ApplicationStatus.choices}


@never_cache
@store_member_required
def mall_list(request):
    """モール詳細設定 / 出店中のモール一覧: every shop of the current store and its state.

    Two queries whatever the number of shops: the user's stores, then the shops with
    their mall and MakeShop connection joined.
    """
    return render(request, "malls/mall_list.html", {"rows": _shop_rows(request.store)})


@never_cache
@require_http_methods(["GET", "POST"])
@store_member_required
def makeshop_add(request):
    """Add a MakeShop shop to the current store, then open its settings."""
    mall = get_object_or_404(Mall, code=Mall.MAKESHOP)
    form = AddMakeShopShopForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        shop = services.add_shop(
            store=request.store, mall=mall, name=form.cleaned_data["name"], actor=request.user,
            source=ChangeRecord.Source.MERCHANT,
        )
        return redirect("malls:makeshop_settings", shop_pk=shop.pk)
    return render(request, "malls/makeshop_add.html", {"form": form})


# --- A MakeShop shop's settings --------------------------------------------------------


def _pending_context(request, shop) -> str:
    return f"pending:{request.session.session_key}:{shop.pk}"


@sensitive_variables("data")
def _stash_pending(request, shop, data) -> None:
    """Keep an undecided save for the "keep as 接続未確認" button, secrets encrypted.

    The secrets never go back into the page: the confirming POST carries only the
    choice, and the values come from here.
    """
    if request.session.session_key is None:
        request.session.save()
    context = _pending_context(request, shop)
    request.session[PENDING_SESSION_KEY.format(shop_pk=shop.pk)] = {
        "at": time.time(),
        "shop_id": data["shop_id"],
        "version": data["version"],
        "secrets": {
            name: crypto.encrypt(data[name], context=context)
            for name in MakeShopConnection.SECRET_FIELDS
            if data.get(name)
        },
    }


@sensitive_variables("secrets")
def _pop_pending(request, shop) -> dict | None:
    """The stashed save as form data, or None if there is none, it expired or is unreadable."""
    stash = request.session.pop(PENDING_SESSION_KEY.format(shop_pk=shop.pk), None)
    if not stash or time.time() - stash.get("at", 0) > PENDING_TTL_SECONDS:
        return None
    context = _pending_context(request, shop)
    try:
        secrets = {
            name: crypto.decrypt(token, context=context)
            for name, token in stash["secrets"].items()
        }
    except crypto.DecryptionError:
        return None
    version = stash["version"]
    return {"shop_id": stash["shop_id"], "version": "" if version is None else version, **secrets}


def _drop_pending(request, shop) -> None:
    request.session.pop(PENDING_SESSION_KEY.format(shop_pk=shop.pk), None)


def _undecided_reason(verification) -> str:
    """Why MakeShop gave no verdict, in plain words."""
    failure = verification.first_failure()
    makeshop = providers.get(Mall.MAKESHOP)
    if failure is None:  # some checks could not run at all
        return makeshop.advice(None, None, rejected=False)
    return makeshop.advice(failure.check, failure.reason, rejected=False)


SAVED_MESSAGES = {
    Status.VERIFIED: gettext_lazy("The settings were saved and MakeShop accepted them."),
    Status.UNVERIFIED: gettext_lazy(
        "The settings were saved as not yet verified (接続未確認). GoQ will check them with "
        "MakeShop later."
    ),
}


@never_cache
@sensitive_post_parameters(*MakeShopConnection.SECRET_FIELDS)
@require_http_methods(["GET", "POST"])
@store_member_required
def makeshop_settings(request, shop_pk):
    """MakeShop外部システム連携設定: verify the settings with MakeShop, then save them.

    Accepted: saved, then the next steps. Rejected: nothing saved, the verdict on
    its field. MakeShop unreachable: the merchant decides whether to keep the new
    settings as 接続未確認; the choice is a second POST that carries no secret.
    """
    shop = _makeshop_shop_or_404(request, shop_pk)
    connection = _connection_of(shop)
    undecided = None
    if request.method == "POST":
        keep_unverified = request.POST.get("action") == "keep_unverified"
        if keep_unverified:
            data = _pop_pending(request, shop)
            if data is None:
                messages.error(
                    request,
                    _(
                        "The settings you entered were no longer kept (after 10 minutes they "
                        "are discarded). Enter them again."
                    ),
                )
                return redirect("malls:makeshop_settings", shop_pk=shop.pk)
        else:
            _drop_pending(request, shop)
            data = request.POST
        form = MakeShopSettingsForm(data, connection=connection)
        if form.is_valid():
            result = form.save(keep_unverified=keep_unverified, actor=request.user)
            if result is not None and result.saved:
                status = Status(result.connection.status)
                messages.success(
                    request, SAVED_MESSAGES.get(status, gettext_lazy("The settings were saved."))
                )
                return redirect("malls:makeshop_guide", shop_pk=shop.pk)
            if result is not None and result.needs_decision:
                _stash_pending(request, shop, form.cleaned_data)
                undecided = _undecided_reason(result.verification)
    else:
        _drop_pending(request, shop)
        form = MakeShopSettingsForm(connection=connection)
    return render(
        request,
        "malls/makeshop_settings.html",
        {
            "shop": shop,
            "is_new": connection._state.adding,
            "status": connection_status(None if connection._state.adding else connection),
            "form": form,
            "undecided": undecided,
        },
    )


@never_cache
@store_member_required
def makeshop_guide(request, shop_pk):
    """The next step: what to set in MakeShop, with this shop's update-notification URL."""
    shop = _makeshop_shop_or_404(request, shop_pk)
    connection = _connection_of(shop)
    if connection._state.adding:
        messages.info(request, _("Save the shop's MakeShop settings first."))
        return redirect("malls:makeshop_settings", shop_pk=shop.pk)
    notification_url = request.build_absolute_uri(notification_path(connection))
    return render(
        request,
        "malls/makeshop_guide.html",
        {
            "shop": shop,
            "connection": connection,
            "status": connection_status(connection),
            "notification_url": notification_url,
            "recent_notifications": connection.notifications.all()[:RECENT_NOTIFICATIONS],
            "old_url_valid_until": (
                connection.previous_token_expires_at
                if connection.previous_notification_token
                and connection.previous_token_expires_at
                and connection.previous_token_expires_at > timezone.now()
                else None
            ),
        },
    )


@never_cache
@store_member_required
def makeshop_new_notification_url(request, shop_pk):
    """Issue a new update-notification URL; the old one keeps working for 24 hours."""
    shop = _makeshop_shop_or_404(request, shop_pk)  # another store's shop: 404, any method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    connection = _connection_of(shop)
    if connection._state.adding:
        raise Http404
    try:
        services.rotate_notification_token(
            connection=connection, actor=request.user, source=ChangeRecord.Source.MERCHANT
        )
    except services.NotificationUrlInGrace as refused:
        messages.error(
            request,
            _(
                "No new URL was issued: the previous URL still works until %(until)s, and a new "
                "URL now would stop it early. The URL on this page is the current one; a new "
                "one can be issued after that time."
            ) % {"until": date_format(timezone.localtime(refused.until), "SHORT_DATETIME_FORMAT")},
        )
        return redirect("malls:makeshop_guide", shop_pk=shop.pk)
    messages.success(
        request,
        _(
            "A new URL was issued. Paste it into MakeShop's 更新通知APIのURL now: the old URL "
            "keeps working for 24 hours, then stops."
        ),
    )
    return redirect("malls:makeshop_guide", shop_pk=shop.pk)
