"""A database made by the release before tables took their service's prefix (commit 7db5599)
migrates to today's schema on SQLite and PostgreSQL with every row kept."""
import pytest

from tests.fixtures import schema, upgrade
from undercloud import db, services as registry
from undercloud.common import config
from undercloud.db.base import legacy_table_name

EVERY_MODEL = [m for models in schema.service_models().values() for m in models]
# What each dump holds (see tests/fixtures/upgrade_7db5599/README.md).
NETWORK_ROWS = {"network_network": {"n1"}, "network_subnet": {"s1"}, "network_router": {"r1"},
                "identity_user": {"admin", "alice"}, "image_image": {"img1"},
                "compute_flavor": {"f1"}, "compute_key_pair": {"k1"}}
BAREMETAL_ROWS = {"baremetal_node": {"bm0", "bm1"},
                  "baremetal_port": {"52:54:00:aa:bb:01", "52:54:00:aa:bb:02",
                                     "52:54:00:aa:bb:03"}}
EXPECTED = {
    "sqlite-all": {**NETWORK_ROWS, "baremetal_node": {"bm0"}, "baremetal_port": set(),
                   "network_port": {""}},
    "sqlite-baremetal": BAREMETAL_ROWS,
    "sqlite-baremetal-then-all": {"baremetal_node": {"bm0"}, "baremetal_port": {"52:54:00:aa:bb:01"},
                                  "network_network": {"n1"}, "network_subnet": {"s1"},
                                  "network_port": set()},
    "pg-network": {**NETWORK_ROWS, "network_port": {"", "p1", "p2"}},
    "pg-baremetal": BAREMETAL_ROWS,
}


def _rows(database, table: str) -> set[str]:
    column = "address" if table == "baremetal_port" else "name"
    return {row[0] for row in database.execute_sql(f'SELECT "{column}" FROM "{table}"')}


def _migrated(cfg, dump):
    before = db.applied(cfg)
    db.migrate(cfg, list(registry.SERVICES))
    database = db.database.obj
    assert schema.misplaced_indexes(database) == []
    assert schema.missing_indexes(database, EVERY_MODEL) == []
    legacy = {legacy_table_name(m) for m in EVERY_MODEL} & set(database.get_tables())
    assert legacy == set(), f"tables left under their old names: {legacy}"
    for table, names in EXPECTED[dump].items():
        rows = _rows(database, table)
        # Services add their defaults (flavors, roles) beside the rows the dump brought.
        assert rows == names if table.startswith("baremetal_") or "port" in table \
            else rows >= names, table
    assert before and db.applied(cfg) != before


@pytest.mark.parametrize("dump", upgrade.SQLITE_DUMPS)
def test_an_earlier_sqlite_database_migrates_with_every_row(tmp_path, dump):
    upgrade.restore_sqlite(dump, tmp_path)
    cfg = config.load(environ={}, overrides={"data_dir": str(tmp_path)})

    _migrated(cfg, dump)


@pytest.mark.postgres
@pytest.mark.parametrize("dump", upgrade.POSTGRES_DUMPS)
def test_an_earlier_postgresql_database_migrates_with_every_row(tmp_path, postgres_db_url, dump):
    upgrade.restore_postgres(dump, postgres_db_url, tmp_path)
    cfg = config.load(environ={}, overrides={"data_dir": str(tmp_path),
                                             "database": {"url": postgres_db_url}})

    _migrated(cfg, dump)


def test_migrating_again_changes_nothing(tmp_path):
    upgrade.restore_sqlite("sqlite-all", tmp_path)
    cfg = config.load(environ={}, overrides={"data_dir": str(tmp_path)})
    db.migrate(cfg, list(registry.SERVICES))

    assert db.migrate(cfg, list(registry.SERVICES)) == []
