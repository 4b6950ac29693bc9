"""Password hashing and Keystone's security-compliance rules.

Hashing is slow on purpose, so callers hash and verify outside any write
transaction and keep the transactions that record the outcome short.
"""
import base64
import datetime
import hashlib
import hmac
import re
import secrets

import bcrypt

from undercloud import db
from undercloud.common.errors import BadRequest, Unauthorized
from undercloud.identity.models import PasswordHistory, User

_BCRYPT_MAX = 72   # bcrypt reads only the first 72 bytes


def hash_password(config, password: str) -> str:
    settings = config["identity"]
    raw = password.encode()
    if settings["password_hash_algorithm"] == "scrypt":
        salt = secrets.token_bytes(16)
        cost = 2 ** max(settings["password_hash_rounds"], 14)
        digest = hashlib.scrypt(raw, salt=salt, n=cost, r=8, p=1, maxmem=256 * 1024 * 1024)
        encoded = base64.b64encode(salt).decode(), base64.b64encode(digest).decode()
        return f"$scrypt${cost}${encoded[0]}${encoded[1]}"
    return bcrypt.hashpw(raw[:_BCRYPT_MAX],
                         bcrypt.gensalt(settings["password_hash_rounds"])).decode()


def verify_password(password: str | None, hashed: str | None) -> bool:
    if not password or not hashed:
        return False
    raw = password.encode()
    if hashed.startswith("$scrypt$"):
        _, _, cost, salt, digest = hashed.split("$")
        candidate = hashlib.scrypt(raw, salt=base64.b64decode(salt), n=int(cost), r=8, p=1,
                                   maxmem=256 * 1024 * 1024)
        return hmac.compare_digest(candidate, base64.b64decode(digest))
    try:
        return bcrypt.checkpw(raw[:_BCRYPT_MAX], hashed.encode())
    except ValueError:
        return False


def check_strength(config, password: str):
    """400 when the password does not match the configured regex."""
    if not isinstance(password, str) or not password:
        raise BadRequest("The password must be a non-empty string.")
    pattern = config["identity"]["password_regex"]
    if pattern and not re.match(pattern, password):
        description = config["identity"]["password_regex_description"] or \
            f"it must match {pattern}"
        raise BadRequest(f"Password validation error: The password does not meet the "
                         f"requirements: {description}.")


def check_history(config, user: User, password: str):
    """400 when the password is one of the user's last N (unique_last_password_count)."""
    count = config["identity"]["unique_last_password_count"]
    if count <= 1:
        return
    recent = (PasswordHistory.select().where(PasswordHistory.user == user)
              .order_by(PasswordHistory.created_at.desc()).limit(count))
    if any(verify_password(password, old.password_hash) for old in recent):
        raise BadRequest(f"Password validation error: The new password cannot be identical "
                         f"to a previous password. The number of previous passwords that "
                         f"must be unique is: {count}.")


def check_minimum_age(config, user: User):
    days = config["identity"]["minimum_password_age"]
    if days and user.password_created_at and \
            db.utcnow() - user.password_created_at < datetime.timedelta(days=days):
        raise BadRequest(f"You cannot change your password at this time due to the minimum "
                         f"password age. Once you change your password, it must be used for "
                         f"{days} day(s) before it can be changed.")


def store_password(config, user: User, hashed: str):
    """Record a new password hash (already computed) and its history, in one short write."""
    now = db.utcnow()
    days = config["identity"]["password_expires_days"]
    with db.transaction():
        user.password_hash = hashed
        user.password_created_at = now
        user.password_expires_at = now + datetime.timedelta(days=days) if days else None
        user.failed_auth_count = 0
        user.save()
        PasswordHistory.create(user=user, password_hash=hashed, created_at=now)
        keep = max(config["identity"]["unique_last_password_count"], 1)
        stale = (PasswordHistory.select(PasswordHistory.id)
                 .where(PasswordHistory.user == user)
                 .order_by(PasswordHistory.created_at.desc()).offset(keep))
        PasswordHistory.delete().where(PasswordHistory.id.in_(stale)).execute()


def _locked(config, user: User) -> bool:
    attempts = config["identity"]["lockout_failure_attempts"]
    if not attempts or user.options.get("ignore_lockout_failure_attempts"):
        return False
    if user.failed_auth_count < attempts or user.failed_auth_at is None:
        return False
    until = user.failed_auth_at + datetime.timedelta(seconds=config["identity"]["lockout_duration"])
    return db.utcnow() < until


def authenticate(config, user: User, password: str):
    """Check a user's password with lockout; raise 401 with Keystone's wording on failure."""
    if _locked(config, user):
        raise Unauthorized("The account is locked for user: %s." % user.id)
    if not verify_password(password, user.password_hash):
        with db.transaction():
            User.update(failed_auth_count=User.failed_auth_count + 1,
                        failed_auth_at=db.utcnow()).where(User.id == user.id).execute()
        raise Unauthorized("The request you have made requires authentication.")
    if user.password_expires_at and user.password_expires_at < db.utcnow() \
            and not user.options.get("ignore_password_expiry"):
        raise Unauthorized(f"The password is expired and needs to be changed for user: "
                           f"{user.id}.")
    if user.failed_auth_count:
        with db.transaction():
            User.update(failed_auth_count=0).where(User.id == user.id).execute()
