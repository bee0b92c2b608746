"""What a shop's call slot lends a call: the shop's recent "not an API" answers.

Whether an HTML page means a passing block or the legacy API's closure shows only
over several answers (rule "web-pages-again" in ``answers.RULES``), and those
answers come from other calls, processes and machines. ``malls.makeshop.throttle`` keeps
them on the shop's call slot row, which every legacy call passes, and lends the
call a ``SignBook`` for its duration; the client notes each answer in it. Outside
a slot (the sandbox's own tests, a bare client) there is no book and a page stays
a page.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import Protocol

from .answers import Signs


class SignBook(Protocol):
    def note(self, shop_id: str, *, not_an_api: bool) -> Signs:
        """Record one answer for the shop; return what is now remembered."""


_book: ContextVar[SignBook | None] = ContextVar("makeshop_sign_book", default=None)


@contextlib.contextmanager
def lent(book: SignBook):
    """Let the calls made in this block note their answers in ``book``."""
    token = _book.set(book)
    try:
        yield book
    finally:
        _book.reset(token)


def current() -> SignBook | None:
    return _book.get()
