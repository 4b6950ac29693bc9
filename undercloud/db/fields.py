"""Column types and defaults shared by every service's models."""
import datetime
import json
import uuid

import peewee


def utcnow() -> datetime.datetime:
    """Now in UTC, naive: SQLite and PostgreSQL TIMESTAMP both store it as is."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def new_id() -> str:
    """A fresh OpenStack-style id: a uuid4 as 32 hex digits."""
    return uuid.uuid4().hex


class JSONField(peewee.TextField):
    """A Python value stored as JSON text, so one schema works on SQLite and PostgreSQL."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)
