"""The key commands: ``check_credentials``, ``rotate_credentials_keys`` and
``generate_credentials_key`` (their output and exit codes; the services behind them are
tested in tests/services/test_keys.py)."""

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from malls import crypto
from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection

pytestmark = pytest.mark.django_db

SECRETS = ("main-admin-pass", "0123456789abcdef0123456789abcdef", "prod-code-0123456789")


def run(command, *args, **options) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of a management command, as the shell would see them."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, *args, stdout=out, stderr=err, **options)
    except SystemExit as exit_:
        code = exit_.code
    else:
        code = 0
    return code, out.getvalue(), err.getvalue()


def assert_no_secret_in(text):
    assert "gqc1." not in text  # not even as ciphertext
    for secret in SECRETS:
        assert secret not in text


@pytest.fixture
def rotated_keys(settings):
    """CREDENTIALS_KEYS with a new primary key in front of the one the rows were stored under."""
    return f"{crypto.generate_key_spec('new')},{settings.CREDENTIALS_KEYS}"


def make_undecryptable(field_name="order_auth_code"):
    """A row whose secret is another row's ciphertext: it fails the AAD check, like a
    value copied between rows or stored under a key nobody has any more."""
    donor, victim = make_connection(), make_connection()
    stolen = MakeShopConnection.objects.values_list(field_name, flat=True).get(pk=donor.pk)
    MakeShopConnection.objects.filter(pk=victim.pk).update(**{field_name: stolen})
    return victim


# --- check_credentials ------------------------------------------------------------------


def test_check_credentials_counts_per_key_and_exits_0_when_everything_decrypts():
    make_connection()
    make_connection()

    code, out, _ = run("check_credentials")

    assert code == 0
    assert "rows: 2" in out
    assert "key test1 (primary): 6 secrets" in out
    assert "every stored secret decrypts" in out
    assert_no_secret_in(out)


def test_check_credentials_lists_undecryptable_rows_without_values_and_exits_1(rotated_keys):
    bad = make_undecryptable("order_auth_code")
    with override_settings(CREDENTIALS_KEYS=rotated_keys):
        code, out, err = run("check_credentials")

    assert code == 1
    assert "key test1: 6 secrets" in out
    assert "undecryptable: 1" in out
    assert f"  malls.makeshopconnection {bad.pk}: order_auth_code" in out
    assert "every stored secret decrypts" not in out
    assert_no_secret_in(out + err)


# --- rotate_credentials_keys ------------------------------------------------------------


def test_rotation_reports_progress_per_batch_and_exits_0(rotated_keys):
    for _ in range(3):
        make_connection()

    with override_settings(CREDENTIALS_KEYS=rotated_keys):
        code, out, err = run("rotate_credentials_keys", "--batch-size", "2")
        again = run("rotate_credentials_keys")

    assert code == 0 and not err
    assert "examined 2, rotated 2, skipped (edited meanwhile) 0, undecryptable 0" in out
    assert "examined 3, rotated 3, skipped (edited meanwhile) 0, undecryptable 0" in out
    assert "Done: 3 rows re-encrypted of 3 examined." in out
    assert_no_secret_in(out)
    # A rerun finds everything under the new key already.
    assert again[0] == 0
    assert "Done: 0 rows re-encrypted of 3 examined." in again[1]


def test_rotation_with_undecryptable_rows_says_what_to_do_and_exits_1(rotated_keys):
    make_connection()
    make_undecryptable("password")

    with override_settings(CREDENTIALS_KEYS=rotated_keys):
        code, out, err = run("rotate_credentials_keys")

    assert code == 1
    # The damaged row's readable secrets move too (security review L7); its bad one is listed.
    assert "Done: 3 rows re-encrypted of 3 examined." in out
    assert "password" in err
    assert "check_credentials" in err
    assert_no_secret_in(out + err)


# --- generate_credentials_key -----------------------------------------------------------


def test_generate_prints_a_usable_entry_and_stores_nothing():
    code, out, err = run("generate_credentials_key", "--kid", "2026-11")

    assert code == 0 and not err
    spec = out.strip()
    assert spec.startswith("2026-11:")
    assert crypto.parse_keys(spec).primary == "2026-11"
    assert run("generate_credentials_key", "--kid", "2026-11")[1].strip() != spec


@pytest.mark.parametrize("kid", ["", "has space", "colon:inside", "x" * 33, "ключ"])
def test_generate_with_a_bad_kid_exits_2_and_prints_no_key(kid):
    code, out, err = run("generate_credentials_key", "--kid", kid)

    assert code == 2
    assert out == ""
    assert err.strip()
