"""Many processes write and migrate at once without "database is locked" or double work."""
import multiprocessing
import sys
import time
import traceback
import types

import peewee

from undercloud import db

WRITERS = 4
WRITES_EACH = 200
DEADLINE_SECONDS = 120

# fork: the children inherit the connected parent, which is the case connect() must survive.
fork = multiprocessing.get_context("fork")


class Tally(db.BaseModel):
    worker = peewee.IntegerField()
    seen = peewee.IntegerField()


def _run(target, args, count):
    """Start `count` processes, wait within the deadline, and return what they reported."""
    reports = fork.Queue()
    start = fork.Barrier(count)
    processes = [fork.Process(target=_child, args=(target, reports, start, index, *args))
                 for index in range(count)]
    for process in processes:
        process.start()
    results = [reports.get(timeout=DEADLINE_SECONDS) for _ in processes]
    for process in processes:
        process.join(timeout=DEADLINE_SECONDS)
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in processes] == [0] * count
    return results


def _child(target, reports, start, index, *args):
    try:
        start.wait(timeout=DEADLINE_SECONDS)
        reports.put(("ok", target(index, *args)))
    except BaseException:
        reports.put(("error", traceback.format_exc()))


def write_tallies(worker, cfg):
    db.connect(cfg)
    for _ in range(WRITES_EACH):
        with db.transaction():
            # Read, then write: the lock upgrade a plain BEGIN turns into "database is locked".
            seen = Tally.select().count()
            Tally.create(worker=worker, seen=seen)
    return worker


def test_concurrent_writer_processes_all_commit(cfg):
    db.connect(cfg)
    db.database.create_tables([Tally])
    parent_connection = db.database.connection()

    results = _run(write_tallies, (cfg,), WRITERS)

    assert [status for status, _ in results] == ["ok"] * WRITERS, results
    assert Tally.select().count() == WRITERS * WRITES_EACH
    if isinstance(db.database.obj, peewee.SqliteDatabase):
        # BEGIN IMMEDIATE made the transactions serial: every writer saw a different count.
        assert len({tally.seen for tally in Tally.select()}) == WRITERS * WRITES_EACH
    # The children reconnected instead of sharing (and closing) the parent's connection.
    assert db.database.connection() is parent_connection
    assert db.database.execute_sql("SELECT 1").fetchone()[0] == 1


def create_log(database):
    database.execute_sql("CREATE TABLE migration_log (step INTEGER NOT NULL)")


def log_step_slowly(database):
    time.sleep(0.3)  # long enough that the other processes arrive while it runs
    database.execute_sql("INSERT INTO migration_log (step) VALUES (2)")


def migrate_widgets(_index, cfg):
    return db.migrate(cfg, ["widgets"])


def test_concurrent_migrations_apply_each_step_once(cfg, monkeypatch):
    module = types.ModuleType("undercloud.widgets.migrations")
    module.MIGRATIONS = [db.Migration(1, "create log", create_log),
                         db.Migration(2, "log slowly", log_step_slowly)]
    monkeypatch.setitem(sys.modules, module.__name__, module)

    results = _run(migrate_widgets, (cfg,), 3)

    assert [status for status, _ in results] == ["ok"] * 3, results
    applied_steps = sorted(step for _, steps in results for step in steps)
    assert applied_steps == [("widgets", 1, "create log"), ("widgets", 2, "log slowly")]
    db.connect(cfg)
    assert db.applied(cfg) == {"widgets": 2}
    assert db.database.execute_sql("SELECT step FROM migration_log").fetchall() == [(2,)]


def open_and_write(worker, cfg):
    db.connect(cfg)
    with db.transaction():
        db.database.execute_sql("CREATE TABLE IF NOT EXISTS opener (worker INTEGER)")
        db.database.execute_sql("INSERT INTO opener (worker) VALUES (?)", (worker,))
    return db.database.execute_sql("PRAGMA journal_mode").fetchone()[0]


def test_processes_opening_a_new_sqlite_file_at_once_all_switch_to_wal(sqlite_cfg):
    results = _run(open_and_write, (sqlite_cfg,), 8)

    assert results == [("ok", "wal")] * 8, results
    db.connect(sqlite_cfg)
    assert db.database.execute_sql("SELECT COUNT(*) FROM opener").fetchone()[0] == 8
