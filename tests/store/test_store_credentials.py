"""Password hashing and API token helpers (no database)."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from segue.store.credentials import hash_password, hash_token, new_api_token, new_password, verify_password


def test_password_hashes_are_salted_scrypt_in_a_self_describing_format():
    stored = hash_password("correct horse")
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    salt, digest = base64.b64decode(salt), base64.b64decode(digest)
    assert (len(salt), len(digest)) == (16, 32)
    assert digest == hashlib.scrypt(b"correct horse", salt=salt, n=16384, r=8, p=1, dklen=len(digest))
    assert hash_password("correct horse") != stored  # a new salt each time


def test_verify_password_accepts_the_right_one_only():
    stored = hash_password("correct horse")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horse ", stored)
    assert not verify_password("", stored)


@pytest.mark.parametrize(
    "stored", ["", "plain", "bcrypt$1$2$3$4$5", "scrypt$x$8$1$AAAA$AAAA", "scrypt$16384$8$1$!!$AAAA"]
)
def test_verify_password_refuses_malformed_hashes(stored):
    assert verify_password("anything", stored) is False


def test_tokens_and_generated_passwords():
    token = new_api_token()
    assert re.fullmatch(r"sgt_[A-Za-z0-9_-]{40}", token) and new_api_token() != token
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert re.fullmatch(r"[A-Za-z0-9_-]{20}", new_password())
