"""The encrypted field against the ways a secret could leak or be swapped."""

import io
import json
import uuid

import pytest
from django.core.management import call_command
from django.db import connection, models, transaction
from django.test import override_settings
from django.test.utils import isolate_apps

from malls import crypto
from malls.fields import EncryptedSecretField, PlaintextWriteError
from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection

pytestmark = pytest.mark.django_db

PASSWORD = "canary-pass-7Q9x"
ORDER_CODE = "feedfacecafebeef0011223344556677"
PRODUCT_CODE = "canary-product-Zq81"


def fresh(conn):
    return MakeShopConnection.objects.get(pk=conn.pk)


@pytest.fixture
def conn():
    return make_connection(
        password=PASSWORD, order_auth_code=ORDER_CODE, product_auth_code=PRODUCT_CODE
    )


def raw_row(pk):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT password, order_auth_code, product_auth_code FROM malls_makeshopconnection "
            "WHERE id = %s",
            [MakeShopConnection._meta.pk.get_db_prep_value(pk, connection)],
        )
        return cursor.fetchone()


def test_secrets_round_trip_as_masked_values(conn):
    loaded = fresh(conn)
    assert isinstance(loaded.password, crypto.SecretValue)
    assert loaded.password.reveal() == PASSWORD
    assert loaded.order_auth_code.reveal() == ORDER_CODE
    assert PASSWORD not in repr(loaded.__dict__.get("password"))


def test_raw_sql_scan_finds_no_plaintext(conn):
    make_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM malls_makeshopconnection")
        dump = repr(cursor.fetchall())
    for secret in (PASSWORD, ORDER_CODE, PRODUCT_CODE):
        assert secret not in dump
    assert all(value.startswith("gqc1.") for value in raw_row(conn.pk))


def test_ciphertext_swapped_between_rows_fails_to_decrypt(conn):
    other = make_connection(password="other-pass-xyz")
    other_ct = raw_row(other.pk)[0]
    MakeShopConnection.objects.filter(pk=conn.pk).update(password=crypto.Ciphertext(other_ct))
    with pytest.raises(crypto.DecryptionError):
        fresh(conn).password  # noqa: B018


def test_ciphertext_swapped_between_fields_fails_to_decrypt(conn):
    password_ct = raw_row(conn.pk)[0]
    MakeShopConnection.objects.filter(pk=conn.pk).update(
        order_auth_code=crypto.Ciphertext(password_ct)
    )
    loaded = fresh(conn)
    assert loaded.password.reveal() == PASSWORD
    with pytest.raises(crypto.DecryptionError):
        loaded.order_auth_code  # noqa: B018


def test_update_and_bulk_update_refuse_plaintext(conn):
    with pytest.raises(PlaintextWriteError), transaction.atomic():
        MakeShopConnection.objects.filter(pk=conn.pk).update(password="plain")
    loaded = fresh(conn)
    loaded.password = "plain-again"
    with pytest.raises(PlaintextWriteError), transaction.atomic():
        MakeShopConnection.objects.bulk_update([loaded], ["password"])
    assert PASSWORD == fresh(conn).password.reveal()
    assert "plain" not in repr(raw_row(conn.pk))


def test_unchanged_secret_is_written_back_byte_for_byte(conn):
    before = raw_row(conn.pk)
    loaded = fresh(conn)
    loaded.password  # noqa: B018  (decrypt, then save unchanged)
    loaded.save()
    assert raw_row(conn.pk) == before


def test_changed_secret_is_re_encrypted(conn):
    loaded = fresh(conn)
    loaded.password = "new-password-1"
    loaded.save()
    assert raw_row(conn.pk)[0] != PASSWORD
    assert fresh(conn).password.reveal() == "new-password-1"


def test_cleared_secret_is_null(conn):
    loaded = fresh(conn)
    loaded.product_auth_code = None
    loaded.save()
    assert raw_row(conn.pk)[2] is None
    assert fresh(conn).product_auth_code is None


