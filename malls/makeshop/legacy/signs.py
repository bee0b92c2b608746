"""What a shop's call slot lends a call: the shop's recent "not an API" answers.

Whether an HTML page means a passing block or the legacy API's closure shows only
over several answers (rule "web-pages-again" in ``answers.RULES``), and those
answers come from other calls, processes and machines. ``malls.makeshop.throttle`` keeps
them beside the shop's call slot, which every legacy call passes, and lends the
call a ``SignBook`` for its duration; the client notes each answer in it. Outside
a slot (the sandbox's own tests, a bare client) there is no book and a page stays
a page.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from typing import NamedTuple, Protocol


class SignBook(Protocol):
    def note(self, shop_id: str, *, not_an_api: bool) -> Signs:
        """Record one answer for the shop; return what is now remembered."""


RETIRED_AFTER_STREAK = 2  # the same shop's answers in a row
RETIRED_AFTER_SHOPS = 3  # different shops within RETIRED_WINDOW_SECONDS
RETIRED_WINDOW_SECONDS = 3600


class Signs(NamedTuple):
    """What the shop's evidence says (``malls.makeshop.throttle``): ``streak`` of this shop's
    answers in a row that were not an API's, ``shops`` that had one within the window."""

    streak: int
    shops: int


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
