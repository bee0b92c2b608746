"""gunicorn's logger with every line redacted (``goq/gunicorn.conf.py`` selects it).

gunicorn writes the request line to its access log and the request URI to its error
log ("Error handling request /makeshop/notify/<token>/…"); both loggers get
``core.redaction``'s filter, which rewrites each record before any handler formats it.
"""

from gunicorn import glogging

from core.redaction import RedactFilter


class RedactingLogger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)  # also re-run on a configuration reload (SIGHUP)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, RedactFilter) for f in log.filters):
                log.addFilter(RedactFilter())
