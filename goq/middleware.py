"""Request-wide middleware: a request id for logs and responses; unreadable charsets."""

import re
import uuid

from django.core.exceptions import BadRequest

from core.redaction import notification_token_in

from .logging import request_id_var, request_secrets_var
from .requests import is_unreadable_charset

_SAFE_REQUEST_ID = re.compile(r"\A[A-Za-z0-9._-]{8,64}\Z")


class RequestIdMiddleware:
    """Gives each request an id, kept in logs and returned as ``X-Request-ID``, and
    tells the log formatters which secret the request carries (a notification token).

    An id sent by the proxy is kept only if it is short and plain, so it cannot carry
    anything into the logs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request.id)
        notification_token = notification_token_in(request.path_info)
        secrets = request_secrets_var.set((notification_token,) if notification_token else ())
        try:
            response = self.get_response(request)
        finally:
            request_secrets_var.reset(secrets)
            request_id_var.reset(token)
        response["X-Request-ID"] = request.id
        return response


class UnreadableCharsetMiddleware:
    """Answers 400 to a request whose Content-Type names a charset Python knows but
    cannot decode with (``undefined``, ``idna``, ``hex``…; see ``goq.requests``), before
    anything reads its query or body. Placed inside the security-header middleware."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(request, "unreadable_content_type", False) or is_unreadable_charset(
            request.content_params.get("charset")
        ):
            raise BadRequest("The request's Content-Type or charset cannot be read.")
        return self.get_response(request)
