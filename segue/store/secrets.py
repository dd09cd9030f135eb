"""Secrets at rest: destination and warehouse credentials are sealed with Fernet before storage.

The key is `settings.secret_key` (SEGUE_SECRET_KEY) when set, else the file
`<data_dir>/secret.key`, made on first use (mode 0600). Processes that share a PostgreSQL
config store from several machines must share the key, so they set SEGUE_SECRET_KEY.
"""

from __future__ import annotations

import binascii
import json
import os
import secrets
from pathlib import Path
from typing import Mapping

from cryptography.fernet import Fernet, InvalidToken

from segue.config import Settings
from segue.errors import ConfigError

KEY_FILE = "secret.key"
GENERATE_HINT = (
    'generate one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class SecretBox:
    """Seals a mapping of secret values into one token, and opens it again."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(check_key(key, "the secret key"))

    def encrypt(self, values: Mapping[str, str]) -> str | None:
        """The ciphertext of `values` (JSON inside); None when there is nothing to hide."""
        if not values:
            return None
        plain = json.dumps(dict(values), sort_keys=True, separators=(",", ":")).encode()
        return self._fernet.encrypt(plain).decode("ascii")

    def decrypt(self, token: str | None) -> dict:
        """The values sealed in `token` ({} for None); ConfigError when the key does not fit."""
        if token is None:
            return {}
        try:
            return json.loads(self._fernet.decrypt(token.encode("ascii")))
        except (InvalidToken, ValueError) as error:
            raise ConfigError(
                "cannot decrypt the stored secrets: the secret key differs from the one they were saved with "
                f"(set SEGUE_SECRET_KEY, or restore {KEY_FILE} in the data directory, to that key)"
            ) from error


def generate_secret_key() -> str:
    """A new key in the form SEGUE_SECRET_KEY takes."""
    return Fernet.generate_key().decode("ascii")


def check_key(key: bytes | str, origin: str) -> bytes:
    """`key` when it is a Fernet key (URL-safe base64 of 32 bytes); ConfigError otherwise."""
    raw = (key.encode() if isinstance(key, str) else key).strip()
    try:
        if len(binascii.a2b_base64(raw.translate(bytes.maketrans(b"-_", b"+/")), strict_mode=True)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    raise ConfigError(
        f"{origin} is not a valid secret key: it must be 32 random bytes in URL-safe base64 "
        f"(44 characters ending in '='); {GENERATE_HINT}"
    )


def load_secret_key(settings: Settings) -> bytes:
    """The key from SEGUE_SECRET_KEY, else from `<data_dir>/secret.key` (made if missing)."""
    if settings.secret_key:
        return check_key(settings.secret_key, "SEGUE_SECRET_KEY")
    path = Path(settings.data_dir) / KEY_FILE
    return check_key(_read_or_create(path), f"the key file {path}")


def _read_or_create(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        _write_private(temporary, Fernet.generate_key() + b"\n")
        os.link(temporary, path)  # atomic and exclusive: of racing processes, one key wins
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    _sync_directory(path.parent)
    return path.read_bytes()


def _write_private(path: Path, content: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def _sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # platforms without directory handles
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
