"""Request classes that refuse to let a client-chosen charset crash request parsing.

Django takes the Content-Type's ``charset`` as the request's encoding if Python knows
a codec by that name, and setting it decodes the query string at once, inside the
request constructor, before any middleware can answer. Some codecs Python knows cannot
decode text at all: ``hex`` and ``zlib`` are not text encodings, ``undefined`` always
raises, ``idna`` refuses the ``errors="replace"`` Django decodes with. The server would
answer with a bare 500. These classes keep the default encoding instead and note the
charset, and ``goq.middleware.UnreadableCharsetMiddleware`` answers 400 (inside the
security-header middleware, so the answer carries them). The same for a Content-Type
Django cannot parse.
"""

import codecs
import functools
from urllib.parse import unquote

from django.core.exceptions import BadRequest
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpRequest

# What Django decodes with a request's charset: raw bytes (bodies, multipart field
# names) and percent-escapes (query strings, form bodies); non-ASCII and broken input.
_PROBES = (b"a=%FF%E3%81%82&b=\xff\xfe\x00\xe3\x81", b"\\x\\u12+%", bytes(range(256)))


def is_text_encoding(name: str) -> bool:
    try:
        return codecs.lookup(name)._is_text_encoding
    except LookupError:
        return False


@functools.lru_cache(maxsize=256)
def is_readable_charset(name: str) -> bool:
    """Whether Django can decode any input with ``name`` without raising."""
    if not is_text_encoding(name):
        return False
    try:
        for probe in _PROBES:
            probe.decode(name, "replace")
            unquote(probe.decode("latin-1"), encoding=name, errors="replace")
    except (UnicodeError, ValueError, LookupError, TypeError):
        return False
    return True


def is_unreadable_charset(name) -> bool:
    """A charset Python knows (Django would use it) but that cannot decode text. Names
    Python does not know are not: Django ignores those by itself."""
    if not name:
        return False
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return not is_readable_charset(name)


class _SafeCharsetMixin:
    """Keeps the default encoding when the declared one cannot decode; the charset is
    still in ``content_params`` for the middleware to refuse. A Content-Type Django
    cannot parse at all (too long; an RFC 2231 parameter in such a codec,
    ``charset*=undefined''x``) is noted as ``unreadable_content_type`` instead of
    raising from the constructor."""

    unreadable_content_type = False

    def _set_content_type_params(self, meta):
        try:
            super()._set_content_type_params(meta)
        except (BadRequest, ValueError, UnicodeError, LookupError):
            self.content_type, self.content_params = "", {}
            self.unreadable_content_type = True

    @property
    def encoding(self):
        return self._encoding

    @encoding.setter
    def encoding(self, value):
        if value is not None and is_unreadable_charset(value):
            return  # keep the default (DEFAULT_CHARSET)
        # HttpRequest's setter: it drops GET and POST decoded with the old encoding.
        HttpRequest.encoding.fset(self, value)


class SafeCharsetWSGIRequest(_SafeCharsetMixin, WSGIRequest):
    pass


class SafeCharsetASGIRequest(_SafeCharsetMixin, ASGIRequest):
    pass
