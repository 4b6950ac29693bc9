"""Making the DEALER sockets peers use to reach the broker.

One ZeroMQ context per process, made again after a fork (a context and its
sockets must never be used across fork). Each thread gets its own socket,
because ZeroMQ sockets are not thread-safe.
"""
import itertools
import os
import threading
import weakref
from collections.abc import Iterator

import zmq

from undercloud.bus import errors, keys

# Generous queues: a burst of casts should wait in memory, not block the caller.
HIGH_WATER_MARK = 100_000

_context_lock = threading.Lock()
_context: zmq.Context | None = None
_context_pid = 0


def context() -> zmq.Context:
    """This process's bus context, new in a forked child."""
    global _context, _context_pid
    pid = os.getpid()
    if _context_pid != pid or _context is None:
        with _context_lock:
            if _context_pid != pid or _context is None:
                _context = zmq.Context()
                _context_pid = pid
    return _context


def connect_to_broker(cfg, curve_keys: "keys.PeerKeys | None") -> zmq.Socket:
    """A DEALER connected to the broker, with curve client keys when the bus uses them."""
    sock = context().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, HIGH_WATER_MARK)
    sock.setsockopt(zmq.RCVHWM, HIGH_WATER_MARK)
    sock.setsockopt(zmq.RECONNECT_IVL, 100)
    sock.setsockopt(zmq.RECONNECT_IVL_MAX, 1000)
    # ZMTP heartbeats notice a broker host that vanished without closing TCP.
    sock.setsockopt(zmq.HEARTBEAT_IVL, 1000)
    sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 5000)
    if curve_keys is not None:
        sock.curve_publickey = curve_keys.public
        sock.curve_secretkey = curve_keys.secret
        sock.curve_serverkey = curve_keys.broker_public
    sock.connect(cfg.bus_url)
    return sock


class ThreadSockets:
    """One broker-facing DEALER per thread, and per process after a fork."""

    def __init__(self, cfg):
        self._cfg = cfg
        self._curve_keys = keys.peer_keys(cfg) if cfg.curve_enabled else None
        self._local = threading.local()
        self._all = weakref.WeakSet()
        self._lock = threading.Lock()

    def get(self) -> tuple[zmq.Socket, Iterator[bytes]]:
        """This thread's socket and its message-id counter."""
        owned = getattr(self._local, "owned", None)
        if owned is None or owned.pid != os.getpid():
            owned = self._local.owned = _Owned(connect_to_broker(self._cfg, self._curve_keys))
            with self._lock:
                self._all.add(owned.socket)
        return owned.socket, owned.next_id

    def send(self, sock: zmq.Socket, frames: list, topic: str, method: str) -> None:
        """Queue frames for the broker without blocking; BusError if the queue is full."""
        try:
            sock.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            raise errors.BusError(
                f"cannot send '{method}' to topic '{topic}': the queue to the broker at "
                f"{self._cfg.bus_url} is full (is the broker running?)") from None

    def close(self) -> None:
        """Close every socket made so far; call it when no call is in flight."""
        with self._lock:
            sockets, self._all = list(self._all), weakref.WeakSet()
        self._local = threading.local()
        for sock in sockets:
            sock.close(linger=0)  # pyzmq skips the real close in a forked child


class _Owned:
    """A thread's socket; closed when the thread ends and its thread-local goes away."""

    __slots__ = ("socket", "next_id", "pid", "__weakref__")

    def __init__(self, sock: zmq.Socket):
        self.socket = sock
        # Ids need only be unique per socket: a socket only sees replies to its own calls.
        self.next_id = (number.to_bytes(8, "big") for number in itertools.count(1))
        self.pid = os.getpid()
        weakref.finalize(self, sock.close, 0)  # pyzmq skips the real close in a forked child
