"""Authenticated encryption of merchant credentials at rest.

A stored value is ``gqc1.<kid>.<base64(nonce || ciphertext || tag)>``: AES-256-GCM
with a fresh 96-bit nonce per write. The associated data binds the ciphertext to its
own header and to the place it lives (model, field, row id), so a value copied to
another row or field, or given another key id, fails to decrypt instead of
silently yielding someone else's secret.

Keys come from ``settings.CREDENTIALS_KEYS`` (``kid:base64key,...``): the first key
encrypts, every listed key decrypts. They are independent of ``SECRET_KEY``.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
from binascii import a2b_base64, b2a_base64
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

FORMAT_VERSION = "gqc1"
NONCE_BYTES = 12
KEY_BYTES = 32
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
TOKEN_PATTERN = re.compile(r"\Agqc1\.([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9+/]+={0,2})\Z")


class CredentialsError(Exception):
    """Base of the errors raised here; messages never contain a secret or ciphertext."""


class KeyConfigurationError(CredentialsError):
    """CREDENTIALS_KEYS is missing or malformed (shown to operators at start-up)."""


class DecryptionError(CredentialsError):
    """A stored credential cannot be decrypted: unknown key, tampering, or a copied value.

    Screens turn this into "please enter the credentials again"; it never carries
    the stored value.
    """


class SecretValue:
    """A decrypted secret that does not print itself.

    ``str()``/``repr()`` are masked so a secret cannot reach a log line, a template
    or an error report by accident; code that needs the plaintext calls ``reveal()``.
    """

    __slots__ = ("_value", "_source")

    def __init__(self, value: str, *, source: Ciphertext | None = None):
        if not isinstance(value, str):
            raise TypeError("SecretValue wraps a str")
        _set_value(self, value)
        # The stored ciphertext this value was decrypted from, if any: writing the value
        # back unchanged writes these same bytes (still bound to the same row).
        _set_source(self, source)

    def __setattr__(self, name, value):
        raise AttributeError("SecretValue is immutable")

    def reveal(self) -> str:
        return self._value

    @property
    def last4(self) -> str:
        """The last four characters, shown only for values long enough not to give it away."""
        return self._value[-4:] if len(self._value) >= 12 else ""

    def __eq__(self, other):
        if isinstance(other, SecretValue):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self):
        return hash((SecretValue, self._value))

    def __bool__(self):
        return bool(self._value)

    def __len__(self):
        return len(self._value)

    def __str__(self):
        return "********"

    def __repr__(self):
        return "SecretValue('********')"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        # Pickling would write the plaintext into a cache or session store.
        raise TypeError("SecretValue cannot be pickled")


# The slots' own setters: they get past the immutability guard in __setattr__, at a
# third of object.__setattr__'s cost (a SecretValue is made for every secret read).
_set_value = SecretValue._value.__set__
_set_source = SecretValue._source.__set__


class Ciphertext(str):
    """A stored, still encrypted value as read from the database.

    Only this type may be written to an encrypted column, which keeps
    ``QuerySet.update()`` and ``bulk_update()`` from writing plaintext.
    """

    __slots__ = ()

    @property
    def kid(self) -> str:
        match = TOKEN_PATTERN.match(self)
        return match.group(1) if match else ""

    def __repr__(self):
        return f"Ciphertext(kid={self.kid!r})"


@dataclass(frozen=True)
class KeyRing:
    """The configured keys: ``primary`` encrypts, all of ``keys`` decrypt."""

    primary: str
    keys: dict[str, AESGCM]

    def __post_init__(self):
        # Everything that depends only on the key id is built once here, not per value:
        # encrypt()/decrypt() run once per secret, and rotation runs them for every row.
        # ``readers`` maps a stored value's whole header "gqc1.<kid>." to its key and to
        # the bytes its associated data starts with, so one dict lookup checks the format
        # version, finds the key and rejects unknown ids.
        readers = {
            f"{FORMAT_VERSION}.{kid}.": (key, f"{FORMAT_VERSION}.{kid}|".encode())
            for kid, key in self.keys.items()
        }
        object.__setattr__(self, "readers", readers)
        object.__setattr__(self, "writer", (f"{FORMAT_VERSION}.{self.primary}.",
                                            *readers[f"{FORMAT_VERSION}.{self.primary}."]))

    def __repr__(self):
        return f"KeyRing(primary={self.primary!r}, kids={list(self.keys)!r})"


def parse_keys(spec: str) -> KeyRing:
    """Parse ``kid:base64key,...``; raise KeyConfigurationError saying what is wrong."""
    entries = [item.strip() for item in (spec or "").split(",") if item.strip()]
    if not entries:
        raise KeyConfigurationError("CREDENTIALS_KEYS is empty; generate one with "
                                    "`python manage.py generate_credentials_key`.")
    keys: dict[str, AESGCM] = {}
    for position, entry in enumerate(entries, start=1):
        kid, sep, encoded = entry.partition(":")
        if not sep or not KID_PATTERN.match(kid):
            raise KeyConfigurationError(
                f"CREDENTIALS_KEYS entry {position} must look like 'kid:base64key' with a key id "
                "of letters, digits, '_' or '-' (at most 32)."
            )
        if kid in keys:
            raise KeyConfigurationError(f"CREDENTIALS_KEYS lists key id {kid!r} twice.")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise KeyConfigurationError(
                f"CREDENTIALS_KEYS key {kid!r} is not valid base64."
            ) from None
        if len(raw) != KEY_BYTES:
            raise KeyConfigurationError(
                f"CREDENTIALS_KEYS key {kid!r} must be {KEY_BYTES} bytes (AES-256), not {len(raw)}."
            )
        keys[kid] = AESGCM(raw)
    return KeyRing(primary=next(iter(keys)), keys=keys)


@lru_cache(maxsize=4)
def _keyring_for(spec: str) -> KeyRing:
    return parse_keys(spec)


def get_keyring() -> KeyRing:
    """The key ring from settings, read at call time (tests may override settings)."""
    return _keyring_for(settings.CREDENTIALS_KEYS)


def generate_key_spec(kid: str) -> str:
    """A new ``kid:base64key`` entry from the OS's random source."""
    if not KID_PATTERN.match(kid):
        raise KeyConfigurationError("A key id is 1-32 letters, digits, '_' or '-'.")
    return f"{kid}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def encrypt(plaintext: str, *, context: str, keyring: KeyRing | None = None) -> Ciphertext:
    """Encrypt ``plaintext`` for the place named by ``context`` under the primary key."""
    prefix, key, aad_start = (keyring or get_keyring()).writer
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.encrypt(nonce, plaintext.encode(), aad_start + context.encode())
    return Ciphertext(prefix + b2a_base64(nonce + sealed, newline=False).decode())


