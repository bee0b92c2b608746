"""Create .env with fresh development keys, once; an existing .env is left alone.

Keys are made here from the OS's random source, so no key is ever written in the
repository. The file is git-ignored.
"""

import base64
import secrets
import sys
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
if path.exists():
    print(f"{path} exists; keeping it")
    raise SystemExit(0)
credentials_key = base64.b64encode(secrets.token_bytes(32)).decode()
path.write_text(
    "# Development settings written by `make run`; never commit this file.\n"
    "DEBUG=true\n"
    "LOG_FORMAT=text\n"
    f"SECRET_KEY={secrets.token_urlsafe(50)}\n"
    f"CREDENTIALS_KEYS=dev1:{credentials_key}\n"
    "ALLOWED_HOSTS=127.0.0.1,localhost\n"
    "MAKESHOP_API_BASE_URL=http://127.0.0.1:8001\n"
)
path.chmod(0o600)
print(f"wrote {path} with new development keys")
