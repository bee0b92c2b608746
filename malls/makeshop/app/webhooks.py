"""The URLs MakeShop POSTs to for GoQ's app: install, uninstall, order updates, re-consent.

MakeShop's own pages document no signature on these webhooks (``makeshop-api.md``), so
they are protected by ``MAKESHOP_APP_WEBHOOK_SECRET`` as a path segment (one of its
secrets), compared in constant time; a wrong secret, or the new API being off, answers
404 like any unknown URL. With ``MAKESHOP_APP_API_SECRET`` set they must also carry the
signature a secondary source describes (``authenticity``, assumed; else 401, nothing
stored); whether its headers arrive is recorded either way (``receipts``).
Install and uninstall also carry ``app_id``, which must be GoQ's (else 403). Checks run
cheapest first and nothing is stored before all have passed, but for a refused install's
receipt (its shape, never its token): a refused install fails the merchant's install,
so staff must see it. Bodies: any legal framing up to ``MAX_BODY_BYTES`` (``_read_body``);
a body that cannot be read is a 4xx, never a 500.

Answers are tiny plain-text status lines marked as already logged: Django's request
logger would otherwise write every 4xx with its path, the secret included; this
module logs refusals itself, without the path. For the same reason the path is
masked in the server and urllib3 loggers (``core.redaction``).

Order-update webhook (its body is not published; **assumed**, see
``receipts.read_order_update``): the shop is named in the path (``.../orders/<shop_id>``)
or in the body (a few objects down); every order number in the body is recorded. The
update is accepted only for a shop with a current installation (else 404), and at
most ``UPDATE_LIMIT`` per installation per ``UPDATE_WINDOW_SECONDS`` (else 429 with
Retry-After), like the legacy notifications' per-token limit: the webhook secret is
shared by every shop, so the limit is what caps one shop's flood (or a leaked secret
replaying one shop) without touching the others. A body naming no shop but GoQ's
``app_id`` is answered 200 and kept for staff as an unrecognised shape (key names and
sizes only): a real body GoQ misreads must be seen, not refused.
"""

import contextlib
import hmac
import json
import logging
import re
import traceback
from http import HTTPStatus

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables

from core.redaction import install_log_redaction
from malls import ratelimits
from malls.makeshop import api
from malls.makeshop import notification_records as notifications
from malls.makeshop import notifications as makeshop_notifications
from malls.providers import Notification

from . import authenticity, installations, receipts
from .config import get_config

logger = logging.getLogger("malls.makeshop.app.webhooks")

MAX_BODY_BYTES = 64 * 1024
MAX_TOKEN_LENGTH = 2048
# Wrong secrets per sender network: bounds guessing; never applies to the right secret.
MISS_LIMIT = 60
MISS_WINDOW_SECONDS = 600
# Order updates per installation: the legacy notifications' per-token figures (MakeShop
# POSTs every 2 minutes; its retries are unknown, so a 429 may lose one: set well above).
UPDATE_LIMIT = notifications.RATE_LIMIT
UPDATE_WINDOW_SECONDS = notifications.RATE_WINDOW_SECONDS

# MakeShop's one shop-ID rule (the legacy settings' validator uses it too).
SHOP_ID_RE = api.SHOP_ID_RE
# A token goes into an HTTP header later: printable ASCII without spaces only.
_TOKEN_RE = re.compile(r"[\x21-\x7e]+", re.ASCII)
_JSON_TYPES = ("application/json",)


class _Refused(Exception):
    def __init__(self, status: HTTPStatus, why: str):
        super().__init__(why)
        self.status = status


# --- Views ----------------------------------------------------------------------------


@csrf_exempt
@sensitive_post_parameters()
def install(request, secret):
    return _serve(request, secret, _install)


@csrf_exempt
@sensitive_post_parameters()
def uninstall(request, secret):
    return _serve(request, secret, _uninstall)


@csrf_exempt
def order_update(request, secret, shop_id=""):
    return _serve(request, secret, _order_update, strict_json=False, shop_id=shop_id)


@csrf_exempt
def reconsent(request, secret):
    return _serve(request, secret, _reconsent, strict_json=False)


