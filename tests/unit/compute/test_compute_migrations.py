"""Compute's schema upgrades keep existing instances."""
from playhouse.migrate import SchemaMigrator, migrate

from undercloud import db
from undercloud.compute import migrations
from undercloud.compute.models import Instance


def test_instances_made_before_networking_get_empty_vifs(cfg, alice):
    server = alice.boot()
    database = db.database.obj
    # The table as an early release made it: its plain name, no networking columns.
    database.execute_sql('ALTER TABLE "compute_instance" RENAME TO "instance"')
    migrator = SchemaMigrator.from_database(database)
    migrate(migrator.drop_column("instance", "network_info"),
            migrator.drop_column("instance", "security_groups"))

    migrations._instance_networking(database)
    migrations._instance_networking(database)   # a database made at version 2 is left alone
    migrations.MIGRATIONS[2].apply(database)    # and the table takes its compute_ name

    instance = Instance.get_by_id(server["id"])
    assert (instance.network_info, instance.security_groups) == ([], [])
