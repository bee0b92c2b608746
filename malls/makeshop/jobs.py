"""MakeShop's background verifications, queued through the generic ``malls.services.queue``.

Two kinds: a shop's saved settings (``VERIFY``: one shop, or batches for re-verification
runs) and an app installation's token (``VERIFY_INSTALLATION``: one call each). The
tasks that run them register under these names (``malls.makeshop.tasks``,
``malls.makeshop.app.tasks``).
"""

from malls.services import queue

VERIFY = "makeshop.verify"
VERIFY_INSTALLATION = "makeshop.verify_installation"


def enqueue_verification(
    *, connection_ids, force: bool = True, settings_changed: bool = False
) -> tuple[int, int]:
    """Queue verification of these connections; settings just saved get a job of their own."""
    return queue.enqueue(VERIFY, ids=connection_ids, fresh=settings_changed, force=force)


def enqueue_installation_verification(
    *, installation_ids, token_changed: bool = False
) -> tuple[int, int]:
    """Queue a token verification per installation; a token just changed gets its own."""
    return queue.enqueue(VERIFY_INSTALLATION, ids=installation_ids, fresh=token_changed)


def open_verification_ids(**statuses) -> set:
    """Connections that already have a verification job waiting or running."""
    return queue.open_ids(VERIFY, **statuses)
