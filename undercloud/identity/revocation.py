"""Token revocation: events in the database, an in-memory index in every API process.

A revocation event says "tokens matching these fields, issued before this
instant, are no longer valid" (Keystone's revoke model). revoke() stores one
in a short transaction and announces it on the bus, so every process's index
has it at once; each process also reloads from the database when its index is
a few seconds old, in case it missed an announcement. The token endpoints call
sync(), which asks the database directly.
"""
import datetime
import logging
import os
import threading
import time
from dataclasses import dataclass

import peewee

from undercloud import db
from undercloud.identity.models import RevocationEvent

LOG = logging.getLogger(__name__)

EVENT_PREFIX = "identity.revocation"
REVOKED = "identity.revocation.created"
FLUSH = "identity.revocation.flush"
# How stale the index may get when the bus is silent.
REFRESH_SECONDS = 2.0
# Keystone's [token] allow_expired_window: an expired token may still be validated this long.
ALLOW_EXPIRED_WINDOW = 2 * 24 * 3600
FIELDS = ("audit_id", "audit_chain_id", "user_id", "project_id", "domain_id", "role_id")

_EPOCH = datetime.datetime(1970, 1, 1)


def to_micros(moment: datetime.datetime) -> int:
    """A naive UTC datetime as microseconds since the epoch (tokens carry the same)."""
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    issued_before: int                 # microseconds since the epoch
    audit_id: str | None = None
    audit_chain_id: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    role_id: str | None = None

    @classmethod
    def from_row(cls, row: RevocationEvent) -> "Event":
        return cls(row.id, to_micros(row.issued_before), row.audit_id, row.audit_chain_id,
                   row.user_id, row.project_id, row.domain_id, row.role_id)

    def to_message(self) -> dict:
        return {"id": self.id, "issued_before": self.issued_before,
                **{name: getattr(self, name) for name in FIELDS}}

    def key(self) -> tuple[str, str]:
        """The most selective field this event names: the index bucket it lives in."""
        for name in FIELDS:
            value = getattr(self, name)
            if value is not None:
                return name, value
        raise ValueError("a revocation event names no field")

    def matches(self, facts: dict) -> bool:
        """Keystone's rule: every field the event names matches, and the token is older."""
        if facts["issued_at"] > self.issued_before:
            return False
        for name in ("audit_id", "audit_chain_id", "user_id", "project_id"):
            value = getattr(self, name)
            if value is not None and value != facts[name]:
                return False
        if self.domain_id is not None and self.domain_id not in facts["domain_ids"]:
            return False
        return self.role_id is None or self.role_id in facts["role_ids"]


class _Index:
    """The events of one process, bucketed by their most selective field."""

    def __init__(self, events=()):
        self.by_id: dict[str, Event] = {}
        self.buckets: dict[tuple[str, str], list[Event]] = {}
        for event in events:
            self.add(event)

    def add(self, event: Event) -> bool:
        if event.id in self.by_id:
            return False
        self.by_id[event.id] = event
        self.buckets.setdefault(event.key(), []).append(event)
        return True

    def revoked(self, facts: dict) -> bool:
        if not self.by_id:
            return False
        candidates = [("audit_id", facts["audit_id"]), ("audit_chain_id", facts["audit_chain_id"]),
                      ("user_id", facts["user_id"]), ("project_id", facts["project_id"])]
        candidates += [("domain_id", d) for d in facts["domain_ids"]]
        candidates += [("role_id", r) for r in facts["role_ids"]]
        for key in candidates:
            for event in self.buckets.get(key, ()):
                if event.matches(facts):
                    return True
        return False


class _State:
    """One process's view; made again after a fork (threads and sockets do not survive it)."""

    def __init__(self):
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.refreshing = threading.Lock()
        self.index = _Index()
        self.signature = None        # (count, newest revoked_at) when last loaded
        self.checked_at = 0.0        # monotonic time of the last look at the database
        self.generation = 0          # bumped whenever the index changes or caches must go
        self.listener = None
        self.notifier = None


_config = None
_bus_enabled = True
_state: _State | None = None
_state_lock = threading.Lock()


def configure(config, bus: bool | None = None):
    """Use this config's database and bus; bus=False keeps the process off the bus (tests)."""
    global _config, _bus_enabled, _state
    if bus is not None:
        _bus_enabled = bus
    if _config is not None and _config.database_url != config.database_url:
        with _state_lock:
            old, _state = _state, None   # another database: start over
        if old is not None and old.listener is not None and old.pid == os.getpid():
            old.listener.stop(timeout=1)
    _config = config


def retention_seconds() -> int:
    """How long an event matters: no token it matches outlives this."""
    expiration = _config["identity"]["token_expiration"] if _config else 3600
    return expiration + ALLOW_EXPIRED_WINDOW


def _current() -> _State:
    global _state
    state = _state
    if state is not None and state.pid == os.getpid():
        if time.monotonic() - state.checked_at > REFRESH_SECONDS:
            _refresh(state, wait=False)
        return state
    with _state_lock:
        if _state is None or _state.pid != os.getpid():
            fresh = _State()
            _refresh(fresh, wait=True, reload=True)
            _state = fresh
            _listen(fresh)
        return _state


