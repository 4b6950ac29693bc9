"""Bare metal's schema versions."""
from undercloud.db import Migration
from undercloud.baremetal import models


def _create_tables(database):
    database.create_tables(models.TABLES)


MIGRATIONS = [
    Migration(1, "create bare metal tables", _create_tables),
]
