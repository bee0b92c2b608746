"""``scripts/write_dev_env.py``: a fresh .env for `make run`, and an older one completed."""

import importlib.util
import re
from pathlib import Path

import pytest

from malls.makeshop.app.config import AppConfig
from malls.makeshop.app.sandbox import GRAPHQL_PATH, SANDBOX_APP_ID

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "write_dev_env.py"
spec = importlib.util.spec_from_file_location("write_dev_env", SCRIPT)
write_dev_env = importlib.util.module_from_spec(spec)
spec.loader.exec_module(write_dev_env)

OLD_ENV = (
    "# Development settings written by `make run`; never commit this file.\n"
    "DEBUG=true\nSECRET_KEY=old-secret\nCREDENTIALS_KEYS=dev1:old\n"
    "MAKESHOP_API_BASE_URL=http://127.0.0.1:8001"  # no final newline
)


def values(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^([A-Z_]+)=(.*)$", path.read_text(), re.MULTILINE))


def app_config(found: dict[str, str]) -> AppConfig:
    return AppConfig(
        graphql_url=found["MAKESHOP_APP_GRAPHQL_URL"], app_id=found["MAKESHOP_APP_ID"],
        api_key=found["MAKESHOP_APP_API_KEY"],
        webhook_secret=found["MAKESHOP_APP_WEBHOOK_SECRET"],
    )


def test_a_fresh_env_turns_the_new_api_on_against_the_sandbox(tmp_path):
    path = tmp_path / ".env"
    write_dev_env.main([str(path), "--sandbox-port", "8011"])

    found = values(path)
    config = app_config(found)
    assert config.enabled, config.problems
    assert found["MAKESHOP_APP_GRAPHQL_URL"] == "http://127.0.0.1:8011" + GRAPHQL_PATH
    assert found["MAKESHOP_API_BASE_URL"] == "http://127.0.0.1:8011"
    assert found["MAKESHOP_APP_ID"] == SANDBOX_APP_ID
    assert found["RAKUTEN_API_BASE_URL"] == "http://127.0.0.1:8011"  # the same sandbox
    assert path.stat().st_mode & 0o077 == 0


def test_secrets_are_fresh_every_time(tmp_path):
    first, second = tmp_path / "a.env", tmp_path / "b.env"
    write_dev_env.main([str(first)])
    write_dev_env.main([str(second)])
    for name in ("MAKESHOP_APP_API_KEY", "MAKESHOP_APP_WEBHOOK_SECRET", "SECRET_KEY"):
        assert values(first)[name] != values(second)[name]


def test_an_env_from_before_the_new_api_is_completed_once(tmp_path, capsys):
    path = tmp_path / ".env"
    path.write_text(OLD_ENV)

    write_dev_env.main([str(path)])
    completed = path.read_text()
    write_dev_env.main([str(path)])

    assert path.read_text() == completed  # the second run adds nothing
    assert completed.startswith(OLD_ENV + "\n")  # nothing of the old file changed
    assert app_config(values(path)).enabled
    assert values(path)["RAKUTEN_API_BASE_URL"] == "http://127.0.0.1:8001"
    assert "added the MAKESHOP_APP_* settings and RAKUTEN_API_BASE_URL" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("line", [
    "MAKESHOP_APP_GRAPHQL_URL=",  # the developer turned it off (empty)
    "MAKESHOP_APP_ID=goq-real",
])
def test_an_env_that_mentions_the_new_api_is_left_alone(tmp_path, line):
    path = tmp_path / ".env"
    path.write_text(OLD_ENV + "\n" + line + "\nRAKUTEN_API_BASE_URL=\n")
    before = path.read_text()

    write_dev_env.main([str(path)])

    assert path.read_text() == before


def test_a_commented_out_setting_does_not_count(tmp_path):
    path = tmp_path / ".env"
    path.write_text(OLD_ENV + "\n# MAKESHOP_APP_ID=\n")
    write_dev_env.main([str(path)])
    assert "MAKESHOP_APP_WEBHOOK_SECRET" in values(path)


def test_an_env_from_before_rakuten_gets_its_sandbox_url_alone(tmp_path, capsys):
    path = tmp_path / ".env"
    write_dev_env.main([str(path), "--sandbox-port", "8011"])
    fresh = path.read_text()
    path.write_text(fresh.replace("RAKUTEN_API_BASE_URL=http://127.0.0.1:8011\n", ""))
    before = path.read_text()
    capsys.readouterr()

    write_dev_env.main([str(path), "--sandbox-port", "8011"])

    assert path.read_text().startswith(before)
    assert values(path)["RAKUTEN_API_BASE_URL"] == "http://127.0.0.1:8011"
    assert path.read_text().count("MAKESHOP_APP_ID=") == 1  # the app's settings untouched
    assert "added RAKUTEN_API_BASE_URL for the sandbox" in capsys.readouterr().out
