"""A MakeShop stand-in for trials and tests: the standard library and ``makeshop.api`` only.

``manage.py makeshop_sandbox`` serves it for trials; tests start one on a free
port with ``make_server(...).start_in_thread()``. It answers the calls our client
makes, in the shapes MakeShop documents, and it notices callers that break
MakeShop's rate limit, so our own limiter is tested against something that would
complain. ``server`` holds the HTTP side and the rate limit, ``answers`` what each
call gets, ``shops`` the demo data.

Demo shops (the codes are sandbox-only and worthless anywhere else):

| shop id        | order auth code (`token`)        | product auth code | main admin password   |
| -------------- | -------------------------------- | ----------------- | --------------------- |
| `demo-shop`    | 0123456789abcdef0123456789abcdef | demo-product-0001 | demo-admin-password   |
| `demo-eucjp`   | fedcba9876543210fedcba9876543210 | demo-product-0002 | demo-eucjp-password   |
| `demo-pending` | 0000000000000000ffffffffffffffff | demo-product-0003 | demo-pending-password |
| `demo-maint`   | ffffffffffffffff0000000000000000 | demo-product-0004 | demo-maint-password   |

- `demo-shop` answers in UTF-8.
- `demo-eucjp` answers its XML in EUC-JP (Japanese names and addresses included).
- `demo-pending` has not had API use approved by MakeShop yet: order and product
  calls answer "not enabled" whatever the code; the login works.
- `demo-maint` answers every call with an HTTP 503 maintenance page.

Answers (MakeShop publishes no error codes: the codes below are our assumption,
and the client matches them loosely):

- Orders, ``cmd=get``: HTTP 200, ``<orders>`` holding the demo orders in the
  asked period (one is always placed 30 s before the call, so a "last minute"
  query finds it), or the one ``ordernum``; ``canceled=1`` adds the cancelled
  one. Without a period or order number the orders since the previous such call
  are returned and the shop's "last fetched" marker moves, as on MakeShop; every
  ``cmd=get`` is recorded in ``order_fetches`` so tests can see which kind it was.
- Orders, ``cmd=deliver`` / ``cmd=status``: ``<response>`` with ``ordernum``,
  ``code`` 200 and ``message`` OK.
- Wrong token or unknown shop: HTTP 200,
  ``<response><code>401</code><message>認証に失敗しました…</message></response>``;
  the product API answers ``{"result_data": {"status_code": 401, "message": …}}``
  and the login answers ``FAILURE``.
- API use not approved (``demo-pending``): the same shapes with code 403 and a
  message saying 承認されていません ("not approved").
- Rate limit: per shop id, across every endpoint, a call that starts less than
  ``min_interval`` (1 s) after the shop's previous call, or while another call
  for the shop is in flight, gets HTTP 429 with ``Retry-After: 1`` and code 429
  in the endpoint's format, and is recorded as a violation. Refused calls count
  as calls: hammering keeps being refused.
"""

from .server import (
    RATE_LIMIT_INTERVAL,
    OrderFetch,
    SandboxCall,
    SandboxServer,
    make_server,
)
from .shops import DEMO_SHOPS, DemoShop

__all__ = [
    "DEMO_SHOPS",
    "RATE_LIMIT_INTERVAL",
    "DemoShop",
    "OrderFetch",
    "SandboxCall",
    "SandboxServer",
    "make_server",
]
