"""The AEAD format: round trips, tampering, keys, and masking."""

import base64
import copy
import pickle

import pytest

from malls import crypto


def keyring(*specs):
    return crypto.parse_keys(",".join(specs))


K1 = crypto.generate_key_spec("k1")
K2 = crypto.generate_key_spec("k2")


def test_round_trip_under_primary_key():
    ring = keyring(K1, K2)
    token = crypto.encrypt("秘密-secret", context="a.b.c.1", keyring=ring)
    assert token.startswith("gqc1.k1.")
    assert crypto.decrypt(token, context="a.b.c.1", keyring=ring) == "秘密-secret"


def test_each_write_uses_a_fresh_nonce():
    ring = keyring(K1)
    assert crypto.encrypt("x", context="c", keyring=ring) != crypto.encrypt(
        "x", context="c", keyring=ring
    )


def test_ciphertext_does_not_contain_plaintext():
    ring = keyring(K1)
    token = crypto.encrypt("plain-secret-value", context="c", keyring=ring)
    assert "plain-secret-value" not in token
    assert b"plain-secret-value" not in base64.b64decode(token.split(".")[2])


def test_other_context_fails_closed():
    ring = keyring(K1)
    token = crypto.encrypt("x", context="malls.m.password.1", keyring=ring)
    with pytest.raises(crypto.DecryptionError) as info:
        crypto.decrypt(token, context="malls.m.password.2", keyring=ring)
    assert token not in str(info.value)


@pytest.mark.parametrize("position", [0, 5, 12, 20, -1])
def test_any_flipped_bit_fails_closed(position):
    ring = keyring(K1)
    token = crypto.encrypt("secret", context="c", keyring=ring)
    header, body = token.rsplit(".", 1)
    raw = bytearray(base64.b64decode(body))
    raw[position] ^= 0x01
    tampered = header + "." + base64.b64encode(bytes(raw)).decode()
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, context="c", keyring=ring)


def test_edited_key_id_fails_even_when_that_key_exists():
    ring = keyring(K1, K2)
    token = crypto.encrypt("secret", context="c", keyring=ring)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token.replace("gqc1.k1.", "gqc1.k2.", 1), context="c", keyring=ring)


def test_unknown_key_and_wrong_key_fail_closed():
    token = crypto.encrypt("secret", context="c", keyring=keyring(K1))
    with pytest.raises(crypto.DecryptionError, match="not configured"):
        crypto.decrypt(token, context="c", keyring=keyring(K2))
    other_k1 = crypto.generate_key_spec("k1")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context="c", keyring=keyring(other_k1))


@pytest.mark.parametrize(
    "junk",
    [
        "", "secret", "gqc1.k1.", "gqc1.k1.AAAA", "gqc2.k1.AAAAAAAA", "gqc1.k1.@@@",
        "gqc1.k1.QUFB\nQUFB", "gqc1..AAAA", "gqc1.k1.AAAA.AAAA",
    ],
)
def test_malformed_values_fail_closed(junk):
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(junk, context="c", keyring=keyring(K1))


def test_the_stored_format_is_the_documented_one():
    # Values already in databases must keep decrypting: gqc1.<kid>.<b64(nonce|ct|tag)>,
    # with "gqc1.<kid>|<context>" as associated data, both ways.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ring = keyring(K1)
    bare = AESGCM(base64.b64decode(K1.partition(":")[2]))
    nonce = bytes(range(12))
    sealed = bare.encrypt(nonce, "秘密".encode(), b"gqc1.k1|a.b.c.1")
    written_by_hand = "gqc1.k1." + base64.b64encode(nonce + sealed).decode()
    assert crypto.decrypt(written_by_hand, context="a.b.c.1", keyring=ring) == "秘密"

    token = crypto.encrypt("秘密", context="a.b.c.1", keyring=ring)
    raw = base64.b64decode(token.removeprefix("gqc1.k1."), validate=True)
    assert bare.decrypt(raw[:12], raw[12:], b"gqc1.k1|a.b.c.1") == "秘密".encode()
    assert type(token) is crypto.Ciphertext and token.kid == "k1"


def test_a_key_id_is_matched_whole():
    token = crypto.encrypt("secret", context="c", keyring=keyring(K1))
    longer_id = token.replace("gqc1.k1.", "gqc1.k10.", 1)
    with pytest.raises(crypto.DecryptionError, match="not configured"):
        crypto.decrypt(longer_id, context="c", keyring=keyring(K1))
    k10 = crypto.generate_key_spec("k10")
    with pytest.raises(crypto.DecryptionError, match="not configured"):
        crypto.decrypt(token, context="c", keyring=keyring(k10))


@pytest.mark.parametrize("junk", [None, b"gqc1.k1.AAAA", 42, "gqc1", "gqc1.k1", "GQC1.k1.AAAA"])
def test_values_that_are_not_tokens_fail_closed(junk):
    with pytest.raises(crypto.DecryptionError, match="recognised format"):
        crypto.decrypt(junk, context="c", keyring=keyring(K1))


def test_old_keys_still_decrypt_after_a_new_primary_is_added():
    token = crypto.encrypt("secret", context="c", keyring=keyring(K1))
    assert crypto.decrypt(token, context="c", keyring=keyring(K2, K1)) == "secret"


@pytest.mark.parametrize(
    "spec, message",
    [
        ("", "empty"),
        ("nokey", "kid:base64key"),
        ("k1:not base64!", "base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "32 bytes"),
        ("bad id!:" + base64.b64encode(bytes(32)).decode(), "kid:base64key"),
        (f"{K1},{K1}", "twice"),
    ],
)
def test_malformed_key_configuration_is_explained(spec, message):
    with pytest.raises(crypto.KeyConfigurationError, match=message):
        crypto.parse_keys(spec)


def test_key_errors_never_echo_the_key():
    spec = "k1:" + base64.b64encode(b"x" * 31).decode()
    with pytest.raises(crypto.KeyConfigurationError) as info:
        crypto.parse_keys(spec)
    assert spec.split(":")[1] not in str(info.value)


def test_secret_value_is_masked_and_revealed_only_on_request():
    secret = crypto.SecretValue("hunter2-hunter2")
    assert "hunter2" not in str(secret)
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2-hunter2"
    assert secret.last4 == "ter2"
    assert crypto.SecretValue("short").last4 == ""
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError):
        pickle.dumps(secret)
