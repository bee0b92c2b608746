"""Sign-in limits (django-axes) over HTTP, on both doors: per account (however the name
is written) and per client address (an IPv6 /64 as one), a real cool-off the page
states, staff unlock, and log lines without passwords."""

import base64
import json
import logging
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import signing
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from goq.logging import JsonFormatter
from goq.signin import KNOWN_BROWSER_SALT, normalise_username
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "right-pass-2026"
WRONG = "wrong-guess-4711"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.SIGNIN_MAX_FAILURES = 3
    settings.SIGNIN_LOCKOUT_SECONDS = 15 * 60


def sign_in(client, username, password, address="203.0.113.7", door="login", **headers):
    return client.post(
        reverse(door), {"username": username, "password": password},
        REMOTE_ADDR=address, **headers,
    )


def admin_sign_in(client, username, password, address="203.0.113.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def is_locked_out(response):
    return response.status_code == 429 and "_auth_user_id" not in response.client.session


def lock(client, username="lockuser", address="203.0.113.7"):
    for _ in range(3):
        sign_in(client, username, WRONG, address=address)


# --- The basics --------------------------------------------------------------------


def test_repeated_failures_lock_the_account_with_a_clear_page(client):
    make_user(username="lockuser", password=PASSWORD)
    assert sign_in(client, "lockuser", WRONG).status_code == 200
    assert sign_in(client, "lockuser", WRONG).status_code == 200
    third = sign_in(client, "lockuser", WRONG)
    assert third.status_code == 429
    refused = sign_in(client, "lockuser", PASSWORD)
    assert is_locked_out(refused)
    assert refused.context["form"].errors.as_data()["__all__"][0].code == "locked_out"
    # Our own page, with the security headers.
    assert b'name="username"' in refused.content
    assert refused["Content-Security-Policy"] and refused["X-Frame-Options"] == "DENY"
    assert 1 <= int(refused["Retry-After"]) <= 15 * 60


def test_the_page_states_the_wait_in_japanese_and_english(client):
    make_user(username="lockuser", password=PASSWORD)
    ten = timezone.make_aware(datetime(2026, 11, 2, 10, 0))  # Asia/Tokyo
    with time_machine.travel(ten, tick=False):
        lock(client)
    # Tries while locked out do not extend the lock, and the page tells what is left.
    with time_machine.travel(ten + timedelta(minutes=5), tick=False):
        ja = sign_in(client, "lockuser", PASSWORD)
        client.cookies["django_language"] = "en"
        en = sign_in(client, "lockuser", PASSWORD)
    assert "10:15まで（あと10分）" in ja.content.decode()
    assert "locked until 10:15 (10 minutes from now)" in en.content.decode()
    assert ja["Retry-After"] == str(10 * 60)


def test_the_cool_off_ends_on_time(client):
    make_user(username="lockuser", password=PASSWORD)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        lock(client)
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert is_locked_out(sign_in(client, "lockuser", PASSWORD))
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert sign_in(client, "lockuser", PASSWORD).status_code == 302


def test_success_clears_the_failures(client):
    make_user(username="shopkeeper", password=PASSWORD)
    sign_in(client, "shopkeeper", WRONG)
    sign_in(client, "shopkeeper", WRONG)
    assert sign_in(client, "shopkeeper", PASSWORD).status_code == 302
    client.logout()
    sign_in(client, "shopkeeper", WRONG)
    sign_in(client, "shopkeeper", WRONG)
    assert sign_in(client, "shopkeeper", PASSWORD).status_code == 302


# --- Names: Django's normalisation, any case ---------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "lockuser",
        "ｌｏｃｋｕｓｅｒ",  # fullwidth
        "ｌockuser",
        "𝐥ockuser",  # mathematical bold
        "𝓁𝑜𝒸𝓀𝓊𝓈𝑒𝓇",  # mathematical script and italic
        "ℓockuser",  # script small l
        "LOCKUSER",
        "LockUser",
        "  lockuser  ",
        "ＬＯＣＫＵＳＥＲ",
    ],
)
def test_every_compatibility_form_of_a_locked_name_is_refused(client, variant):
    make_user(username="lockuser", password=PASSWORD)
    lock(client)
    response = sign_in(client, variant, PASSWORD)
    assert is_locked_out(response), variant


