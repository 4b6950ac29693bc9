"""Image's schema versions."""
from undercloud.db import Migration
from undercloud.image import models


def _create_tables(database):
    database.create_tables(models.TABLES)


MIGRATIONS = [
    Migration(1, "create image tables", _create_tables),
]
