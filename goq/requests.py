"""Request classes that refuse to let a client-chosen charset crash request parsing.

Django takes the Content-Type's ``charset`` as the request's encoding if Python knows
a codec by that name, and setting it decodes the query string at once, inside the
request constructor, before any middleware can answer. Codecs such as ``hex`` or
``zlib`` are not text encodings and raise there, so the server would answer 500.
These classes ignore such a charset, as Django already does for unknown ones.
"""

import codecs

from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.wsgi import WSGIRequest


def is_text_encoding(name: str) -> bool:
    try:
        return codecs.lookup(name)._is_text_encoding
    except LookupError:
        return False


class _SafeCharsetMixin:
    @property
    def encoding(self):
        return self._encoding

    @encoding.setter
    def encoding(self, value):
        if value is not None and not is_text_encoding(value):
            return  # keep the default (DEFAULT_CHARSET)
        WSGIRequest.encoding.fset(self, value)


class SafeCharsetWSGIRequest(_SafeCharsetMixin, WSGIRequest):
    pass


class SafeCharsetASGIRequest(_SafeCharsetMixin, ASGIRequest):
    pass
