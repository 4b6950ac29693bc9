"""The peewee database layer: one handle, base models, short write transactions, migrations.

    from undercloud import db
    db.connect(cfg)                      # binds db.database for this process
    db.migrate(cfg, ["identity"])        # applies undercloud/identity/migrations.py
    with db.transaction():               # BEGIN IMMEDIATE on SQLite
        Project.create(name="demo")
"""
from undercloud.db.base import BaseModel, TimestampedModel, database
from undercloud.db.connect import connect, redacted_url
from undercloud.db.fields import JSONField, new_id, utcnow
from undercloud.db.integrity import unique_columns
from undercloud.db.migrations import Migration, MigrationError, applied, migrate, migrations_of
from undercloud.db.transaction import transaction

__all__ = [
    "BaseModel", "JSONField", "Migration", "MigrationError", "TimestampedModel",
    "applied", "connect", "database", "migrate", "migrations_of", "new_id",
    "redacted_url", "transaction", "unique_columns", "utcnow",
]
