"""Every record a handler could write, for canary tests that hunt secrets in logs."""

import logging

import pytest

# The loggers a secret could reach: ours, the HTTP clients', Django's and runserver's.
WATCHED_LOGGERS = ("", "urllib3", "requests", "malls", "django", "django.server")


class Capture(logging.Handler):
    """Keeps everything a handler could write: the formatted line and the raw parts."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.texts = []

    def emit(self, record):
        self.texts.append(f"{self.format(record)} {record.msg!r} {record.args!r}")

    @property
    def text(self):
        return "\n".join(self.texts)


@pytest.fixture
def logs():
    """Every watched logger at DEBUG, all records captured."""
    capture = Capture()
    levels = {name: logging.getLogger(name).level for name in WATCHED_LOGGERS}
    for name in WATCHED_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger().addHandler(capture)
    yield capture
    logging.getLogger().removeHandler(capture)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
