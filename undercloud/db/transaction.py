"""Short write transactions that queue for the write lock instead of failing."""
import peewee

from undercloud.db.base import database


def transaction(db=None):
    """A context manager (or decorator) for one short write transaction on db (default: `database`).

    SQLite takes the write lock at BEGIN IMMEDIATE, so concurrent writers wait on the
    busy timeout; a plain BEGIN would fail with "database is locked" when a reader
    upgrades. PostgreSQL runs a normal atomic block. Nested blocks become savepoints.
    """
    db = database if db is None else db
    target = db.obj if isinstance(db, peewee.DatabaseProxy) else db
    if isinstance(target, peewee.SqliteDatabase):
        return db.atomic(lock_type="IMMEDIATE")
    return db.atomic()

