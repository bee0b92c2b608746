"""Key rotation and the credentials health check (the commands: test_commands_credentials.py)."""

import pytest
from django.test import override_settings

from malls import crypto, services
from malls.models import MakeShopConnection
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


def test_rotation_reports_undecryptable_rows_and_keeps_them(old_and_new_keys):
    _, rotated = old_and_new_keys
    good = make_connection()
    bad = make_connection()
    stolen = MakeShopConnection.objects.values_list("password", flat=True).get(pk=good.pk)
    MakeShopConnection.objects.filter(pk=bad.pk).update(password=stolen)
    with override_settings(CREDENTIALS_KEYS=rotated):
        report = services.rotate_credentials_keys()
    assert report.undecryptable == [str(bad.pk)]
    assert MakeShopConnection.objects.values_list("password", flat=True).get(pk=bad.pk) == stolen

