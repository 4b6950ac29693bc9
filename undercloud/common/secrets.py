"""The secrets generated on first start: admin password, token keys, encryption key, metadata
secret, bus keys.

They live in DATA_DIR/secrets (mode 0700), each file mode 0600, and are never logged.
"""
import os
import secrets as random

from cryptography.fernet import Fernet

from undercloud.bus import keys as bus_keys
from undercloud.common.files import read_text, write_secret, write_secret_once


def secrets_dir(config) -> str:
    return config.path("secrets")


def admin_password_file(config) -> str:
    return os.path.join(secrets_dir(config), "admin-password")


def admin_password(config) -> str:
    return read_text(admin_password_file(config))


def token_keys_dir(config) -> str:
    return os.path.join(secrets_dir(config), "token-keys")


def encryption_key_file(config) -> str:
    return os.path.join(secrets_dir(config), "encryption-key")


def metadata_secret_file(config) -> str:
    return os.path.join(secrets_dir(config), "metadata-secret")


def metadata_secret(config) -> bytes:
    """The key the metadata proxy signs instance ids with (Neutron's metadata_proxy_shared_secret)."""
    return read_text(metadata_secret_file(config)).encode()


def ensure_secrets(config) -> list[str]:
    """Create whichever secrets are missing; return the names made (never the values)."""
    os.makedirs(secrets_dir(config), mode=0o700, exist_ok=True)
    os.chmod(secrets_dir(config), 0o700)
    made = []
    if write_secret_once(admin_password_file(config), lambda: random.token_urlsafe(18)):
        made.append("admin password")
    keys = token_keys_dir(config)
    os.makedirs(keys, mode=0o700, exist_ok=True)
    # Keystone's key repository layout: 0 is the staged key, the highest number is primary.
    if not os.listdir(keys):
        write_secret(os.path.join(keys, "0"), Fernet.generate_key())
        write_secret(os.path.join(keys, "1"), Fernet.generate_key())
        made.append("token keys")
    if write_secret_once(encryption_key_file(config), Fernet.generate_key):
        made.append("encryption key")
    if write_secret_once(metadata_secret_file(config), lambda: random.token_urlsafe(32)):
        made.append("metadata secret")
    fresh = not os.path.isdir(bus_keys.key_dir(config))
    bus_keys.ensure_keys(config)
    if fresh:
        made.append("bus keys")
    return made
