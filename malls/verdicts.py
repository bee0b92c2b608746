"""The vocabulary every mall's verdicts share: outcomes and GoQ's own reasons.

A mall package has its own reasons (what its API said); these are the ones that are
not a mall's word, so generic code may name them without knowing any mall.
"""

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
