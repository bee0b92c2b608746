"""A MakeShop stand-in for trials and tests: the standard library, ``makeshop.api``,
the new API's emulator (``makeshop.app.sandbox``) and ``malls.sandbox`` (standard
library too: it mounts other malls' stand-ins on the same port) only.

``manage.py makeshop_sandbox`` serves it for trials; tests start one on a free
port with ``make_server(...).start_in_thread()``. It answers the calls our client
makes, in the shapes MakeShop documents, and it notices callers that break
MakeShop's rate limit, so our own limiter is tested against something that would
complain. ``server`` holds the HTTP side and the rate limit, ``answers`` what each
call gets, ``shops`` the demo data. The new API's GraphQL endpoint
(``/v1/graphql``) and MakeShop's app store (installing GoQ's app in a demo shop,
over the sandbox-only ``/_sandbox/app/`` path) are served on the same port; see
``makeshop.app.sandbox``.

Demo shops: ``shops.DEMO_SHOPS`` (the README lists their codes; they are sandbox-only
and worthless anywhere else; product codes are 32 hex characters, as MakeShop's are).

What each one does is in ``shops.DEMO_SHOPS`` (``makeshop_sandbox`` prints it). The
recent period is EMPTY unless a shop has ``recent_order`` (the EUC-JP ones): the
order check asks for the last minute, and on MakeShop that is usually empty.

Answers: ``answers`` copies the shapes public sources show and marks every invented
one (``Answer.invented``, header ``X-Sandbox-Invented: yes``):

- Orders, ``cmd=get``: HTTP 200, ``<orders>`` holding the demo orders in the
  asked period, or the one ``ordernum``; ``canceled=1`` adds the cancelled one.
  Without a period or order number the orders since the previous such call are
  returned and the shop's "last fetched" marker moves, as on MakeShop; every
  ``cmd=get`` is recorded in ``order_fetches`` so tests can see which kind it was.
- Orders, ``cmd=deliver`` / ``cmd=status``: ``<response>`` with ``ordernum``,
  ``code`` 200 and ``message`` OK.
- Product: ``{"result_data": {"status_code": "200", "error_message": null,
  "access_url": ".../api/product/search/?shop_id=...&access_token=...",
  "expire_date": "yyyymmddhhmmss"}}``.
- Invented: a wrong token or unknown shop answers HTTP 200,
  ``<response><code>401</code><message>認証に失敗しました…</message></response>`` or
  ``status_code`` "401" with ``error_message``; API use not approved
  (``demo-pending``) the same with 403 and 承認されていません; the login answers
  ``FAILURE`` (known).
- Rate limit: per shop id, across every endpoint, a call that starts less than
  ``min_interval`` (1 s) after the END of the shop's previous answer, or while
  another call for the shop is in flight, gets HTTP 429 with ``Retry-After: 1`` and
  code 429 in the endpoint's format (invented), and is recorded as a violation.
  Refused calls count as calls: hammering keeps being refused. ``demo-block`` is
  blocked for a minute instead (HTTP 403 page).
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
