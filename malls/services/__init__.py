"""The generic business actions: every change to stores, shops and what every mall
connection has, with its history.

Views, admin and management commands call these, so each rule lives in one place and
every change writes exactly one history entry. Functions take keyword-only arguments;
none holds a database transaction open while a mall is being called. A mall's own
actions (saving and verifying its settings) live in its package's ``services``.

| module | what |
| --- | --- |
| ``queue`` | the one de-duplicating way to queue any mall's background jobs |
| ``shops`` / ``memberships`` | a store's shops and members |
| ``applications`` | the API-use application's workflow |
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
from .queue import (
    STALLED_AFTER,
    enqueue,
    requeue_stalled_jobs,
)
from .shops import add_shop, delete_shop, edit_shop

__all__ = [
    "APPLICATION_TRANSITIONS",
    "ROTATION_BATCH_SIZE",
    "SECRET_CHANGED",
    "STALLED_AFTER",
    "CredentialsHealth",
    "InvalidTransition",
    "RotationReport",
    "add_member",
    "add_shop",
    "allowed_application_actions",
    "check_stored_credentials",
    "delete_shop",
    "edit_shop",
    "enqueue",
    "record_change",
    "remove_member",
    "requeue_stalled_jobs",
    "rotate_credentials_keys",
    "secret_columns",
    "transition_application",
]
