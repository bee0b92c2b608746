"""An RMS WEB SERVICE stand-in for trials and tests: the standard library and
``malls.rakuten.api`` only.

``emulator.RmsEmulator`` is a WSGI application answering the three calls GoQ makes
(under ``/es/``). The bundled sandbox of ``make run`` mounts one beside MakeShop's, on
the same port (the provider's ``sandbox_routes``, ``malls.sandbox``); tests serve it
alone on a free loopback port with ``make_server(...).start_in_thread()``. The caller
is identified by its ``Authorization: ESA …`` header, as on RMS.

Demo shops (the keys are sandbox-only; ``SANDBOX_SERVICE_SECRET`` stands for GoQ's
registered product and works with every demo licenseKey):

| 店舗URL | serviceSecret | licenseKey | how it answers |
| --- | --- | --- | --- |
| demo-rakuten | SP900001_sandboxsecret001 | SL900001_sandboxlicense001 | works, 80 days left |
| demo-expiring | SP900002_sandboxsecret002 | SL900002_sandboxlicense002 | works, 3 days left |
| demo-expired | SP900003_sandboxsecret003 | SL900003_sandboxlicense003 | 401 GA0001 everywhere |
| demo-pending | SP900004_sandboxsecret004 | SL900004_sandboxlicense004 | 401 ES01-01 until active |
| demo-no-orders | SP900005_sandboxsecret005 | SL900005_sandboxlicense005 | searchOrder refused |
| demo-no-expiry | SP900006_sandboxsecret006 | SL900006_sandboxlicense006 | expiry call refused |
| demo-no-shop | SP900007_sandboxsecret007 | SL900007_sandboxlicense007 | shopMaster refused |
| demo-neighbour | SP900008_sandboxsecret008 | SL900008_sandboxlicense008 | working (*) |
| demo-busy | SP900009_sandboxsecret009 | SL900009_sandboxlicense009 | busy |
| demo-down | SP900000_sandboxsecret000 | SL900000_sandboxlicense000 | down |

(*) Saved under any other 店舗URL, its keys are "keys of another shop".
The busy one answers 429, the down one 503, on every call.

Known shapes: the expiry date's ``{"expiryDate": "YYYY-MM-DDT23:59:59"}``; the
fields of the order search's answer; the shop master's
``shopBizApiResponse/result/shopMaster/url``. Invented (header ``X-Sandbox-Invented:
yes``): the JSON around ES01-01 / GA0001 (``{"Results": {"errorCode", "message"}}``),
the 429 and 503 answers, the order search's INFO message, the shop master's status
block. Keys refused for a missing function answer like wrong keys (401 ES01-01): RMS's
own answer for it is not public.
"""

from .emulator import RATE_LIMIT_INTERVAL, Answer, Call, RmsEmulator
from .server import SandboxServer, make_server
from .shops import DEMO_SHOPS, PENDING_SECONDS, SANDBOX_SERVICE_SECRET, Behaviour, DemoShop

__all__ = [
    "DEMO_SHOPS",
    "PENDING_SECONDS",
    "RATE_LIMIT_INTERVAL",
    "SANDBOX_SERVICE_SECRET",
    "Answer",
    "Behaviour",
    "Call",
    "DemoShop",
    "RmsEmulator",
    "SandboxServer",
    "make_server",
]
