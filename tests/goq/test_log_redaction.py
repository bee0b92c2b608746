"""Notification tokens never reach a log line, whatever logger or field: our JSON and
text lines (extras of any type), Django's request records, runserver's access log, and
gunicorn's access and error logs (run for real with the shipped configuration)."""

import io
import json
import logging
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import pytest
from django.test import RequestFactory

from core.redaction import redact, redact_value, scrub
from goq.logging import JsonFormatter, RequestContextFilter, TextFormatter
from malls.makeshop import notification_records as notifications
from tests.processes import ROOT, child_env

CANARY = "CanaryTok3n_x9Q-7"


def record(message="x", *args, **extra):
    item = logging.makeLogRecord(
        {"name": "t", "levelno": 30, "levelname": "WARNING", "msg": message, "args": args,
         **extra}
    )
    RequestContextFilter().filter(item)
    return item


# --- Our formatters ---------------------------------------------------------------


def test_every_extra_is_redacted_whatever_its_type():
    request = RequestFactory().post(f"/makeshop/notify/{CANARY}/demo/1/new/")
    line = JsonFormatter().format(record(
        "refused", request=request, path=f"/makeshop/notify/{CANARY}/",
        data={"token": CANARY}, items=[f"token={CANARY}"], count=3, ok=True, nothing=None,
    ))
    assert CANARY not in line
    event = json.loads(line)
    assert event["request"] == "<WSGIRequest: POST '/makeshop/notify/***/demo/1/new/'>"
    assert (event["count"], event["ok"], event["nothing"]) == (3, True, None)


def test_exceptions_and_text_lines_are_redacted():
    try:
        raise RuntimeError(f"failed on /makeshop/notify/{CANARY}/")
    except RuntimeError:
        item = record("boom %s", f"/makeshop/notify/{CANARY}/", exc_info=sys.exc_info())
    for formatter in (JsonFormatter(), TextFormatter("%(message)s")):
        assert CANARY not in formatter.format(item)


@pytest.mark.parametrize(
    "text",
    [
        f"/makeshop/notify/{CANARY}/demo/1/new/",
        f"next=%2Fmakeshop%2Fnotify%2F{CANARY}%2Fdemo",
        f"https://www.makeshop.jp/api?token={CANARY}&pw=x",
        f"{{'token': '{CANARY}'}}",
        f'{{"token": "{CANARY}"}}',
        f"Credentials(token='{CANARY}')",
        f"token%3D{CANARY}",
    ],
)
def test_the_patterns_cover_urls_json_and_reprs(text):
    assert CANARY not in redact(text)
    assert CANARY not in str(redact_value(text))


def test_known_secrets_are_scrubbed_in_every_url_form():
    secret = "p@ss word/+"
    text = "a p@ss word/+ b p%40ss%20word/%2B c p%40ss%20word%2F%2B d p%40ss+word%2F%2B"
    assert "p@ss" not in scrub(text, [secret]) and "p%40ss" not in scrub(text, [secret])


# --- Django's loggers through the configured handler ---------------------------------


@contextmanager
def console_output():
    """What the configured console handler writes (the one LOGGING sets up)."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


@pytest.mark.django_db
def test_django_request_lines_about_notification_urls_carry_no_token(client, monkeypatch):
    with console_output() as out:
        assert client.get(f"/makeshop/notify/{CANARY}/demo/1/new/").status_code == 404
        assert client.get(f"/makeshop/notify/{CANARY}/demo/1%2F2/new/x/y/").status_code == 404

        def crash(token):
            raise RuntimeError(f"lookup failed for {token}")

        monkeypatch.setattr(notifications, "find_connection", crash)
        client.raise_request_exception = False
        assert client.get(f"/makeshop/notify/{CANARY}/demo/1/new/").status_code == 500
    text = out.getvalue()
    assert "Internal Server Error: /makeshop/notify/***/demo/1/new/" in text
    assert CANARY not in text


def test_runserver_access_lines_go_through_our_redacting_handler():
    with console_output() as out:
        logging.getLogger("django.server").info(
            '"%s" %s %s', f"GET /makeshop/notify/{CANARY}/demo/1/new/ HTTP/1.1", "404", "9",
            extra={"request": object(), "status_code": 404},
        )
    assert "GET /makeshop/notify/***/demo/1/new/ HTTP/1.1" in out.getvalue()
    assert CANARY not in out.getvalue()


# --- Real servers -------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(port, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.communicate())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


def fetch(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def stop(process):
    process.terminate()
    try:
        return process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


@pytest.mark.django_db(transaction=True)
def test_runserver_logs_no_token():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
         "--skip-checks"],
        env=child_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for(port, process)
        assert fetch(port, f"/makeshop/notify/{CANARY}/demo/1/new/") == 404
        assert fetch(port, f"/makeshop/notify/{CANARY}") == 404
    finally:
        out, err = stop(process)
    assert "/makeshop/notify/***/demo/1/new/" in err, err
    assert CANARY not in out + err


CRASHING_APP = '''
from goq.wsgi import application as django_application


def application(environ, start_response):
    if environ["PATH_INFO"].startswith("/makeshop/notify/boom-"):
        raise RuntimeError("crashed on " + environ["PATH_INFO"])
    return django_application(environ, start_response)
'''


@pytest.mark.django_db(transaction=True)
def test_gunicorn_logs_no_token(tmp_path):
    (tmp_path / "crashing_app.py").write_text(CRASHING_APP)
    port = free_port()
    env = child_env(PYTHONPATH=f"{ROOT}:{tmp_path}")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "goq" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket",
         "crashing_app:application"],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for(port, process)
        assert fetch(port, f"/makeshop/notify/{CANARY}/demo/1/new/?token={CANARY}") == 404
        # An exception out of the application: gunicorn's "Error handling request <uri>".
        assert fetch(port, f"/makeshop/notify/boom-{CANARY}/demo/1/new/") == 500
    finally:
        out, err = stop(process)
    logs = out + err
    assert "Error handling request GET /makeshop/notify/***/demo/1/new/" in logs, logs
    assert '"GET /makeshop/notify/***/demo/1/new/?token=*** HTTP/1.1" 404' in logs, logs
    assert CANARY not in logs
