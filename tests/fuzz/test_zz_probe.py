import pytest
from django.test import Client
from tests.factories import make_connection, make_store, make_user

pytestmark = pytest.mark.django_db

def test_probe(client):
    c = make_connection(makeshop_shop_id="demo-shop")
    base = f"/makeshop/notify/{c.notification_token}/"
    for ct in ["application/x-www-form-urlencoded; charset=rot13", "text/plain; charset=hex",
               "application/x-www-form-urlencoded; charset=utf-16", "multipart/form-data",
               "multipart/form-data; boundary=x; charset=rot13"]:
        try:
            r = client.generic("POST", base, b"shopid=demo-shop&cmd=order", content_type=ct)
            print(ct, r.status_code)
        except Exception as e:
            print(ct, "EXC", type(e).__name__, e)
    try:
        r = client.generic("POST", base, "[" * 5000, content_type="application/json")
        print("json deep", r.status_code)
    except Exception as e:
        print("json deep EXC", type(e).__name__, e)

def test_switch(client):
    u = make_user()
    s = make_store(members=[u])
    client.force_login(u)
    for nxt in ["x", "login", "/ok", "a.b", "//evil", "\x00"]:
        try:
            r = client.post("/settings/store/", {"store": str(s.pk), "next": nxt})
            print(repr(nxt), r.status_code, r.get("Location"))
        except Exception as e:
            print(repr(nxt), "EXC", type(e).__name__, e)

def test_login_nul(client):
    try:
        r = client.post("/accounts/login/", {"username": "a\x00b", "password": "x"})
        print("nul", r.status_code)
    except Exception as e:
        print("nul EXC", type(e).__name__, e)
