"""Compute's schema versions."""
from undercloud.compute import models
from undercloud.db import Migration


def _create_tables(database):
    database.create_tables(models.TABLES)


MIGRATIONS = [
    Migration(1, "create compute tables", _create_tables),
]