def compatibility_forms(letters):
    """For each of ``letters``, every other character that Django's NFKC (and our
    case-folding) reads as it."""
    forms = {letter: [] for letter in letters}
    for char in map(chr, range(0x110000)):
        if char not in forms and (key := normalise_username(char)) in forms:
            forms[key].append(char)
    return forms


def test_every_compatibility_form_of_every_letter_is_the_same_account(client):
    make_user(username="lockuser", password=PASSWORD)
    lock(client)
    forms = compatibility_forms(set("lockuser"))
    variants = [
        "lockuser"[:i] + form + "lockuser"[i + 1:]
        for i, letter in enumerate("lockuser")
        for form in forms[letter]
    ]
    assert len(variants) > 100  # ｌ, 𝐥, ℓ, Ｌ, ⓛ… for each letter
    refused = [variant for variant in variants if is_locked_out(sign_in(client, variant, PASSWORD))]
    assert refused == variants


def test_look_alike_names_give_no_extra_guesses(client):
    make_user(username="lockuser", password=PASSWORD)
    # One failure each under three spellings is three failures of one account.
    for variant in ("ｌockuser", "𝐥ockuser", "LOCKUSER"):
        sign_in(client, variant, WRONG)
    assert is_locked_out(sign_in(client, "lockuser", PASSWORD))


# --- Addresses ----------------------------------------------------------------------


def test_the_account_limit_holds_across_addresses(client):
    make_user(username="lockuser", password=PASSWORD)
    for n in range(3):
        sign_in(client, "lockuser", WRONG, address=f"198.51.100.{n + 1}")
    assert is_locked_out(sign_in(client, "lockuser", PASSWORD, address="192.0.2.44"))


