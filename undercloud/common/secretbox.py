"""Secrets at rest (BMC passwords and the like): Fernet with the cloud's encryption key.

The key is DATA_DIR/secrets/encryption-key, made on first start; only processes with the
data folder (the API and the managers) can read what is stored.
"""
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from undercloud.common import secrets


@lru_cache(maxsize=4)
def _fernet(key_file: str) -> Fernet:
    with open(key_file, "rb") as stream:
        return Fernet(stream.read().strip())


def encrypt(config, text: str) -> str:
    return _fernet(secrets.encryption_key_file(config)).encrypt(text.encode()).decode()


def decrypt(config, token: str) -> str:
    """The stored text; ValueError when it was not sealed with this cloud's key."""
    try:
        return _fernet(secrets.encryption_key_file(config)).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("a stored secret does not open with this cloud's encryption key") \
            from None
