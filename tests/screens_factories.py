"""Helpers for the merchant-screen tests: a running sandbox and a scripted MakeShop."""

from contextlib import contextmanager

from malls.makeshop import Check, CheckResult, Outcome
from malls.makeshop.sandbox import DEMO_SHOPS, make_server

from .factories import make_store, make_user

DEMO = DEMO_SHOPS["demo-shop"]


def demo_codes(shop_id="demo-shop") -> dict:
    """The form fields that the sandbox accepts for one of its demo shops."""
    shop = DEMO_SHOPS[shop_id]
    return {
        "shop_id": shop.shop_id,
        "password": shop.password,
        "order_auth_code": shop.order_token,
        "product_auth_code": shop.product_code,
    }


@contextmanager
def running_sandbox(**kwargs):
    """The MakeShop sandbox on a free local port, for the duration of the block."""
    server = make_server(**kwargs).start_in_thread()
    try:
        yield server
    finally:
        server.shutdown()


def make_member(*, stores=1, **user_kwargs):
    """A user and the store(s) they belong to: ``(user, [store, ...])``."""
    user = make_user(**user_kwargs)
    return user, [make_store(members=[user]) for _ in range(stores)]


class ScriptedMakeShop:
    """A MakeShop client whose verdicts are given in advance, per check.

    Stands in for ``malls.makeshop.MakeShopClient`` where a test needs a
    precise verdict rather than one of the sandbox's demo shops.
    """

    def __init__(self, **verdicts):
        # check name -> Outcome or (Outcome, reason); anything unlisted is accepted.
        self.verdicts = verdicts
        self.calls = []

    def _answer(self, check, shop_id):
        self.calls.append((check, shop_id))
        verdict = self.verdicts.get(str(check), Outcome.ACCEPTED)
        outcome, reason = verdict if isinstance(verdict, tuple) else (verdict, "")
        return CheckResult(check=check, outcome=outcome, reason=reason)

    def verify(self, check, *, shop_id, secret, now=None):
        return self._answer(Check(check), shop_id)

    def verify_order_auth_code(self, *, shop_id, auth_code, now=None):
        return self._answer(Check.ORDER_AUTH_CODE, shop_id)

    def verify_product_auth_code(self, *, shop_id, auth_code):
        return self._answer(Check.PRODUCT_AUTH_CODE, shop_id)

    def verify_login(self, *, shop_id, password):
        return self._answer(Check.PASSWORD, shop_id)
