"""connect(cfg) opens the configured database once per process, tuned for many writers."""
import threading

import peewee
import pytest

from undercloud import db
from undercloud.common import config


def _pragma(name):
    return db.database.execute_sql(f"PRAGMA {name}").fetchone()[0]


def test_sqlite_runs_in_wal_mode_with_the_configured_busy_timeout(tmp_path):
    cfg = config.load(environ={}, overrides={"data_dir": str(tmp_path / "new" / "dir"),
                                             "database": {"busy_timeout_ms": 1234}})
    db.connect(cfg)

    assert _pragma("journal_mode") == "wal"
    assert (tmp_path / "new" / "dir" / "stackbox.db").exists()
    assert _pragma("busy_timeout") == 1234
    assert _pragma("foreign_keys") == 1
    assert _pragma("synchronous") == 1  # NORMAL


def test_every_thread_gets_its_own_tuned_sqlite_connection(sqlite_cfg):
    db.connect(sqlite_cfg)
    seen = {}

    def report():
        seen["connection"] = db.database.connection()
        seen["busy_timeout"] = _pragma("busy_timeout")
        db.database.close()

    thread = threading.Thread(target=report)
    thread.start()
    thread.join()

    assert seen["connection"] is not db.database.connection()
    assert seen["busy_timeout"] == sqlite_cfg.database.busy_timeout_ms


def test_connect_is_idempotent_and_follows_a_new_url(cfg, tmp_path):
    first = db.connect(cfg)
    other = config.load(environ={}, overrides={"data_dir": str(tmp_path / "other")})

    assert db.connect(cfg) is first
    assert db.database.obj is first
    assert db.connect(other) is not first
    assert db.database.obj is db.connect(other)


def test_postgresql_url_selects_postgresql(cfg):
    database = db.connect(cfg)
    kind = peewee.PostgresqlDatabase if cfg["database"]["url"] else peewee.SqliteDatabase

    assert isinstance(database, kind)
    assert db.database.execute_sql("SELECT 1").fetchone()[0] == 1


def test_an_unknown_scheme_is_a_config_error(tmp_path):
    cfg = config.load(environ={}, overrides={
        "data_dir": str(tmp_path), "database": {"url": "mongodb://admin:hunter2@db/stackbox"}})

    with pytest.raises(config.ConfigError) as error:
        db.connect(cfg)

    assert "mongodb" in str(error.value)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize("url, shown", [
    ("postgresql://stackbox:s3cret@db.example:5432/stackbox",
     "postgresql://stackbox:***@db.example:5432/stackbox"),
    ("postgresql://stackbox:p%40ss:w@rd@10.0.0.5/stackbox",
     "postgresql://stackbox:***@10.0.0.5/stackbox"),
    ("postgresql://db.example/stackbox?user=stackbox&password=s3cret&sslmode=require",
     "postgresql://db.example/stackbox?user=stackbox&password=***&sslmode=require"),
    ("postgresql://stackbox:pa/ss@db.example/stackbox",
     "postgresql://stackbox:***@db.example/stackbox"),
    ("postgresql://stackbox@db.example:5432/stackbox?connect_timeout=3",
     "postgresql://stackbox@db.example:5432/stackbox?connect_timeout=3"),
    ("postgresql://stackbox@db.example/stackbox", "postgresql://stackbox@db.example/stackbox"),
    ("sqlite:////var/lib/stackbox/stackbox.db", "sqlite:////var/lib/stackbox/stackbox.db"),
])
def test_redacted_url_hides_the_password(url, shown):
    assert db.redacted_url(url) == shown
