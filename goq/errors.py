"""Error reports that never show a secret, with DEBUG on too.

Django's filter stands down when DEBUG is on (``make run``), so its technical 500 page
would show a MakeShop password from the POST data or a form's ``cleaned_data``. This one
is always active, and besides the ``sensitive_*`` marks it hides by name and by shape
(``core.redaction``): POST fields, local variables, dict keys and reprs.
"""

import re

from django.utils.datastructures import MultiValueDict
from django.views.debug import SafeExceptionReporterFilter

from core.redaction import SECRET_NAME, redact


class _Shown:
    """A value as the report prints it: its redacted repr."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


class SecretsHiddenReporterFilter(SafeExceptionReporterFilter):
    # Settings, META and cookies: Django's names plus ours (the known-device cookie).
    hidden_settings = re.compile(rf"{SECRET_NAME.pattern}|device", flags=re.I)

    def is_active(self, request):
        return True

    def _hide(self, name, value):
        if isinstance(name, str) and SECRET_NAME.search(name):
            return self.cleansed_substitute
        if isinstance(value, MultiValueDict):
            hidden = value.copy()
            for key in value:
                if isinstance(key, str) and SECRET_NAME.search(key):
                    hidden.setlist(key, [self.cleansed_substitute])
            return hidden
        if isinstance(value, dict):
            return {key: self._hide(key, item) for key, item in value.items()}
        if isinstance(value, str | int | float | bool | type(None)):
            return redact(value) if isinstance(value, str) else value
        try:
            text = repr(value)
        except Exception as exc:  # the report must not fail on a broken repr
            return _Shown(f"<unprintable {type(value).__name__}: {type(exc).__name__}>")
        return _Shown(redact(text))

    def get_post_parameters(self, request):
        cleansed = super().get_post_parameters(request)
        return self._hide("", cleansed) if cleansed else cleansed

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, value if _is_substitute(value, self) else self._hide(name, value))
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def get_safe_request_meta(self, request):
        return {
            key: redact(value) if isinstance(value, str) else value
            for key, value in super().get_safe_request_meta(request).items()
        }


def _is_substitute(value, report_filter) -> bool:
    return isinstance(value, str) and value == report_filter.cleansed_substitute
