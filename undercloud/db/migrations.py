"""Versioned schema migrations: each service lists its steps in undercloud/<service>/migrations.py.

A service's module holds ``MIGRATIONS = [Migration(1, "create identity tables", apply), ...]``
with strictly increasing versions. migrate() applies the pending ones, each in its own
transaction, and records them in the schema_migrations table.
"""
import importlib
import logging
from dataclasses import dataclass
from typing import Callable

import peewee

from undercloud.db.connect import connect
from undercloud.db.fields import utcnow
from undercloud.db.transaction import transaction

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same in every process.
PG_MIGRATION_LOCK = 0x5374_6B62_6F78  # "Stkbox"


class MigrationError(Exception):
    """A service's migrations cannot be applied; the message names the service and version."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[peewee.Database], None]


class SchemaMigration(peewee.Model):
    """One applied migration; bound to the database being migrated with bind_ctx."""

    service = peewee.CharField(max_length=64)
    version = peewee.IntegerField()
    name = peewee.CharField(max_length=255)
    applied_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        table_name = "schema_migrations"
        primary_key = peewee.CompositeKey("service", "version")


def _database(cfg_or_db) -> peewee.Database:
    if isinstance(cfg_or_db, peewee.DatabaseProxy):
        return cfg_or_db.obj
    if isinstance(cfg_or_db, peewee.Database):
        return cfg_or_db
    return connect(cfg_or_db)


def migrations_of(service: str) -> list[Migration]:
    """The service's MIGRATIONS, checked; [] when it has no migrations module."""
    module_name = f"undercloud.{service}.migrations"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only a missing module means "no migrations"; a broken import must surface.
        if exc.name in (module_name, f"undercloud.{service}"):
            return []
        raise
    migrations = list(module.MIGRATIONS)
    previous = 0
    for migration in migrations:
        if not isinstance(migration.version, int) or migration.version <= previous:
            raise MigrationError(
                f"{module_name}: migration {migration.version!r} ({migration.name!r}) "
                f"follows version {previous}; versions must be integers, strictly increasing")
        previous = migration.version
    return migrations


def _lock(db):
    # SQLite already holds the write lock from BEGIN IMMEDIATE.
    if isinstance(db, peewee.PostgresqlDatabase):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (PG_MIGRATION_LOCK,))


def _versions(service: str) -> set[int]:
    query = SchemaMigration.select(SchemaMigration.version).where(
        SchemaMigration.service == service)
    return {row.version for row in query}


def _check(service: str, migrations: list[Migration], done: set[int]):
    known = {migration.version for migration in migrations}
    unknown = sorted(done - known)
    if unknown:
        raise MigrationError(
            f"{service}: the database has schema version {unknown[-1]}, which this stackbox "
            f"does not know (it knows up to {max(known, default=0)}); run a newer stackbox")
    pending = [m.version for m in migrations if m.version not in done]
    if pending and done and pending[0] < max(done):
        raise MigrationError(
            f"{service}: migration {pending[0]} is new but version {max(done)} is already "
            "applied; add new migrations with a version above every applied one")


def migrate(cfg_or_db, services) -> list[tuple[str, int, str]]:
    """Apply the pending migrations of the named services; returns (service, version, name) applied."""
    db = _database(cfg_or_db)
    plan = {service: migrations_of(service) for service in services}
    applied_now = []
    with db.bind_ctx([SchemaMigration]):
        with transaction(db):
            _lock(db)
            db.create_tables([SchemaMigration], safe=True)
        for service, migrations in plan.items():
            _check(service, migrations, _versions(service))
            for migration in migrations:
                with transaction(db):
                    _lock(db)
                    if migration.version in _versions(service):
                        continue  # another process applied it while we waited
                    migration.apply(db)
                    SchemaMigration.create(service=service, version=migration.version,
                                           name=migration.name)
                log.info("applied %s migration %d: %s", service, migration.version,
                         migration.name)
                applied_now.append((service, migration.version, migration.name))
    return applied_now


def applied(cfg_or_db) -> dict[str, int]:
    """The schema version of every migrated service ({} for a new database)."""
    db = _database(cfg_or_db)
    if not db.table_exists(SchemaMigration._meta.table_name):
        return {}
    with db.bind_ctx([SchemaMigration]):
        query = (SchemaMigration
                 .select(SchemaMigration.service,
                         peewee.fn.MAX(SchemaMigration.version).alias("version"))
                 .group_by(SchemaMigration.service))
        return {row.service: row.version for row in query}
