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
        object.__setattr__(self, "_value", value)
        # The stored ciphertext this value was decrypted from, if any: writing the value
        # back unchanged writes these same bytes (still bound to the same row).
        object.__setattr__(self, "_source", source)

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
        # Precomputed: encrypt() runs once per secret written, and rotation writes many.
        object.__setattr__(self, "primary_header", f"{FORMAT_VERSION}.{self.primary}")
        object.__setattr__(self, "primary_key", self.keys[self.primary])

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
    from django.conf import settings

    return _keyring_for(settings.CREDENTIALS_KEYS)


def generate_key_spec(kid: str) -> str:
    """A new ``kid:base64key`` entry from the OS's random source."""
    if not KID_PATTERN.match(kid):
        raise KeyConfigurationError("A key id is 1-32 letters, digits, '_' or '-'.")
    return f"{kid}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def encrypt(plaintext: str, *, context: str, keyring: KeyRing | None = None) -> Ciphertext:
    """Encrypt ``plaintext`` for the place named by ``context`` under the primary key."""
    keyring = keyring or get_keyring()
    header = keyring.primary_header
    nonce = os.urandom(NONCE_BYTES)
    sealed = keyring.primary_key.encrypt(nonce, plaintext.encode(), f"{header}|{context}".encode())
    return Ciphertext(header + "." + b2a_base64(nonce + sealed, newline=False).decode())


def decrypt(token: str, *, context: str, keyring: KeyRing | None = None) -> str:
    """Decrypt a stored value written for ``context``; fail closed with DecryptionError."""
    parts = token.split(".", 2) if token else ()
    if len(parts) != 3 or parts[0] != FORMAT_VERSION:
        raise DecryptionError("The stored credential is not in a recognised format.")
    version, kid, body = parts
    keyring = keyring or get_keyring()
    key = keyring.keys.get(kid)
    if key is None:
        raise DecryptionError(
            "The stored credential uses a key id that is not configured."
            if KID_PATTERN.match(kid)
            else "The stored credential is not in a recognised format."
        )
    try:
        raw = a2b_base64(body, strict_mode=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("The stored credential is damaged.") from None
    if len(raw) < NONCE_BYTES + 16:
        raise DecryptionError("The stored credential is damaged.")
    try:
        aad = f"{FORMAT_VERSION}.{kid}|{context}".encode()
        plaintext = key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
    except InvalidTag:
        raise DecryptionError(
            "The stored credential failed authentication (wrong key, tampering, or copied "
            "from another record)."
        ) from None
    return plaintext.decode()
