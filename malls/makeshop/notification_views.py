"""The endpoint MakeShop calls with update notifications (更新通知).

The only view without CSRF protection: MakeShop cannot send a CSRF token, and the
unguessable token in the URL authenticates the caller instead. Answers are tiny
plain-text status lines; MakeShop ignores them and nobody else should learn more.
Checks run cheapest first, and nothing the caller sent is parsed before the token
is known to be good.
"""

import json
import logging
import time
from http import HTTPStatus

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from malls.makeshop import notification_records as notifications
from malls.makeshop.notification_records import MalformedNotification, NotificationRejected

logger = logging.getLogger(__name__)

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@csrf_exempt
def receive_notification(request, token, **path_values):
    """Check, record and acknowledge one notification (``notification_records``)."""
    if request.method not in ("GET", "POST"):
        response = _answer(HTTPStatus.METHOD_NOT_ALLOWED)
        response["Allow"] = "GET, POST"
        return response
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _answer(HTTPStatus.BAD_REQUEST)
    if declared > notifications.MAX_BODY_BYTES:
        return _answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    sender = notifications.sender_address(request)
    connection = notifications.find_connection(token)
    if connection is None:
        if not notifications.allow_unknown_token(sender):
            return _too_many(notifications.MISS_WINDOW_SECONDS)
        logger.debug("Notification with an unknown token from %s", sender)
        return _answer(HTTPStatus.NOT_FOUND)
    rejected = None
    try:
        notification = notifications.parse_notification(
            path_values, _body_values(request), request.GET
        )
    except NotificationRejected as exc:
        rejected = exc

    # Refused notifications count too. The count and the record commit together:
    # commits (WAL flushes) are most of this endpoint's cost.
    with transaction.atomic():
        if not notifications.allow_delivery(token):
            logger.warning("Notification rate limit reached for MakeShop connection %s",
                           connection.pk)
            return _too_many(notifications.RATE_WINDOW_SECONDS)
        if rejected is None:
            notifications.record_notification(
                connection=connection, notification=notification, sender=sender
            )
    if rejected is not None:
        logger.warning("MakeShop notification refused (%s): %s", type(rejected).__name__, rejected)
        return _answer(HTTPStatus(rejected.status))
    return _answer(HTTPStatus.OK, "OK")


def _body_values(request):
    """The body's parameters: a form, a flat JSON object, or URL-encoded text sent as
    anything else (the content type MakeShop uses is not published)."""
    if request.method != "POST":
        return {}
    try:
        if request.content_type == "application/x-www-form-urlencoded" and _not_utf8(request):
            # Django reads such forms as UTF-8 only and refuses any other charset label
            # (RFC 1866). MakeShop's charset is not published and its API answers in
            # EUC-JP or Shift_JIS: decode with the declared one instead of losing it.
            return QueryDict(request.body, encoding=request.encoding)
        if request.content_type in _FORM_TYPES:
            return request.POST
        if not request.body:
            return {}
        if request.content_type == "application/json":
            data = json.loads(request.body)
            if not isinstance(data, dict):
                raise MalformedNotification("JSON body is not an object")
            return data
        return QueryDict(request.body, encoding=request.encoding)
    except (
        ValueError, LookupError, MultiPartParserError, SuspiciousOperation, BadRequest
    ) as exc:
        raise MalformedNotification(f"unreadable body: {type(exc).__name__}") from exc


def _not_utf8(request) -> bool:
    # The same test as Django's (HttpRequest._load_post_and_files).
    return request.encoding is not None and request.encoding.lower() != "utf-8"


def _answer(status: HTTPStatus, body: str | None = None) -> HttpResponse:
    response = HttpResponse(
        body or status.phrase, status=status, content_type="text/plain; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    # Django's request logger would write every 4xx with its path (token guessing would
    # flood the log): goq.logging.NotificationRequestFilter drops those lines, as this
    # view logs its refusals itself.
    return response


def _too_many(window_seconds: int) -> HttpResponse:
    response = _answer(HTTPStatus.TOO_MANY_REQUESTS)
    response["Retry-After"] = str(window_seconds - int(time.time()) % window_seconds)
    return response
