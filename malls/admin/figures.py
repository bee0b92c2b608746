"""A number on a staff overview, linked to the list that shows exactly its rows.

Each mall's overview subclasses ``Figure`` with the admin name of its list
(``changelist``), so every figure's link is built the same way.
"""

from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlencode

from django.urls import reverse


def changelist_url(admin_name: str, params: dict) -> str:
    """An admin list (by URL name), filtered by the list's own filter parameters."""
    url = reverse(admin_name)
    return f"{url}?{urlencode(params)}" if params else url


@dataclass(frozen=True)
class Figure:
    """One number on the overview and the list filter that shows exactly its shops."""

    changelist: ClassVar[str] = ""

    key: str
    label: str
    count: int
    params: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return changelist_url(self.changelist, self.params)