@sensitive_variables()
def _serve(request, secret, action, *, strict_json=True, **kwargs):
    """The checks every webhook shares, then ``action``; no exception leaves here."""
    data = None
    try:
        config = get_config()
        if not config.enabled or not _known_secret(secret, config):
            return _miss(request, action)
        if request.method != "POST":
            response = _answer(HTTPStatus.METHOD_NOT_ALLOWED)
            response["Allow"] = "POST"
            return response
        body = _read_body(request)
        if config.api_secret:
            try:
                scheme = authenticity.verify(
                    api_secret=config.api_secret, headers=request.headers, body=body
                )
            except authenticity.SignatureRefused as refused:
                raise _Refused(HTTPStatus.UNAUTHORIZED, f"signature: {refused}") from None
            logger.debug("MakeShop app webhook signature matched (%s)", scheme)
        data = _json_body(request, body, strict=strict_json)
        return action(request, data, config, signed=bool(config.api_secret), **kwargs)
    except _Refused as refused:
        if action is _install and refused.status != HTTPStatus.UNAUTHORIZED:
            _refused_install(request, data, refused)
        else:
            logger.warning("MakeShop app webhook refused (%s): %s", refused.status.value,
                           refused)
        return _answer(refused.status)
    except Exception as exc:  # the traceback's locals and texts may hold the token
        logger.error(
            "MakeShop app webhook failed: %s\n%s",
            type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)),
        )
        return _answer(HTTPStatus.INTERNAL_SERVER_ERROR)


def _known_secret(secret: str, config) -> bool:
    """Whether ``secret`` is one of the served ones; every one compared, in constant time."""
    given = secret.encode()
    matches = [hmac.compare_digest(given, known.encode()) for known in config.webhook_secrets]
    return any(matches)


def _read_body(request) -> bytes:
    """The raw body in any legal framing, at most ``MAX_BODY_BYTES``; else ``_Refused`` (4xx).

    With a Content-Length Django reads it. Without one (``Transfer-Encoding: chunked``)
    Django sees an empty body, which would lose an install's token for good (MakeShop
    sends it once): the input is read here up to the cap, but only when the server says
    where the body ends (``wsgi.input_terminated``, as gunicorn does after decoding the
    chunks); a server that does not gets 411, never a read that waits on the socket.
    """
    meta = request.META
    length = meta.get("CONTENT_LENGTH")
    try:
        if length not in (None, ""):
            declared = int(length)
            if declared < 0:
                raise _Refused(HTTPStatus.BAD_REQUEST, "negative Content-Length")
            if declared > MAX_BODY_BYTES:
                raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over the size cap")
            return request.body
        if not meta.get("wsgi.input_terminated"):
            if meta.get("HTTP_TRANSFER_ENCODING"):
                raise _Refused(HTTPStatus.LENGTH_REQUIRED, "framing this server cannot end")
            return b""
        body = meta["wsgi.input"].read(MAX_BODY_BYTES + 1)
    except ValueError:
        raise _Refused(HTTPStatus.BAD_REQUEST, "Content-Length is not a number") from None
    except (OSError, RequestDataTooBig):  # the sender went away, or Django's own cap
        raise _Refused(HTTPStatus.BAD_REQUEST, "body could not be read") from None
    if len(body) > MAX_BODY_BYTES:
        raise _Refused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "body over the size cap")
    request._body = body  # what ``request.body`` answers from now on
    return body


def _json_body(request, body: bytes, *, strict: bool) -> dict:
    if request.content_type not in _JSON_TYPES:
        if strict:
            raise _Refused(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "not JSON")
        try:  # the order update's content type is not published: JSON if it reads as JSON
            data = json.loads(body) if body.strip() else {}
        except (ValueError, RecursionError):
            return {}
        return data if isinstance(data, dict) else {}
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise _Refused(HTTPStatus.BAD_REQUEST, "malformed JSON") from None
    if not isinstance(data, dict):
        raise _Refused(HTTPStatus.BAD_REQUEST, "JSON body is not an object")
    return data


def _check_app_id(data, config, *, required=True) -> None:
    app_id = data.get("app_id")
    if app_id is None and not required:
        return
    if isinstance(app_id, int) and not isinstance(app_id, bool):
        app_id = str(app_id)
    if not isinstance(app_id, str) or not hmac.compare_digest(
        app_id.encode(), config.app_id.encode()
    ):
        raise _Refused(HTTPStatus.FORBIDDEN, "app_id is not GoQ's")


