"""MakeShop's business actions: its settings saved and verified, shop-ID ownership,
the legacy codes' removal, and the update-notification URLs. Each writes one history
entry through the generic ``malls.services``. Queueing its verifications is
``malls.makeshop.jobs`` (re-exported here).

| module | what |
| --- | --- |
| ``settings`` | a shop's MakeShop settings: one pipeline, verified now or later |
| ``verification`` | asking MakeShop about credentials, recording its answer |
| ``shop_ids`` | a shop ID belongs to the shop MakeShop verified it for |
| ``notification_urls`` | issuing and retiring update-notification URLs |
"""

from ..jobs import (
    enqueue_installation_verification,
    enqueue_verification,
    open_verification_ids,
)
from .notification_urls import (
    NOTIFICATION_TOKEN_GRACE,
    NotificationUrlInGrace,
    forget_expired_notification_tokens,
    rotate_notification_token,
    stop_previous_notification_url,
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
from .verification import (
    CHECK_ORDER,
    PROOF_OF_CONTROL,
    UNREADABLE,
    VERIFICATION_FRESH_FOR,
    ChecksPaused,
    Verification,
    check_makeshop_credentials,
    checks_paused,
    checks_paused_until,
    stored_secrets_unreadable,
    verifiable_connections,
    verify_connection,
)

__all__ = [
    "CHECK_ORDER",
    "NOTIFICATION_TOKEN_GRACE",
    "PROOF_OF_CONTROL",
    "UNREADABLE",
    "VERIFICATION_FRESH_FOR",
    "ChecksPaused",
    "ConcurrentEditError",
    "NotificationUrlInGrace",
    "SaveResult",
    "ShopIdTakenError",
    "Verification",
    "VerificationBudgetExceeded",
    "Verify",
    "apply_makeshop_settings",
    "check_makeshop_credentials",
    "checks_paused",
    "checks_paused_until",
    "delete_makeshop_connection",
    "enqueue_installation_verification",
    "enqueue_verification",
    "forget_expired_notification_tokens",
    "open_verification_ids",
    "refuse_if_stale",
    "rotate_notification_token",
    "stop_previous_notification_url",
    "stored_secrets_unreadable",
    "verifiable_connections",
    "verify_connection",
]
