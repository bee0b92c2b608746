"""Everything about MakeShop: its API vocabulary, clients, verdict texts, notifications
and a local sandbox that stands in for it. The generic app reaches it through
``malls.makeshop.provider`` (see ``malls.providers``)."""

from .api import Check, CheckResult, Outcome, Reason
from .legacy.client import MakeShopClient, get_client

__all__ = ["Check", "CheckResult", "MakeShopClient", "Outcome", "Reason", "get_client"]