def decrypt(token: str, *, context: str, keyring: KeyRing | None = None) -> str:
    """Decrypt a stored value written for ``context``; fail closed with DecryptionError."""
    keyring = keyring or get_keyring()
    try:
        # The header ends at the first dot after "gqc1."; None for any other format.
        end = token.find(".", len(FORMAT_VERSION) + 1) + 1
        reader = keyring.readers.get(token[:end]) if end else None
    except (AttributeError, TypeError):  # not a str at all
        reader = None
    if reader is None:
        raise _unreadable_header(token)
    key, aad_start = reader
    try:
        raw = a2b_base64(token[end:], strict_mode=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("The stored credential is damaged.") from None
    if len(raw) < NONCE_BYTES + 16:
        raise DecryptionError("The stored credential is damaged.")
    try:
        plaintext = key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad_start + context.encode())
    except InvalidTag:
        raise DecryptionError(
            "The stored credential failed authentication (wrong key, tampering, or copied "
            "from another record)."
        ) from None
    return plaintext.decode()


def _unreadable_header(token) -> DecryptionError:
    """Why ``token``'s header names no configured key: another format, or an unknown key id."""
    parts = token.split(".", 2) if isinstance(token, str) else ()
    if len(parts) == 3 and parts[0] == FORMAT_VERSION and KID_PATTERN.match(parts[1]):
        return DecryptionError("The stored credential uses a key id that is not configured.")
    return DecryptionError("The stored credential is not in a recognised format.")