def test_rotating_ipv6_addresses_inside_one_64_gets_no_extra_guesses(client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    make_user(username="victim-a", password=PASSWORD)
    make_user(username="victim-b", password=PASSWORD)
    make_user(username="victim-c", password=PASSWORD)
    make_user(username="victim-d", password=PASSWORD)
    # Different accounts, so only the address counts: 3 guesses for the whole /64.
    for n, name in enumerate(("victim-a", "victim-b", "victim-c")):
        sign_in(client, name, WRONG, address="10.0.0.5",
                HTTP_X_FORWARDED_FOR=f"2001:db8:1:2::{n + 1:x}:{n + 7:x}")
    refused = sign_in(client, "victim-d", PASSWORD, address="10.0.0.5",
                      HTTP_X_FORWARDED_FOR="2001:db8:1:2:ffff:1:2:3")
    assert is_locked_out(refused)
    # Another /64 is another client.
    assert sign_in(client, "victim-d", PASSWORD, address="10.0.0.5",
                   HTTP_X_FORWARDED_FOR="2001:db8:1:3::1").status_code == 302


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client):
    make_user(username="shopkeeper", password=PASSWORD)
    for n in range(3):
        # Each attempt claims a different address; without a trusted proxy it counts
        # against the real peer address all the same.
        sign_in(client, f"someone-{n}", WRONG, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert is_locked_out(sign_in(client, "shopkeeper", PASSWORD))


def test_an_attacker_elsewhere_cannot_lock_the_merchant_out_of_their_own_browser(client):
    make_user(username="shopkeeper", password=PASSWORD)
    # The merchant has signed in on this browser before, and signed out (the test
    # client's logout() forgets every cookie; a browser keeps this one).
    assert sign_in(client, "shopkeeper", PASSWORD).status_code == 302
    device = client.cookies["signin_device"].value
    client.logout()
    client.cookies["signin_device"] = device
    attacker = client.__class__()
    for _ in range(10):
        sign_in(attacker, "shopkeeper", WRONG, address="198.51.100.66")
    # A new browser is locked out (the account's limit), the merchant's own is not...
    assert is_locked_out(sign_in(attacker, "shopkeeper", PASSWORD, address="203.0.113.7"))
    assert sign_in(client, "shopkeeper", PASSWORD).status_code == 302
    client.logout()
    client.cookies["signin_device"] = device
    # ...and is still limited at its own address.
    for _ in range(3):
        sign_in(client, "shopkeeper", WRONG)
    assert is_locked_out(sign_in(client, "shopkeeper", PASSWORD))


def test_a_forged_known_device_cookie_counts_as_none(client):
    make_user(username="shopkeeper", password=PASSWORD)
    lock(client, "shopkeeper", address="198.51.100.66")
    client.cookies["signin_device"] = "shopkeeper"
    assert is_locked_out(sign_in(client, "shopkeeper", PASSWORD))


def browser_that_signed_in(client, username="shopkeeper", address="203.0.113.7"):
    """A browser the account signed in on, then signed out of (the cookie stays)."""
    assert sign_in(client, username, PASSWORD, address=address).status_code == 302
    cookie = client.cookies["signin_device"].value
    client.logout()
    client.cookies["signin_device"] = cookie
    return cookie


def test_a_stolen_known_browser_cookie_gives_no_extra_guesses_from_other_addresses(client):
    """N1: the holder of an account's cookie, rotating addresses, is limited per cookie."""
    make_user(username="victim1", password=PASSWORD)
    cookie = browser_that_signed_in(client, "victim1", address="198.18.0.1")
    answers = []
    for n in range(20):
        thief = client.__class__()
        thief.cookies["signin_device"] = cookie
        answers.append(sign_in(thief, "victim1", f"guess-{n}", address=f"198.18.{n}.9").status_code)
    assert answers[:2] == [200, 200] and set(answers[2:]) == {429}
    thief = client.__class__()
    thief.cookies["signin_device"] = cookie
    assert is_locked_out(sign_in(thief, "victim1", PASSWORD, address="198.18.99.9"))


def test_each_browser_is_counted_apart_under_an_account_wide_ceiling(client, settings):
    settings.SIGNIN_KNOWN_BROWSER_MAX_FAILURES = 5
    make_user(username="shopkeeper", password=PASSWORD)
    browsers = [client.__class__() for _ in range(4)]
    cookies = [browser_that_signed_in(browser) for browser in browsers]
    assert len({signing.loads(c, salt=KNOWN_BROWSER_SALT)["id"] for c in cookies}) == 4
    # Browser 0 spends its own three: locked; browser 1 still signs in.
    for _ in range(3):
        sign_in(browsers[0], "shopkeeper", WRONG)
    assert is_locked_out(sign_in(browsers[0], "shopkeeper", PASSWORD))
    assert sign_in(browsers[1], "shopkeeper", PASSWORD).status_code == 302
    browsers[1].logout()
    browsers[1].cookies["signin_device"] = cookies[1]
    # Two more from other known browsers make five for the account: every known browser
    # is locked, whatever its own count.
    sign_in(browsers[1], "shopkeeper", WRONG, address="198.51.100.1")
    sign_in(browsers[2], "shopkeeper", WRONG, address="198.51.100.2")
    assert is_locked_out(sign_in(browsers[3], "shopkeeper", PASSWORD, address="198.51.100.3"))


def test_a_password_change_voids_every_known_browser_cookie(client):
    user = make_user(username="shopkeeper", password=PASSWORD)
    old_cookie = browser_that_signed_in(client)
    user.set_password("N3w-pass-phrase!")
    user.save()
    # An attacker elsewhere locks the account for new browsers...
    for n in range(3):
        sign_in(client.__class__(), "shopkeeper", WRONG, address=f"198.51.100.{n + 1}")
    # ...and the old cookie is a new browser now: locked out, new password or not.
    holder = client.__class__()
    holder.cookies["signin_device"] = old_cookie
    assert is_locked_out(sign_in(holder, "shopkeeper", "N3w-pass-phrase!", address="192.0.2.1"))


def test_changing_ones_own_password_keeps_this_browser_known(client):
    user = make_user(username="shopkeeper", password=PASSWORD)
    browser_that_signed_in(client)
    assert sign_in(client, "shopkeeper", PASSWORD).status_code == 302
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "N3w-pass-phrase!",
         "new_password2": "N3w-pass-phrase!"},
    )
    assert response.status_code == 302
    cookie = client.cookies["signin_device"].value
    client.logout()
    client.cookies["signin_device"] = cookie
    for n in range(3):
        sign_in(client.__class__(), "shopkeeper", WRONG, address=f"198.51.100.{n + 1}")
    assert sign_in(client, "shopkeeper", "N3w-pass-phrase!").status_code == 302
    user.refresh_from_db()
    assert user.check_password("N3w-pass-phrase!")


