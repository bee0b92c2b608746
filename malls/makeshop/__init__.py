"""MakeShop integration: the HTTP client and a local sandbox that stands in for MakeShop."""

from .client import Check, CheckResult, MakeShopClient, Outcome, get_client

__all__ = ["Check", "CheckResult", "MakeShopClient", "Outcome", "get_client"]