def test_missing_key_fails_closed(conn):
    new_only = crypto.generate_key_spec("other")
    with override_settings(CREDENTIALS_KEYS=new_only):
        with pytest.raises(crypto.DecryptionError) as info:
            fresh(conn).password  # noqa: B018
    assert "gqc1" not in str(info.value)


def test_dumpdata_writes_ciphertext_only_and_loaddata_restores_it(conn, tmp_path):
    out = io.StringIO()
    call_command("dumpdata", "malls.makeshopconnection", stdout=out)
    text = out.getvalue()
    for secret in (PASSWORD, ORDER_CODE, PRODUCT_CODE):
        assert secret not in text
    fixture = tmp_path / "dump.json"
    fixture.write_text(text)
    MakeShopConnection.objects.filter(pk=conn.pk).update(password=None)
    call_command("loaddata", str(fixture), verbosity=0)
    assert fresh(conn).password.reveal() == PASSWORD
    assert json.loads(text)[0]["fields"]["password"].startswith("gqc1.")


def test_deferred_secret_loads_on_access(conn):
    loaded = MakeShopConnection.objects.defer("password").get(pk=conn.pk)
    assert loaded.password.reveal() == PASSWORD


def test_a_secret_is_bound_to_app_model_field_and_row(conn):
    field = MakeShopConnection._meta.get_field("order_auth_code")
    context = f"malls.makeshopconnection.order_auth_code.{conn.pk}"
    assert field.context_for(conn) == field.context_for_pk(conn.pk) == context
    token = crypto.Ciphertext(raw_row(conn.pk)[1])
    assert crypto.decrypt(token, context=context) == ORDER_CODE


@isolate_apps("malls")
def test_each_model_inheriting_the_field_binds_its_own_name():
    base = type("SecretHolder", (models.Model,), {
        "__module__": "malls.models",
        "Meta": type("Meta", (), {"abstract": True}),
        "id": models.UUIDField(primary_key=True, default=uuid.uuid4),
        "secret": EncryptedSecretField(),
    })
    first = type("FirstHolder", (base,), {"__module__": "malls.models"})
    second = type("SecondHolder", (base,), {"__module__": "malls.models"})
    pk = uuid.uuid4()
    assert first._meta.get_field("secret").context_for_pk(pk) == f"malls.firstholder.secret.{pk}"
    assert second._meta.get_field("secret").context_for_pk(pk) == f"malls.secondholder.secret.{pk}"


# --- The system check -----------------------------------------------------------------


@isolate_apps("malls")
@pytest.mark.parametrize(
    "primary_key",
    [
        None,  # Django's default: an auto-incremented integer, known only after the INSERT
        models.UUIDField(primary_key=True),  # no default: no identity before the INSERT
        models.CharField(primary_key=True, max_length=36, default="x"),
    ],
    ids=["auto id", "uuid without default", "not a uuid"],
)
def test_the_field_needs_a_uuid_primary_key_with_a_default(primary_key):
    attrs = {"__module__": "malls.models", "secret": EncryptedSecretField(null=True)}
    if primary_key is not None:
        attrs["id"] = primary_key
    model = type("Holder", (models.Model,), attrs)

    errors = model._meta.get_field("secret").check()

    assert [error.id for error in errors] == ["malls.E010"]
    assert errors[0].obj is model._meta.get_field("secret")


@isolate_apps("malls")
def test_a_uuid_primary_key_with_a_default_passes_the_check():
    model = type("Holder", (models.Model,), {
        "__module__": "malls.models",
        "id": models.UUIDField(primary_key=True, default=uuid.uuid4),
        "secret": EncryptedSecretField(null=True),
    })

    assert model._meta.get_field("secret").check() == []


def test_the_real_models_pass_the_check():
    for name in MakeShopConnection.SECRET_FIELDS:
        assert MakeShopConnection._meta.get_field(name).check() == []
