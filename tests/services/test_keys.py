"""Key rotation and the credentials health check.

The commands are tested in tests/management/test_credentials.py.
"""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from malls import crypto, services
from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_and_new_keys(settings):
    old = settings.CREDENTIALS_KEYS
    new = crypto.generate_key_spec("new")
    return old, f"{new},{old}"


def kids(conn):
    row = MakeShopConnection.objects.values_list(*MakeShopConnection.SECRET_FIELDS).get(pk=conn.pk)
    return {token.kid for token in row if token is not None}


def test_rotation_moves_every_secret_to_the_primary_key(old_and_new_keys):
    _, rotated = old_and_new_keys
    conns = [make_connection() for _ in range(7)]
    with override_settings(CREDENTIALS_KEYS=rotated):
        report = services.rotate_credentials_keys(batch_size=3)
        assert report.rotated == 7
        assert all(kids(c) == {"new"} for c in conns)
        assert MakeShopConnection.objects.get(pk=conns[0].pk).password.reveal() == "main-admin-pass"
        # Rerunning finds nothing to do.
        again = services.rotate_credentials_keys(batch_size=3)
        assert again.rotated == 0 and again.examined == 7


def test_rotation_never_overwrites_a_concurrent_edit(old_and_new_keys, monkeypatch):
    _, rotated = old_and_new_keys
    conn = make_connection()
    real_encrypt = crypto.encrypt
    edited = []

    def encrypt_then_merchant_saves(plaintext, **kwargs):
        # The merchant saves a new password between rotation's read and its write.
        if not edited:
            edited.append(True)
            mine = MakeShopConnection.objects.get(pk=conn.pk)
            mine.password = "merchant-new-pass"
            mine.version += 1
            mine.save()
        return real_encrypt(plaintext, **kwargs)

    with override_settings(CREDENTIALS_KEYS=rotated):
        monkeypatch.setattr(crypto, "encrypt", encrypt_then_merchant_saves)
        report = services.rotate_credentials_keys()
        monkeypatch.undo()
        assert report.skipped_concurrent_edit == 1
        assert MakeShopConnection.objects.get(pk=conn.pk).password.reveal() == "merchant-new-pass"


def test_rotation_reports_undecryptable_secrets_keeps_them_and_moves_the_rest(old_and_new_keys):
    _, rotated = old_and_new_keys
    good = make_connection()
    bad = make_connection()
    stolen = MakeShopConnection.objects.values_list("password", flat=True).get(pk=good.pk)
    MakeShopConnection.objects.filter(pk=bad.pk).update(password=stolen)
    with override_settings(CREDENTIALS_KEYS=rotated):
        report = services.rotate_credentials_keys()
        row = MakeShopConnection.objects.get(pk=bad.pk)
        assert row.order_auth_code.reveal() == "0123456789abcdef0123456789abcdef"
    assert report.undecryptable == [("malls.makeshopconnection", str(bad.pk), "password")]
    assert report.rotated == 2
    assert MakeShopConnection.objects.values_list("password", flat=True).get(pk=bad.pk) == stolen
    # Every readable secret, the bad row's included, is under the new key.
    tokens = MakeShopConnection.objects.values_list(*MakeShopConnection.SECRET_FIELDS)
    assert {t.kid for row in tokens for t in row if t is not None and t != stolen} == {"new"}


def test_the_rotation_command_lists_what_it_could_not_read_and_exits_1(old_and_new_keys):
    _, rotated = old_and_new_keys
    good, bad = make_connection(), make_connection()
    for name in ("password", "product_auth_code"):
        stolen = MakeShopConnection.objects.values_list(name, flat=True).get(pk=good.pk)
        MakeShopConnection.objects.filter(pk=bad.pk).update(**{name: stolen})
    out, err = io.StringIO(), io.StringIO()

    with override_settings(CREDENTIALS_KEYS=rotated), pytest.raises(SystemExit) as exit_:
        call_command("rotate_credentials_keys", stdout=out, stderr=err)

    assert exit_.value.code == 1
    assert f"connection {bad.pk}: password" in err.getvalue()
    assert f"connection {bad.pk}: product_auth_code" in err.getvalue()
    assert "Done: 2 rows re-encrypted of 2 examined." in out.getvalue()
    assert "gqc1." not in out.getvalue() + err.getvalue()