def _shop_id(value) -> str:
    if not isinstance(value, str) or not SHOP_ID_RE.fullmatch(value):
        raise _Refused(HTTPStatus.BAD_REQUEST, "shop_id missing or not a MakeShop shop ID")
    return value


def _label(value, limit) -> str:
    """plan_id / app_name as text shown to staff: control characters dropped, cut short."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return ""
    return " ".join("".join(char for char in value if char.isprintable()).split())[:limit]


@sensitive_variables()
def _install(request, data, config, *, signed=False):
    _check_app_id(data, config)
    shop_id = _shop_id(data.get("shop_id"))
    token = data.get("token")
    if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH or not (
        _TOKEN_RE.fullmatch(token)
    ):
        raise _Refused(HTTPStatus.BAD_REQUEST, "token missing or malformed")
    # client_id / client_secret (SSO apps only) are not used by GoQ: never stored.
    with transaction.atomic():  # one commit for the token and its receipt
        installation = installations.store_installation(
            shop_id=shop_id, token=token,
            plan_id=_label(data.get("plan_id"), 100), app_name=_label(data.get("app_name"), 200),
        )
        _receipt(request, data, receipts.Kind.INSTALL, installation, shop_id)
    logger.info("MakeShop app installed for shop %s", shop_id)
    return _answer(HTTPStatus.OK, "OK")


def _uninstall(request, data, config, *, signed=False):
    _check_app_id(data, config)
    shop_id = _shop_id(data.get("shop_id"))
    with transaction.atomic():
        found = installations.uninstall(shop_id=shop_id, confirmed=signed)
        _receipt(request, data, receipts.Kind.UNINSTALL, found, shop_id)
    logger.info("MakeShop app uninstalled for shop %s%s", shop_id, "" if found else " (unknown)")
    return _answer(HTTPStatus.OK, "OK")


def _order_update(request, data, config, *, signed=False, shop_id=""):
    _check_app_id(data, config, required=False)
    if shop_id:
        _shop_id(shop_id)
    update = receipts.read_order_update(data, shop_id=shop_id)
    if not SHOP_ID_RE.fullmatch(update.shop_id):
        if "app_id" not in data:  # nothing says this came from MakeShop for GoQ's app
            raise _Refused(HTTPStatus.BAD_REQUEST, "order update naming no shop")
        # GoQ's app, a body GoQ cannot read: answered, and shown to staff, never lost.
        receipts.record(kind=receipts.Kind.ORDERS, recognised=False, shape=update.shape,
                        signature_headers=receipts.signatures(request), request=request)
        logger.warning("MakeShop app order update of an unrecognised shape (no shop ID)")
        return _answer(HTTPStatus.OK, "OK")
    kind = makeshop_notifications.kind_for_command(update.event)
    command = makeshop_notifications.sanitize_command(update.event)
    notices = [
        Notification(shop_id=update.shop_id, order_number=number, kind=kind,
                     raw_command=command)
        for number in update.order_numbers or [""]
    ]
    installation = installations.current_installation(update.shop_id)
    if installation is None:
        raise _Refused(HTTPStatus.NOT_FOUND, "order update for a shop without an installation")
    # The count and the record commit together (one commit per update, as for the legacy
    # notifications); an update over the limit is counted too.
    with transaction.atomic():
        if not ratelimits.hit(
            update_rate_key(installation.pk), limit=UPDATE_LIMIT,
            window_seconds=UPDATE_WINDOW_SECONDS,
        ):
            logger.warning("MakeShop app order-update limit reached for shop %s", update.shop_id)
            response = _answer(HTTPStatus.TOO_MANY_REQUESTS)
            response["Retry-After"] = str(UPDATE_WINDOW_SECONDS)
            return response
        recorded = installations.record_order_update(
            shop_id=update.shop_id, notices=notices,
            sender=notifications.sender_address(request), installation=installation,
        )
        signatures = receipts.signatures(request)
        if recorded is not None and (not update.recognised or signatures):
            # A linked shop's ordinary update is on record as its notifications already;
            # a receipt for it too would cost every update a write (bench/app_webhooks.py).
            receipts.record(
                kind=receipts.Kind.ORDERS, installation=installation, shop_id=update.shop_id,
                order_numbers=update.order_numbers, recognised=update.recognised,
                shape=update.shape, signature_headers=signatures, request=request,
            )
    if recorded is None:  # uninstalled meanwhile
        raise _Refused(HTTPStatus.NOT_FOUND, "order update for a shop without an installation")
    if not update.recognised:
        logger.warning("MakeShop app order update of an unrecognised shape for shop %s",
                       update.shop_id)
    return _answer(HTTPStatus.OK, "OK")


def _refused_install(request, data, refused) -> None:
    """A refused install fails the merchant's install (MakeShop shows an error): logged as
    such and kept for staff with its shape, never its token."""
    data = data if isinstance(data, dict) else {}
    shop_id = data.get("shop_id")
    shop_id = shop_id if isinstance(shop_id, str) and SHOP_ID_RE.fullmatch(shop_id) else ""
    logger.warning("MakeShop app install refused (%s) for shop %s: %s; the merchant's "
                   "install fails", refused.status.value, shop_id or "?", refused)
    with contextlib.suppress(DatabaseError):  # the answer matters more than the receipt
        receipts.record(kind=receipts.Kind.INSTALL, shop_id=shop_id, status=refused.status,
                        recognised=False, shape=receipts.body_shape(data),
                        signature_headers=receipts.signatures(request), request=request)


def _reconsent(request, data, config, *, signed=False):
    """ショップ利用情報への再同意通知: the shop agreed again to the data GoQ's app uses (sent
    when the app's APIs change after publication; body not published, **assumed** to name
    the shop like the others). Answered 200, kept for staff, and the token verified again."""
    _check_app_id(data, config, required=False)
    shop_id = receipts.read_order_update(data).shop_id
    if not shop_id and "app_id" not in data:
        raise _Refused(HTTPStatus.BAD_REQUEST, "re-consent naming no shop")
    installation = installations.note_reconsent(shop_id=shop_id) if shop_id else None
    receipts.record(kind=receipts.Kind.RECONSENT, installation=installation, shop_id=shop_id,
                    recognised=installation is not None, shape=receipts.body_shape(data),
                    signature_headers=receipts.signatures(request), request=request)
    logger.info("MakeShop app re-consent for shop %s%s", shop_id or "?",
                "" if installation else " (no installation)")
    return _answer(HTTPStatus.OK, "OK")


def _receipt(request, data, kind, installation, shop_id) -> None:
    """Keep what an install or uninstall looked like (key names and sizes) for staff."""
    receipts.record(kind=kind, installation=installation, shop_id=shop_id,
                    shape=receipts.body_shape(data),
                    signature_headers=receipts.signatures(request), request=request)


def update_rate_key(installation_id) -> str:
    """The rate-limit key of one installation's order updates (no secret in it)."""
    return f"app-orders:{installation_id}"


