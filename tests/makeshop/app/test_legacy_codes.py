"""Removing a shop's auth codes once the MakeShop app serves it: only then, with history."""

import pytest
from django.utils import timezone

from malls.makeshop.app.legacy_codes import AppNotInUse, remove_legacy_codes
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord
from tests.factories import make_connection, make_user

State = MakeShopAppInstallation.State
Status = MakeShopConnection.Status
pytestmark = pytest.mark.django_db


def legacy(**extra):
    now = timezone.now()
    return make_connection(
        makeshop_shop_id="move-me", status=Status.VERIFIED, verified_at=now,
        order_auth_code_verified_at=now, password_verified_at=now,
        product_auth_code_verified_at=now, **extra,
    )


def install(connection, state=State.VERIFIED):
    return MakeShopAppInstallation.objects.create(
        shop_id=connection.makeshop_shop_id, token="tok-0123456789-abcdefghij",
        state=state, connection=connection,
    )


def test_the_codes_go_the_shop_id_and_its_claim_stay_and_one_entry_says_so():
    connection = legacy()
    install(connection)
    actor = make_user()

    removed = remove_legacy_codes(connection=connection, actor=actor)

    saved = MakeShopConnection.objects.get(pk=connection.pk)
    for name in MakeShopConnection.SECRET_FIELDS:
        assert getattr(saved, name) is None
        assert getattr(saved, f"{name}_verified_at") is None
    assert saved.status == Status.UNSET
    assert saved.makeshop_shop_id == "move-me" and saved.verified_at is not None
    assert saved.version == connection.version + 1 == removed.version
    (record,) = ChangeRecord.objects.filter(shop=connection.shop)
    assert record.action == "makeshop.legacy_codes_removed"
    assert record.actor == actor and record.source == ChangeRecord.Source.MERCHANT
    assert record.changes == {
        "password": "changed", "order_auth_code": "changed", "product_auth_code": "changed",
        "status": ["verified", "unset"],
    }


def test_no_secret_value_is_written_to_the_history():
    connection = legacy()
    install(connection)

    remove_legacy_codes(connection=connection)

    text = repr(list(ChangeRecord.objects.values()))
    assert "main-admin-pass" not in text and "0123456789abcdef" not in text


@pytest.mark.parametrize(
    "state", [State.INSTALLED, State.REJECTED, State.UNREACHABLE, State.UNINSTALLED, None]
)
def test_refused_unless_the_app_is_verified_for_this_very_connection(state):
    connection = legacy()
    if state is not None:
        install(connection, state)

    with pytest.raises(AppNotInUse):
        remove_legacy_codes(connection=connection)

    saved = MakeShopConnection.objects.get(pk=connection.pk)
    assert saved.password.reveal() == "main-admin-pass" and saved.version == connection.version
    assert not ChangeRecord.objects.exists()


def test_an_installation_of_another_connection_does_not_count():
    other = make_connection(makeshop_shop_id="other")
    install(other)
    connection = legacy()

    with pytest.raises(AppNotInUse):
        remove_legacy_codes(connection=connection)


def test_removing_again_records_nothing():
    connection = legacy()
    install(connection)
    remove_legacy_codes(connection=connection)

    remove_legacy_codes(connection=connection)

    assert ChangeRecord.objects.filter(action="makeshop.legacy_codes_removed").count() == 1


def test_a_shop_without_codes_is_not_queued_for_re_verification():
    from malls.makeshop.services import verifiable_connections

    connection = legacy()
    install(connection)
    remove_legacy_codes(connection=connection)

    assert not verifiable_connections().filter(pk=connection.pk).exists()
