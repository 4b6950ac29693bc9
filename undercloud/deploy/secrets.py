"""The overcloud's secrets, made once on the deploying machine in STATE_DIR/overcloud/secrets
(playbooks/README.md, "Secrets"):

    admin-password, database-password, encryption-key, metadata-secret
    token-keys/0, token-keys/1                     Fernet keys (0 staged, 1 primary)
    bus/broker.key, bus/broker.key_secret          the broker's CurveZMQ pair
    bus/hosts/HOST.key, bus/hosts/HOST.key_secret  each host's own pair

Directories are 0700 and files 0600. A re-run keeps what exists and makes only what is
missing (a new host gets its pair, nobody else's changes). Values are never printed.
"""
import os
import secrets as random

from cryptography.fernet import Fernet

from undercloud.bus import keys
from undercloud.common.files import read_text, write_secret_once

SECRETS_DIR = os.path.join("overcloud", "secrets")


def secrets_dir(state_dir: str) -> str:
    return os.path.join(state_dir, SECRETS_DIR)


def admin_password(directory: str) -> str:
    return read_text(os.path.join(directory, "admin-password"))


def _private_dir(path: str) -> None:
    os.makedirs(path, mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)


def ensure(directory: str, host_names) -> list[str]:
    """Make whichever secrets are missing; return what was made, by name (never a value)."""
    _private_dir(directory)
    made = [name for name, make in (
        ("admin-password", lambda: random.token_urlsafe(18)),
        ("database-password", lambda: random.token_urlsafe(24)),
        ("encryption-key", Fernet.generate_key),
        ("metadata-secret", lambda: random.token_urlsafe(32)),
    ) if write_secret_once(os.path.join(directory, name), make)]
    token_keys = os.path.join(directory, "token-keys")
    _private_dir(token_keys)
    # Keystone's key repository layout: 0 is the staged key, the highest number is primary.
    made += [f"token-keys/{number}" for number in ("0", "1")
             if write_secret_once(os.path.join(token_keys, number), Fernet.generate_key)]
    bus = os.path.join(directory, "bus")
    hosts = os.path.join(bus, "hosts")
    _private_dir(bus)
    _private_dir(hosts)
    if keys.create_pair(bus, "broker"):
        made.append("bus/broker.key")
    made += [f"bus/hosts/{name}.key" for name in sorted(host_names)
             if keys.create_pair(hosts, name)]
    return made
