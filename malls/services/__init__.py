"""The business actions: every change to stores, shops and their settings, with its history.

Views, admin and management commands call these, so each rule lives in one place and
every change writes exactly one history entry. Functions take keyword-only arguments;
none holds a database transaction open while MakeShop is being called.

| module | what |
| --- | --- |
| ``settings`` | a shop's MakeShop settings: one pipeline, verified now or later |
| ``verification`` | asking MakeShop about credentials, recording its answer |
| ``queue`` | the one de-duplicating way to queue background verification |
| ``shops`` / ``memberships`` | a store's shops and members |
| ``applications`` | the API-use application's workflow |
| ``notification_urls`` | issuing and retiring update-notification URLs |
| ``keys`` | key rotation and the health of stored secrets |
| ``history`` | the history entry every action writes |

``from malls import services`` gives the names below.
"""

from .applications import (
    APPLICATION_TRANSITIONS,
    InvalidTransition,
    allowed_application_actions,
    transition_application,
)
from .history import SECRET_CHANGED, record_change
from .keys import (
    ROTATION_BATCH_SIZE,
    CredentialsHealth,
    RotationReport,
    check_stored_credentials,
    rotate_credentials_keys,
    secret_columns,
)
from .memberships import add_member, remove_member
from .notification_urls import (
    NOTIFICATION_TOKEN_GRACE,
    NotificationUrlInGrace,
    forget_expired_notification_tokens,
    rotate_notification_token,
)
from .queue import (
    STALLED_AFTER,
    enqueue_verification,
    requeue_stalled_jobs,
    verifiable_connections,
)
from .settings import (
    ConcurrentEditError,
    SaveResult,
    ShopIdTakenError,
    VerificationBudgetExceeded,
    Verify,
    apply_makeshop_settings,
    delete_makeshop_connection,
    refuse_if_stale,
)
from .shops import add_shop, delete_shop, edit_shop
from .verification import (
    CHECK_ORDER,
    UNREADABLE,
    VERIFICATION_FRESH_FOR,
    Verification,
    check_makeshop_credentials,
    verify_connection,
)

__all__ = [
    "APPLICATION_TRANSITIONS",
    "CHECK_ORDER",
    "NOTIFICATION_TOKEN_GRACE",
    "ROTATION_BATCH_SIZE",
    "SECRET_CHANGED",
    "STALLED_AFTER",
    "UNREADABLE",
    "VERIFICATION_FRESH_FOR",
    "ConcurrentEditError",
    "CredentialsHealth",
    "InvalidTransition",
    "NotificationUrlInGrace",
    "RotationReport",
    "SaveResult",
    "ShopIdTakenError",
    "Verification",
    "VerificationBudgetExceeded",
    "Verify",
    "add_member",
    "add_shop",
    "allowed_application_actions",
    "apply_makeshop_settings",
    "check_makeshop_credentials",
    "check_stored_credentials",
    "delete_makeshop_connection",
    "delete_shop",
    "edit_shop",
    "enqueue_verification",
    "forget_expired_notification_tokens",
    "record_change",
    "refuse_if_stale",
    "remove_member",
    "requeue_stalled_jobs",
    "rotate_credentials_keys",
    "rotate_notification_token",
    "secret_columns",
    "transition_application",
    "verifiable_connections",
    "verify_connection",
]
