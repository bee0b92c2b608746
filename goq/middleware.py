"""Request-wide middleware: a request id for logs and responses; unreadable charsets;
bounded request bodies."""

import re
import uuid

from django.conf import settings
from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import HttpResponse

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


class RequestBodyTooLarge(RequestDataTooBig):
    """A body read past ``REQUEST_BODY_MAX_BYTES`` (a 400 wherever it is not turned into
    the 413 below)."""


class CappedInput:
    """``wsgi.input`` for a body without Content-Length (chunked): reading past ``limit``
    bytes raises ``RequestBodyTooLarge``, so code that reads the raw stream itself (the
    MakeShop app webhooks, up to their own smaller cap) never takes in more than that."""

    BLOCK = 64 * 1024

    def __init__(self, stream, limit: int):
        self._stream = stream
        self._limit = limit
        self._read = 0

    def _count(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > self._limit:
            raise RequestBodyTooLarge("The request body is larger than allowed.")
        return data

    def read(self, size: int = -1) -> bytes:
        if size is not None and size >= 0:
            return self._count(self._stream.read(min(size, self._limit - self._read + 1)))
        chunks = []
        while block := self._count(self._stream.read(self.BLOCK)):
            chunks.append(block)
        return b"".join(chunks)

    def readline(self, size: int = -1) -> bytes:
        room = self._limit - self._read + 1
        return self._count(self._stream.readline(room if size is None or size < 0 else
                                                 min(size, room)))

    def __iter__(self):
        while line := self.readline():
            yield line


def _too_large() -> HttpResponse:
    return HttpResponse(
        "Request body too large.\n", status=413, content_type="text/plain; charset=utf-8"
    )


class RequestBodyLimitMiddleware:
    """Refuses, with 413, a request whose body is larger than ``REQUEST_BODY_MAX_BYTES``.

    A declared Content-Length over the cap is answered before any byte of the body is
    read, whatever the content type (multipart included: Django's own caps leave file
    parts out). A body without Content-Length (chunked) is never read by Django; the
    raw stream is capped instead, so a view reading it gets the same 413 once it has read
    past the cap. Smaller caps of their own (webhooks, notifications) still apply. Under
    ASGI, Django reads the body before any middleware: the proxy's limit
    (docs/operations.md) is what holds there. Placed inside the security-header
    middleware, so the 413 carries them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.REQUEST_BODY_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        try:
            length = int(declared) if declared else 0
        except ValueError:
            length = 0  # Django reads no body then
        if length > limit:
            return _too_large()
        stream = request.META.get("wsgi.input")
        if not declared and stream is not None:
            request.META["wsgi.input"] = CappedInput(stream, limit)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestBodyTooLarge):
            return _too_large()
        return None
