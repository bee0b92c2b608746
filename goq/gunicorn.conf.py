"""gunicorn settings for production: ``gunicorn -c goq/gunicorn.conf.py``.

Command-line options and ``GUNICORN_CMD_ARGS`` override these (``--bind``, ``--workers``).
Both of gunicorn's logs go through ``core.redaction``: the access log's request line
and the error log's "Error handling request <uri>" would otherwise carry a MakeShop
notification URL's token. See docs/operations.md, "Logs".
"""

wsgi_app = "goq.wsgi"
bind = "127.0.0.1:8000"
worker_class = "gthread"
workers = 4
threads = 4

logger_class = "goq.gunicorn_logging.RedactingLogger"
errorlog = "-"
# Access log on stdout, one line per request, the request line (%(r)s) redacted. To
# turn it off: GUNICORN_CMD_ARGS="--access-logfile /dev/null".
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%({x-request-id}o)s"'