# --- Answers ---------------------------------------------------------------------------------


def _miss(request, action=None) -> HttpResponse:
    sender = notifications.sender_address(request)
    with transaction.atomic():
        allowed = ratelimits.hit(
            "app-miss:" + notifications.sender_rate_key(sender).partition(":")[2],
            limit=MISS_LIMIT, window_seconds=MISS_WINDOW_SECONDS,
        )
    if not allowed:
        response = _answer(HTTPStatus.TOO_MANY_REQUESTS)
        response["Retry-After"] = str(MISS_WINDOW_SECONDS)
        return response
    if action is _install and get_config().enabled:
        # Perhaps MakeShop still posts to a URL whose secret was removed too early: the
        # merchant's install fails, so say so loudly (the secret itself is not logged).
        logger.warning(
            "MakeShop app install refused (404): the URL's secret is not one of "
            "MAKESHOP_APP_WEBHOOK_SECRET's; if MakeShop still uses an old webhook URL, add "
            "its secret back (from %s)", sender,
        )
    else:
        logger.debug("MakeShop app webhook with a wrong secret (or the new API off) from %s",
                     sender)
    return _answer(HTTPStatus.NOT_FOUND)


def _answer(status: HTTPStatus, body: str | None = None) -> HttpResponse:
    response = HttpResponse(
        body or status.phrase, status=status, content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # see the module docstring
    return response


install_log_redaction()