def test_the_cookie_does_not_name_the_account(client):
    make_user(username="victim1", password=PASSWORD)
    cookie = browser_that_signed_in(client, "victim1")
    payload = cookie.split(":")[0]
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert b"victim1" not in decoded and "victim1" not in cookie
    data = signing.loads(cookie, salt=KNOWN_BROWSER_SALT)
    assert set(data) == {"id", "accounts"} and "victim1" not in json.dumps(data)


def test_a_cookie_of_one_account_is_no_known_browser_for_another(client):
    make_user(username="shopkeeper", password=PASSWORD)
    make_user(username="victim2", password=PASSWORD)
    browser_that_signed_in(client, "shopkeeper")
    for n in range(3):
        sign_in(client.__class__(), "victim2", WRONG, address=f"198.51.100.{n + 1}")
    assert is_locked_out(sign_in(client, "victim2", PASSWORD))


# --- The staff door and the password-change doors -----------------------------------


def test_staff_sign_in_locks_out(client):
    make_user(username="lockstaff", password=PASSWORD, is_staff=True, is_superuser=True)
    for _ in range(3):
        admin_sign_in(client, "lockstaff", WRONG)
    refused = admin_sign_in(client, "ＬＯＣＫＳＴＡＦＦ", PASSWORD)
    assert is_locked_out(refused)
    assert refused.context["form"].errors.as_data()["__all__"][0].code == "locked_out"
    assert b"admin" in refused.content and refused["X-Frame-Options"] == "DENY"
    assert admin_sign_in(client, "lockstaff", PASSWORD).status_code == 429


def test_failures_at_either_door_count_together(client):
    make_user(username="lockstaff", password=PASSWORD, is_staff=True)
    admin_sign_in(client, "lockstaff", WRONG)
    sign_in(client, "lockstaff", WRONG)
    admin_sign_in(client, "lockstaff", WRONG)
    assert is_locked_out(sign_in(client, "lockstaff", PASSWORD))


