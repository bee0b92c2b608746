"""The bundled sandbox (``make run``): MakeShop's server mounts RMS's stand-in on its port,
found through the registry, and answers both malls over real HTTP."""

import io

import pytest
from django.core.management import call_command

from malls import sandbox as mall_sandboxes
from malls.makeshop import Check as MakeShopCheck
from malls.makeshop.legacy.client import MakeShopClient
from malls.makeshop.sandbox import DEMO_SHOPS as MAKESHOP_SHOPS
from malls.makeshop.sandbox import SandboxServer, make_server
from malls.rakuten.api import Reason
from malls.rakuten.client import RakutenClient, call_slot
from malls.rakuten.sandbox import RmsEmulator

from .conftest import ROOMY, keys_of


@pytest.fixture
def bundled():
    server = make_server(mounts=mall_sandboxes.mall_routes(serving="makeshop"))
    server.start_in_thread()
    yield server
    server.shutdown()


def test_rakuten_contributes_its_routes_through_the_registry():
    routes = mall_sandboxes.mall_routes(serving="makeshop")
    assert [(route.mall, route.prefix) for route in routes] == [("rakuten", "/es/")]
    assert isinstance(routes[0].app, RmsEmulator)
    assert mall_sandboxes.route_for(routes, "/es/1.0/shop/shopMaster") is routes[0]
    assert mall_sandboxes.route_for(routes, "/api/orderinfo") is None


@pytest.mark.django_db
def test_one_port_answers_both_malls(bundled):
    rakuten = RakutenClient(bundled.url, pace=call_slot, **ROOMY)
    try:
        verification = rakuten.verify(shop_url="demo-rakuten", **keys_of("demo-rakuten"))
        refused = rakuten.read_expiry(shop_url="demo-rakuten", service_secret="SPx",
                                      license_key="SLx")
    finally:
        rakuten.close()
    assert verification.ok, verification
    assert verification.facts.expires_on is not None
    assert refused.reason is Reason.UNAUTHORISED
    (emulator,) = (route.app for route in bundled.mounts)
    assert [call.endpoint for call in emulator.calls] == ["expiry", "orders", "shop", "expiry"]
    assert emulator.violations == 0  # the DB call slots spaced the shop's calls

    makeshop = MakeShopClient(bundled.url)
    try:
        result = makeshop.verify(
            MakeShopCheck.ORDER_AUTH_CODE, shop_id="demo-shop",
            secret=MAKESHOP_SHOPS["demo-shop"].order_token,
        )
    finally:
        makeshop.close()
    assert result.ok, result
    assert [call.endpoint for call in bundled.calls] == ["orderinfo"]


def test_makeshop_sandbox_serves_the_other_malls_on_its_port(monkeypatch):
    def stop_at_once(self, *args, **kwargs):
        raise KeyboardInterrupt

    served = []
    monkeypatch.setattr(SandboxServer, "serve_forever", stop_at_once)
    monkeypatch.setattr(SandboxServer, "server_close",
                        lambda self: served.append(self) or self.socket.close())
    out = io.StringIO()

    call_command("makeshop_sandbox", "--port", "0", stdout=out)

    (server,) = served
    assert [route.mall for route in server.mounts] == ["rakuten"]
    assert f"Also served here: mall 'rakuten' under {server.url}/es/" in out.getvalue()
