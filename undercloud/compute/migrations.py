"""Compute's schema versions."""
from playhouse.migrate import SchemaMigrator, migrate

from undercloud.compute import models
from undercloud.db import Migration
from undercloud.db.prefix import prefix_tables


def _create_tables(database):
    database.create_tables(models.TABLES)


def _instance_networking(database):
    # Version 1 makes today's tables (prefixed, with these columns) in a new database.
    if not database.table_exists("instance"):
        return
    have = {column.name for column in database.get_columns("instance")}
    migrator = SchemaMigrator.from_database(database)
    migrate(*[migrator.add_column("instance", name, getattr(models.Instance, name))
              for name in ("security_groups", "network_info") if name not in have])


MIGRATIONS = [
    Migration(1, "create compute tables", _create_tables),
    Migration(2, "instances keep their security groups and VIFs", _instance_networking),
    Migration(3, "tables take the compute_ prefix", prefix_tables(models.TABLES)),
]
