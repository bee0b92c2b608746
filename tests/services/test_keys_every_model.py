"""Rotation and the health check find every encrypted column by its type.

The README's runbook (new key first, rotate, check, remove the old key) must leave
every secret readable: the MakeShop app's tokens and a model nobody listed anywhere
(``tests.dummymall``) included.
"""

import pytest
from django.test import override_settings

from malls import crypto, services
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection
from tests.dummymall.models import DummyConnection
from tests.factories import make_connection
from tests.management.test_credentials import run

pytestmark = pytest.mark.django_db


def kids(model, pk, *names):
    return {t.kid for t in model.objects.values_list(*names).get(pk=pk) if t is not None}


def test_every_encrypted_column_of_every_model_is_found():
    columns = {
        model._meta.label_lower: {c.name for c in cols}
        for model, cols in services.secret_columns().items()
    }
    assert columns["malls.makeshopconnection"] == set(MakeShopConnection.SECRET_FIELDS)
    assert columns["malls.makeshopappinstallation"] == {"token", "pending_token"}
    assert columns["dummymall.dummyconnection"] == {"service_secret", "license_key"}


def test_the_runbook_leaves_every_secret_readable_with_only_the_new_key(settings):
    old = settings.CREDENTIALS_KEYS
    new = crypto.generate_key_spec("new")
    conn = make_connection()
    app = MakeShopAppInstallation.objects.create(shop_id="app-shop", token="app-token-0001")
    dummy = DummyConnection.objects.create(
        shop_code="d1", service_secret="SP-secret", license_key="SL-license"
    )

    with override_settings(CREDENTIALS_KEYS=f"{new},{old}"):
        code, out, _ = run("rotate_credentials_keys")
        assert code == 0
        assert "Done: 3 rows re-encrypted of 3 examined." in out

    with override_settings(CREDENTIALS_KEYS=new):  # the old key is gone
        code, out, _ = run("check_credentials")
        assert code == 0, out
        assert "key new (primary): 6 secrets" in out
        assert MakeShopAppInstallation.objects.get(pk=app.pk).token.reveal() == "app-token-0001"
        row = DummyConnection.objects.get(pk=dummy.pk)
        assert row.service_secret.reveal() == "SP-secret"
        assert row.license_key.reveal() == "SL-license"
        assert kids(MakeShopConnection, conn.pk, *MakeShopConnection.SECRET_FIELDS) == {"new"}


def test_the_health_check_names_the_model_of_an_unreadable_secret():
    donor = DummyConnection.objects.create(shop_code="a", service_secret="s1", license_key="k1")
    victim = DummyConnection.objects.create(shop_code="b", service_secret="s2", license_key="k2")
    stolen = DummyConnection.objects.values_list("license_key", flat=True).get(pk=donor.pk)
    DummyConnection.objects.filter(pk=victim.pk).update(license_key=stolen)

    code, out, _ = run("check_credentials")

    assert code == 1
    assert f"dummymall.dummyconnection {victim.pk}: license_key" in out
    assert "k1" not in out and "gqc1." not in out


def test_a_concurrent_edit_of_one_model_is_kept_while_the_others_rotate(settings, monkeypatch):
    old = settings.CREDENTIALS_KEYS
    new = crypto.generate_key_spec("new")
    app = MakeShopAppInstallation.objects.create(shop_id="app-shop", token="before")
    real_encrypt = crypto.encrypt
    edited = []

    def encrypt_then_reinstall(plaintext, **kwargs):
        if not edited and kwargs.get("context", "").startswith("malls.makeshopappinstallation."):
            edited.append(True)
            mine = MakeShopAppInstallation.objects.get(pk=app.pk)
            mine.token = "after-reinstall"
            mine.save()
        return real_encrypt(plaintext, **kwargs)

    with override_settings(CREDENTIALS_KEYS=f"{new},{old}"):
        monkeypatch.setattr(crypto, "encrypt", encrypt_then_reinstall)
        report = services.rotate_credentials_keys()
        monkeypatch.undo()
        assert edited and report.skipped_concurrent_edit == 1
        assert MakeShopAppInstallation.objects.get(pk=app.pk).token.reveal() == "after-reinstall"
