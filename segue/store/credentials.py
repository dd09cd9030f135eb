"""Passwords and API tokens: what is stored is a hash, never the thing itself.

Passwords: scrypt (n=2**14, r=8, p=1, 16-byte random salt), stored as
`scrypt$n$r$p$salt_b64$hash_b64` so the parameters can be raised later without breaking old
hashes. API tokens: `sgt_` plus 40 URL-safe random characters (240 bits), stored as SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

TOKEN_PREFIX = "sgt_"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_SALT_BYTES, _HASH_BYTES = 16, 32
_MAX_MEMORY = 64 * 1024 * 1024
_DUMMY_HASH: str | None = None  # compared against for unknown users, so timing does not tell


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=_MAX_MEMORY)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`, in the self-describing `scrypt$...` format."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, _HASH_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the `stored` hash (constant-time; False for a malformed hash)."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        expected_bytes = base64.b64decode(expected, validate=True)
        actual = _scrypt(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p), len(expected_bytes))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected_bytes)


def waste_password_check(password: str) -> None:
    """Spend the time a real check takes (for unknown usernames)."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    verify_password(password, _DUMMY_HASH)


def new_password() -> str:
    """A generated password: 20 URL-safe random characters."""
    return secrets.token_urlsafe(15)


def new_api_token() -> str:
    """`sgt_` and 40 URL-safe random characters."""
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode()).hexdigest()
