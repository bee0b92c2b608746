"""Names people choose (stores, shops) shown where a line break or a direction mark
would change the meaning: e-mail bodies, logs, lists.

A name must be one line of plain text. Control characters (C0, DEL, C1 with U+0085),
the Unicode line and paragraph separators and the bidirectional embedding, override
and isolate controls are refused at input (``validate_single_line``) and flattened to
a space wherever a name is written into a text (``one_line``), so a name cannot start
a new line in an e-mail or make an address read backwards.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# C0 and C1 controls (U+0085 NEL among them), DEL, U+2028/U+2029, and the bidi
# embeddings/overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
_BREAKING = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line(text) -> str:
    """``text`` as one line: every breaking character a space, runs of spaces one."""
    return " ".join(_BREAKING.sub(" ", str(text)).split())


def validate_single_line(value) -> None:
    """Refuses line breaks, control characters and direction controls in a name."""
    if _BREAKING.search(str(value)):
        raise ValidationError(
            _(
                "Use one line of ordinary characters: line breaks, tabs, control "
                "characters and text-direction marks are not allowed."
            ),
            code="not_single_line",
        )
