"""The key commands as an operator runs them: their output and exit codes (values never shown)."""

import io

import pytest
from django.core.management import call_command

from malls import crypto
from tests.factories import make_connection

pytestmark = pytest.mark.django_db


def test_generate_credentials_key_prints_a_usable_entry():
    out = io.StringIO()

    call_command("generate_credentials_key", "--kid", "2026-12", stdout=out)

    ring = crypto.parse_keys(out.getvalue().strip())
    assert ring.primary == "2026-12"


def test_generate_credentials_key_refuses_a_bad_key_id_with_exit_2():
    err = io.StringIO()

    with pytest.raises(SystemExit) as exit_:
        call_command("generate_credentials_key", "--kid", "no spaces/allowed", stderr=err)

    assert exit_.value.code == 2
    assert "key id" in err.getvalue()


def test_check_credentials_passes_when_every_secret_decrypts():
    make_connection()
    out = io.StringIO()

    call_command("check_credentials", stdout=out)  # no SystemExit: exit status 0

    assert "every stored secret decrypts" in out.getvalue()
    assert "secrets" in out.getvalue() and "main-admin-pass" not in out.getvalue()


def test_rotating_with_nothing_to_move_succeeds():
    make_connection()
    out = io.StringIO()

    call_command("rotate_credentials_keys", stdout=out)

    assert "Done: 0 rows re-encrypted of 1 examined." in out.getvalue()