@pytest.mark.parametrize("url", ["/accounts/password_change/", "/admin/password_change/"])
def test_guessing_the_old_password_on_a_password_change_form_counts(client, url):
    user = make_user(username="lockstaff", password=PASSWORD, is_staff=True)
    client.force_login(user)
    form = {"new_password1": "N3w-pass-phrase!", "new_password2": "N3w-pass-phrase!"}
    for _ in range(2):
        response = client.post(url, {**form, "old_password": WRONG}, REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 200
        assert response.context["form"].errors["old_password"]
    third = client.post(url, {**form, "old_password": WRONG}, REMOTE_ADDR="203.0.113.7")
    assert third.status_code == 429
    refused = client.post(url, {**form, "old_password": PASSWORD}, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_password_change_with_the_right_old_password_works(client):
    user = make_user(username="shopkeeper", password=PASSWORD)
    client.force_login(user)
    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "N3w-pass-phrase!",
         "new_password2": "N3w-pass-phrase!"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("N3w-pass-phrase!")


# --- Unlocking ---------------------------------------------------------------------


def test_staff_unlock_with_the_command_in_any_spelling(client):
    make_user(username="lockuser", password=PASSWORD)
    lock(client)
    call_command("axes_reset_username", "ＬockUser")
    assert sign_in(client, "lockuser", PASSWORD).status_code == 302


def test_staff_unlock_in_the_admin(client):
    make_user(username="lockuser", password=PASSWORD)
    lock(client)
    staff = make_user(username="boss", password=PASSWORD, is_staff=True, is_superuser=True)
    admin = client.__class__()
    admin.force_login(staff)
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "lockuser" in content
    assert "アクセス試行" in content  # axes' labels in our language
    from axes.models import AccessAttempt

    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert sign_in(client, "lockuser", PASSWORD).status_code == 302


def test_the_demo_staff_group_can_unlock_in_the_admin(client):
    """N13: docs/operations.md says staff unlock under アクセス試行; the seeded group may."""
    from axes.models import AccessAttempt

    from malls.demo import _staff_group

    make_user(username="lockuser", password=PASSWORD)
    lock(client)
    staff = make_user(username="goq-staff", is_staff=True)
    staff.groups.add(_staff_group())
    admin = client.__class__()
    admin.force_login(staff)
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert sign_in(client, "lockuser", PASSWORD).status_code == 302


# --- Logs -------------------------------------------------------------------------


class Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []
        self.setFormatter(JsonFormatter())

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def log_lines():
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.setLevel(previous)
    root.removeHandler(handler)


def test_lockouts_and_unlocks_are_logged_without_passwords(client, log_lines):
    user = make_user(username="lockuser", password=PASSWORD)
    lock(client)
    sign_in(client, "lockuser", PASSWORD)
    call_command("axes_reset_username", "lockuser")
    assert sign_in(client, "lockuser", PASSWORD).status_code == 302
    events = [json.loads(line) for line in log_lines]
    kinds = [event.get("event") for event in events]
    assert "signin.failed" in kinds and "signin.locked_out" in kinds
    assert "signin.reset" in kinds and "signin.ok" in kinds
    locked = next(event for event in events if event.get("event") == "signin.locked_out")
    assert locked["user_id"] == user.pk and locked["address"] == "203.0.113.7"
    assert locked["staff"] is False
    text = "\n".join(log_lines)
    assert PASSWORD not in text and WRONG not in text


def test_a_locked_staff_account_is_logged_as_staff_for_alerting(client, log_lines):
    staff = make_user(username="lockstaff", password=PASSWORD, is_staff=True)
    for _ in range(3):
        admin_sign_in(client, "lockstaff", WRONG)
    events = [json.loads(line) for line in log_lines]
    locked = next(event for event in events if event.get("event") == "signin.locked_out")
    assert locked["staff"] is True and locked["user_id"] == staff.pk


def test_staff_clean_up_expired_attempts_in_the_admin(client):
    make_user(username="lockuser", password=PASSWORD)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        lock(client)
    staff = make_user(username="boss", password=PASSWORD, is_staff=True, is_superuser=True)
    admin = client.__class__()
    admin.force_login(staff)
    from axes.models import AccessAttempt

    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        response = admin.post(
            "/admin/axes/accessattempt/",
            {"action": "cleanup_expired_attempts", "_selected_action": ids},
            follow=True,
        )
    assert response.status_code == 200
    assert "期限切れのアクセス試行を1件削除しました。" in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_a_blank_password_neither_counts_nor_clears_failures(client):
    make_user(username="merchant", password=PASSWORD)
    for password in ("wrong-1", "wrong-2", "", "wrong-3"):
        sign_in(client, "merchant", password)
    assert is_locked_out(sign_in(client, "merchant", PASSWORD))
