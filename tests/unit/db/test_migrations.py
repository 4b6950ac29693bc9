"""Each service's versioned migrations apply once, in order, and are recorded."""
import sys
import types

import peewee
import pytest
from playhouse.migrate import SchemaMigrator, migrate as alter

from undercloud import db


class Widget(db.BaseModel):
    name = peewee.CharField()


def create_widgets(database):
    database.create_tables([Widget])


def add_widget_color(database):
    migrator = SchemaMigrator.from_database(database)
    alter(migrator.add_column("widget", "color", peewee.CharField(default="blue")))


def add_gadgets(database):
    database.execute_sql("CREATE TABLE gadget (id VARCHAR(64) PRIMARY KEY)")


STEPS = [
    db.Migration(1, "create widget table", create_widgets),
    db.Migration(2, "add widget color", add_widget_color),
]


@pytest.fixture
def service_migrations(monkeypatch):
    """Register MIGRATIONS for a made-up service, as undercloud/<service>/migrations.py would."""
    def register(service, migrations):
        module = types.ModuleType(f"undercloud.{service}.migrations")
        module.MIGRATIONS = migrations
        monkeypatch.setitem(sys.modules, module.__name__, module)
    return register


def _columns(table):
    return [column.name for column in db.database.get_columns(table)]


def test_migrations_apply_in_order_and_are_recorded(cfg, service_migrations):
    service_migrations("widgets", STEPS)

    assert db.migrate(cfg, ["widgets"]) == [
        ("widgets", 1, "create widget table"), ("widgets", 2, "add widget color")]
    assert db.applied(cfg) == {"widgets": 2}
    assert "color" in _columns("widget")
    rows = db.database.execute_sql(
        "SELECT service, version, name, applied_at FROM schema_migrations ORDER BY version")
    recorded = [row[:3] for row in rows.fetchall()]
    assert recorded == [("widgets", 1, "create widget table"), ("widgets", 2, "add widget color")]


def test_rerunning_applies_nothing(cfg, service_migrations):
    service_migrations("widgets", STEPS)
    db.migrate(cfg, ["widgets"])

    assert db.migrate(cfg, ["widgets"]) == []
    assert db.applied(cfg) == {"widgets": 2}


def test_a_new_version_applies_only_the_new_step(cfg, service_migrations):
    service_migrations("widgets", STEPS[:1])
    db.migrate(cfg, ["widgets"])
    Widget.create(name="sprocket")
    service_migrations("widgets", STEPS)

    assert db.migrate(cfg, ["widgets"]) == [("widgets", 2, "add widget color")]
    assert db.database.execute_sql("SELECT name, color FROM widget").fetchall() == [
        ("sprocket", "blue")]


def test_services_are_versioned_separately(cfg, service_migrations):
    service_migrations("widgets", STEPS)
    service_migrations("gadgets", [db.Migration(1, "create gadget table", add_gadgets)])

    applied_now = db.migrate(cfg, ["widgets", "gadgets", "nosuchservice"])

    assert [(service, version) for service, version, _ in applied_now] == [
        ("widgets", 1), ("widgets", 2), ("gadgets", 1)]
    assert db.applied(cfg) == {"widgets": 2, "gadgets": 1}


def test_a_service_without_migrations_is_skipped(cfg):
    assert db.migrate(cfg, ["nosuchservice"]) == []
    assert db.applied(cfg) == {}


@pytest.mark.parametrize("versions", [[2, 1], [1, 1], [0, 1]])
def test_out_of_order_versions_raise(cfg, service_migrations, versions):
    service_migrations("widgets", [db.Migration(v, f"step {v}", create_widgets) for v in versions])

    with pytest.raises(db.MigrationError, match=r"undercloud\.widgets\.migrations.*strictly"):
        db.migrate(cfg, ["widgets"])
    assert "widget" not in db.database.get_tables()


def test_a_version_inserted_below_an_applied_one_raises(cfg, service_migrations):
    service_migrations("widgets", [STEPS[0], db.Migration(3, "three", add_gadgets)])
    db.migrate(cfg, ["widgets"])
    service_migrations("widgets", [STEPS[0], STEPS[1], db.Migration(3, "three", add_gadgets)])

    with pytest.raises(db.MigrationError, match="migration 2 is new but version 3"):
        db.migrate(cfg, ["widgets"])


def test_a_database_newer_than_the_code_raises(cfg, service_migrations):
    service_migrations("widgets", STEPS)
    db.migrate(cfg, ["widgets"])
    service_migrations("widgets", STEPS[:1])

    with pytest.raises(db.MigrationError, match="schema version 2, which this stackbox"):
        db.migrate(cfg, ["widgets"])


def test_a_failing_migration_leaves_no_trace(cfg, service_migrations):
    def half_done(database):
        add_gadgets(database)
        raise RuntimeError("disk on fire")

    service_migrations("widgets", [STEPS[0], db.Migration(2, "breaks", half_done)])

    with pytest.raises(RuntimeError, match="disk on fire"):
        db.migrate(cfg, ["widgets"])
    assert db.applied(cfg) == {"widgets": 1}
    assert "gadget" not in db.database.get_tables()


def test_migrate_accepts_the_database_itself(cfg, service_migrations):
    service_migrations("widgets", STEPS)
    database = db.connect(cfg)

    assert len(db.migrate(database, ["widgets"])) == 2
    assert db.applied(db.database) == {"widgets": 2}
