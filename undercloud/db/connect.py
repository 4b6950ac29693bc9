"""Opening the one database a process uses: SQLite in WAL mode, or PostgreSQL."""
import logging
import os
import re
import sqlite3
import threading
import time
import urllib.parse
from dataclasses import dataclass

import peewee
from playhouse import db_url
from playhouse.pool import PooledPostgresqlDatabase
from playhouse.shortcuts import ReconnectMixin

from undercloud.common.config import ConfigError
from undercloud.db.base import database

log = logging.getLogger(__name__)

# Enough for every API thread of a few workers; the rest wait rather than fail.
POOL_MAX_CONNECTIONS = 64
POOL_WAIT_SECONDS = 30
# Recycle connections so a server-side idle timeout never hands us a dead one.
POOL_STALE_SECONDS = 600
PG_CONNECT_TIMEOUT_SECONDS = 10
WAL_SWITCH_RETRY_SECONDS = 0.01


class PostgresqlDatabase(ReconnectMixin, PooledPostgresqlDatabase):
    """Pooled psycopg2 connections that reconnect once when the server dropped them."""

    # Only outside a transaction (ReconnectMixin checks), where a retry loses nothing.
    reconnect_errors = (
        (peewee.OperationalError, "server closed the connection"),
        (peewee.OperationalError, "terminating connection"),
        (peewee.OperationalError, "connection not open"),
        (peewee.InterfaceError, "connection already closed"),
    )


class SqliteDatabase(peewee.SqliteDatabase):
    """SQLite in WAL mode (readers never block the writer), switched over once per file."""

    def _initialize_connection(self, conn):
        # Several processes opening a new file race to switch it to WAL, and that switch
        # reports "database is locked" without waiting on the busy timeout: retry it.
        deadline = time.monotonic() + self._timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode = wal").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(WAL_SWITCH_RETRY_SECONDS)


@dataclass
class _Opened:
    url: str
    busy_timeout_ms: int
    pid: int
    db: peewee.Database


_lock = threading.Lock()
_opened: _Opened | None = None
# A parent's connections, kept referenced in a forked child: closing them there
# (even by garbage collection) would end the parent's session.
_inherited: list[peewee.Database] = []


def redacted_url(url: str) -> str:
    """The URL with its password masked, safe for logs and error messages."""
    # Up to the last "@" before the query, so a password holding "@" or "/" is hidden whole.
    url = re.sub(r"^([\w+.-]+://[^:/@?#]*:)[^?#]*@", r"\1***@", url)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url, flags=re.I)


def open_database(url: str, busy_timeout_ms: int) -> peewee.Database:
    """A new, not yet connected Database for the URL (connections open on first use)."""
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme == "sqlite":
        return _open_sqlite(db_url.parse(url)["database"], busy_timeout_ms)
    if scheme in ("postgresql", "postgres"):
        return _open_postgresql(url)
    raise ConfigError(f"database.url: unsupported scheme {scheme!r} in {redacted_url(url)}; "
                      "use sqlite:////path/to/stackbox.db or "
                      "postgresql://user:password@host:port/dbname")


def _open_sqlite(path: str, busy_timeout_ms: int) -> SqliteDatabase:
    if path != ":memory:" and os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    return SqliteDatabase(
        path,
        timeout=busy_timeout_ms / 1000,
        pragmas=[
            ("busy_timeout", busy_timeout_ms),  # exact milliseconds, before anything waits
            ("synchronous", "normal"),          # safe in WAL; fsync only at checkpoints
            ("foreign_keys", 1),
        ])


def _open_postgresql(url: str) -> PostgresqlDatabase:
    params = db_url.parse(url, unquote_password=True, unquote_user=True)
    if not params.get("database"):
        raise ConfigError(f"database.url: {redacted_url(url)} names no database; "
                          "use postgresql://user:password@host:port/dbname")
    params.setdefault("connect_timeout", PG_CONNECT_TIMEOUT_SECONDS)
    params.setdefault("application_name", "stackbox")
    return PostgresqlDatabase(
        max_connections=POOL_MAX_CONNECTIONS,
        timeout=POOL_WAIT_SECONDS,
        stale_timeout=POOL_STALE_SECONDS,
        **params)


def connect(cfg) -> peewee.Database:
    """The process's database for cfg, bound to `database`; the same one on every call."""
    global _opened
    url, busy_timeout_ms = cfg.database_url, cfg.database.busy_timeout_ms
    with _lock:
        # The pid check backs up the fork hook below, for forks that bypass os.fork.
        if (_opened is not None and _opened.pid == os.getpid()
                and (_opened.url, _opened.busy_timeout_ms) == (url, busy_timeout_ms)):
            return _opened.db
        if _opened is not None:
            _retire(_opened)
        opened = _opened = _Opened(url, busy_timeout_ms, os.getpid(),
                                   open_database(url, busy_timeout_ms))
        database.initialize(opened.db)
    log.info("database: %s", redacted_url(url))
    return opened.db


def _retire(opened: _Opened):
    if opened.pid != os.getpid():
        _inherited.append(opened.db)
        return
    try:
        if isinstance(opened.db, PooledPostgresqlDatabase):
            opened.db.close_all()
        else:
            opened.db.close()
    except peewee.PeeweeException as exc:
        log.warning("database %s: could not close: %s", redacted_url(opened.url), exc)


def _reopen_in_child():
    # The child must not share the parent's sockets or SQLite file handles.
    global _lock, _opened
    _lock = threading.Lock()  # another thread may have held it at fork time
    if _opened is not None:
        _inherited.append(_opened.db)
        _opened = _Opened(_opened.url, _opened.busy_timeout_ms, os.getpid(),
                          open_database(_opened.url, _opened.busy_timeout_ms))
        database.initialize(_opened.db)


os.register_at_fork(after_in_child=_reopen_in_child)
