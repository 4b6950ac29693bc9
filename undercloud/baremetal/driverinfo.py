"""A node's driver_info in and out: its secrets (ipmi_password and any key naming a password,
secret or token) are sealed into Node.driver_secrets with the cloud's key and never stored,
shown or logged in the clear; users see "******" in their place."""
import json

from undercloud.common import secretbox

MASK = "******"
SECRET_WORDS = ("password", "secret", "token")


def is_secret(key: str) -> bool:
    return any(word in key.lower() for word in SECRET_WORDS)


def mask(values: dict | None) -> dict:
    """A copy with every secret-named value shown as "******"."""
    return {key: MASK if is_secret(key) else value for key, value in (values or {}).items()}


def split(driver_info: dict) -> tuple[dict, dict]:
    """(what driver_info keeps, what gets sealed)."""
    plain = {key: value for key, value in driver_info.items() if not is_secret(key)}
    sealed = {key: value for key, value in driver_info.items() if is_secret(key)}
    return plain, sealed


def seal(config, secrets: dict) -> str | None:
    return secretbox.encrypt(config, json.dumps(secrets)) if secrets else None


def opened(config, driver_secrets: str | None) -> dict:
    """The sealed values ({"ipmi_password": ...}); ValueError when the key does not fit."""
    return json.loads(secretbox.decrypt(config, driver_secrets)) if driver_secrets else {}


def full(config, node) -> dict:
    """driver_info with its secrets back in: only for applying a user's patch."""
    return {**(node.driver_info or {}), **opened(config, node.driver_secrets)}


def shown(config, node) -> dict:
    """driver_info as users see it: every sealed key present, its value masked."""
    try:
        sealed = opened(config, node.driver_secrets)
    except ValueError:
        sealed = {}
    return mask({**(node.driver_info or {}), **dict.fromkeys(sealed, MASK)})
