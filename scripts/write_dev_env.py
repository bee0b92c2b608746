"""Create .env with fresh development keys, once; complete an older one; never overwrite.

Keys are made here from the OS's random source, so no key is ever written in the
repository. The file is git-ignored.

A .env written before MakeShop's new API existed gets the four ``MAKESHOP_APP_*``
settings appended (pointing at the bundled sandbox), so `make run` shows a shop
connected through the app; one written before Rakuten gets ``RAKUTEN_API_BASE_URL``
(the same sandbox, which serves RMS's stand-in too). A .env that mentions any
setting of a group already is the developer's choice for that group, left as it is.

Usage: python scripts/write_dev_env.py [.env] [--sandbox-port 8001]
"""

import argparse
import base64
import re
import secrets
from pathlib import Path

# The sandbox's app id (malls.makeshop.app.sandbox.SANDBOX_APP_ID); not a secret. Kept
# literal so this script runs before the virtualenv has Django.
SANDBOX_APP_ID = "90001"
APP_SETTINGS = (
    "MAKESHOP_APP_GRAPHQL_URL",
    "MAKESHOP_APP_ID",
    "MAKESHOP_APP_API_KEY",
    "MAKESHOP_APP_WEBHOOK_SECRET",
)


def app_settings(sandbox_port: int) -> str:
    """The new API pointed at the sandbox; the API key and webhook secret fresh each time.

    The sandbox accepts this API key because ``makeshop_sandbox`` reads it from the
    same .env (it does so only for a loopback GraphQL URL).
    """
    return (
        "# MakeShop's new API, against the bundled sandbox (`manage.py makeshop_sandbox`).\n"
        f"MAKESHOP_APP_GRAPHQL_URL=http://127.0.0.1:{sandbox_port}/v1/graphql\n"
        f"MAKESHOP_APP_ID={SANDBOX_APP_ID}\n"
        f"MAKESHOP_APP_API_KEY=dev-{secrets.token_urlsafe(24)}\n"
        f"MAKESHOP_APP_WEBHOOK_SECRET={secrets.token_urlsafe(32)}\n"
    )


def rakuten_settings(sandbox_port: int) -> str:
    """Rakuten RMS pointed at the bundled sandbox (it serves RMS's paths too)."""
    return (
        "# Rakuten RMS, against the same bundled sandbox (`manage.py makeshop_sandbox`).\n"
        f"RAKUTEN_API_BASE_URL=http://127.0.0.1:{sandbox_port}\n"
    )


# What an older .env may lack: (its settings, how to write them, what to say).
COMPLETIONS = (
    (APP_SETTINGS, app_settings, "the MAKESHOP_APP_* settings"),
    (("RAKUTEN_API_BASE_URL",), rakuten_settings, "RAKUTEN_API_BASE_URL"),
)


def mentioned(text: str) -> set[str]:
    """The settings a .env assigns (commented-out lines do not count)."""
    names = re.findall(r"^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)\s*=", text, re.MULTILINE)
    return set(names)


def write(path: Path, sandbox_port: int) -> str:
    if path.exists():
        text = path.read_text()
        missing = [
            (settings, what) for names, settings, what in COMPLETIONS
            if not mentioned(text) & set(names)
        ]
        if not missing:
            return f"{path} exists; keeping it"
        separator = "" if not text or text.endswith("\n") else "\n"
        with path.open("a") as file:
            file.write(separator + "".join(settings(sandbox_port) for settings, _ in missing))
        added = " and ".join(what for _, what in missing)
        return f"{path} exists; added {added} for the sandbox"
    credentials_key = base64.b64encode(secrets.token_bytes(32)).decode()
    path.write_text(
        "# Development settings written by `make run`; never commit this file.\n"
        "DEBUG=true\n"
        "LOG_FORMAT=text\n"
        f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"CREDENTIALS_KEYS=dev1:{credentials_key}\n"
        "ALLOWED_HOSTS=127.0.0.1,localhost\n"
        f"MAKESHOP_API_BASE_URL=http://127.0.0.1:{sandbox_port}\n"
        + app_settings(sandbox_port)
        + rakuten_settings(sandbox_port)
    )
    path.chmod(0o600)
    return f"wrote {path} with new development keys"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=".env")
    parser.add_argument("--sandbox-port", type=int, default=8001)
    args = parser.parse_args(argv)
    print(write(Path(args.path), args.sandbox_port))


if __name__ == "__main__":
    main()
