"""The vocabulary every mall's verdicts share: outcomes and GoQ's own reasons.

A mall package has its own reasons (what its API said); these are the ones that are
not a mall's word, so generic code may name them without knowing any mall.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """What one check came to."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the mall answered and said no: the merchant must act
    UNREACHABLE = "unreachable"  # no usable answer: trying again later may help
    UNEXPECTED = "unexpected"  # an answer we cannot read: never taken as success


# GoQ cannot decrypt a saved secret (key missing, row damaged): the merchant must enter
# it again. Lists read it from ``failure_reason`` without decrypting anything.
UNREADABLE = "unreadable"
# GoQ's own call slot stayed busy: nothing was asked, asking later will work.
BUSY = "busy"
# The mall's own rate limit answered: asking later will work.
RATE_LIMITED = "rate_limited"


class MallReason(StrEnum):
    """The base of a mall's own ``Reason`` enum: how every mall's reasons read.

    A mall says which of its reasons are the merchant's to fix (``rejections``) and
    which a later try may settle (``unreachable``); anything else is an answer we could
    not read, never the merchant's fault and never success.
    """

    @classmethod
    def rejections(cls) -> frozenset:
        return frozenset()

    @classmethod
    def unreachable(cls) -> frozenset:
        return frozenset()

    @property
    def outcome(self) -> Outcome:
        if self in self.rejections():
            return Outcome.REJECTED
        if self in self.unreachable():
            return Outcome.UNREACHABLE
        return Outcome.UNEXPECTED

    @property
    def is_rejection(self) -> bool:
        """The mall refused, or the saved secret is unreadable: the merchant must act."""
        return self in self.rejections()

    @property
    def is_unreachable(self) -> bool:
        """No verdict from the mall; asking again later may get one."""
        return self in self.unreachable()

    @property
    def is_busy(self) -> bool:
        """Unreachable because of call volume (the mall's limit or our own slot)."""
        return self.value in (RATE_LIMITED, BUSY)

    @classmethod
    def of(cls, text: str | None):
        """The reason a stored text names; None for none or one unknown."""
        try:
            return cls(text) if text else None
        except ValueError:
            return None


@dataclass(frozen=True)
class EvidenceRule:
    """One row of a mall's table of answer-reading rules: what it reads, what it
    decides, and why we believe it.

    ``reads`` names what the rule looks at (the status line, the body...), ``says`` the
    verdict it gives, ``evidence`` starts with the mall's label of certainty (e.g.
    "known:" / "assumed:" for MakeShop, "confirmed:" / "inferred:" for Rakuten, or
    "ours:" for a choice of GoQ's) and names its source; ``test`` decides whether the
    rule applies.
    """

    name: str
    reads: str
    checks: frozenset
    says: str
    evidence: str
    test: Callable
