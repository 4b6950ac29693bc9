"""Identity's schema versions."""
from undercloud.db import Migration
from undercloud.db.prefix import prefix_tables
from undercloud.identity import models


def _create_tables(database):
    database.create_tables(models.TABLES)


MIGRATIONS = [
    Migration(1, "create identity tables", _create_tables),
    Migration(2, "tables take the identity_ prefix", prefix_tables(models.TABLES)),
]