def _signature():
    # Plain SQL: the token endpoints run this on every request, and peewee's query
    # building would cost more than the query.
    table = RevocationEvent._meta.table_name
    row = db.database.execute_sql(
        f'SELECT COUNT(*), MAX(revoked_at) FROM "{table}"').fetchone()
    return row[0], str(row[1])


def _refresh(state: _State, wait: bool, reload: bool = False):
    """Reload the events when the table changed (one cheap query when it did not)."""
    if not state.refreshing.acquire(blocking=wait):
        return  # another thread is already looking
    try:
        state.checked_at = time.monotonic()
        signature = _signature()
        if signature == state.signature and not reload:
            return
        cutoff = db.utcnow() - datetime.timedelta(seconds=retention_seconds())
        rows = RevocationEvent.select().where(RevocationEvent.issued_before > cutoff)
        index = _Index(Event.from_row(row) for row in rows)
        with state.lock:
            # Keep events announced on the bus after our query started.
            for event in state.index.by_id.values():
                if event.issued_before > to_micros(cutoff):
                    index.add(event)
            changed = set(index.by_id) != set(state.index.by_id)
            state.index, state.signature = index, signature
            if changed:
                state.generation += 1
    except peewee.PeeweeException:
        LOG.exception("could not read revocation events; keeping the %d already known",
                      len(state.index.by_id))
    finally:
        state.refreshing.release()


def sync():
    """Bring this process's index up to date with the database now (token endpoints)."""
    _refresh(_current(), wait=True)


def generation() -> int:
    """Changes whenever an event arrives or caches must be dropped; cached tokens compare it."""
    return _current().generation


def is_revoked(payload, *, user_domain_id=None, project_domain_id=None, role_ids=()) -> bool:
    """Whether any event revokes the token whose payload (and resolved facts) are given."""
    state = _current()
    facts = {"issued_at": payload.issued_at, "audit_id": payload.audit_ids[0],
             "audit_chain_id": payload.audit_ids[-1], "user_id": payload.user_id,
             "project_id": payload.project_id,
             "domain_ids": {d for d in (user_domain_id, project_domain_id, payload.domain_id)
                            if d},
             "role_ids": set(role_ids)}
    with state.lock:
        return state.index.revoked(facts)


def revoke(*, user_id=None, project_id=None, domain_id=None, role_id=None, audit_id=None,
           audit_chain_id=None) -> Event:
    """Revoke every token matching all the given fields, issued up to now; everywhere at once."""
    fields = {"user_id": user_id, "project_id": project_id, "domain_id": domain_id,
              "role_id": role_id, "audit_id": audit_id, "audit_chain_id": audit_chain_id}
    if all(value is None for value in fields.values()):
        raise ValueError("revoke() needs at least one field to match tokens on")
    now = db.utcnow()
    with db.transaction():
        row = RevocationEvent.create(issued_before=now, revoked_at=now, **fields)
        # Keystone prunes on every revoke: events older than any live token matter no more.
        RevocationEvent.delete().where(
            RevocationEvent.issued_before
            < now - datetime.timedelta(seconds=retention_seconds())).execute()
    event = Event.from_row(row)
    _apply(event)
    _announce(REVOKED, event.to_message())
    LOG.info("revoked tokens matching %s",
             ", ".join(f"{k}={v}" for k, v in fields.items() if v is not None))
    return event


def flush_token_cache():
    """Make every process rebuild cached tokens (their roles) now; for role assignment changes."""
    _bump()
    _announce(FLUSH, {})


def _apply(event: Event, state: _State | None = None):
    state = state or _current()
    with state.lock:
        if state.index.add(event):
            state.generation += 1


def _bump(state: _State | None = None):
    state = state or _current()
    with state.lock:
        state.generation += 1


def _announce(event_type: str, payload: dict):
    if not (_bus_enabled and _config):
        return
    state = _current()
    try:
        if state.notifier is None:
            from undercloud.bus import Notifier
            state.notifier = Notifier(_config, f"identity.{os.getpid()}")
        state.notifier.notify(event_type, payload)
    except Exception as exc:  # the database has it; other processes catch up on refresh
        LOG.warning("could not announce %s on the bus (%s); other processes will see it "
                    "within %.0f s", event_type, exc, REFRESH_SECONDS)


def _on_message(envelope: dict):
    """In the listener thread: apply an event another process announced."""
    state = _state
    if state is None or state.pid != os.getpid():
        return  # a listener inherited over fork; the new process has its own
    event_type, payload = envelope.get("event_type"), envelope.get("payload") or {}
    if event_type == REVOKED:
        _apply(Event(**payload), state)
    elif event_type == FLUSH:
        _bump(state)


def _listen(state: _State):
    if not (_bus_enabled and _config):
        return
    try:
        from undercloud.bus import Listener
        state.listener = Listener(_config, [EVENT_PREFIX], _on_message,
                                  name=f"identity-revocation-{state.pid}").start()
    except Exception as exc:
        LOG.warning("cannot listen for revocations on the bus (%s); relying on a "
                    "refresh every %.0f s", exc, REFRESH_SECONDS)
