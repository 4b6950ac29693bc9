"""Peer: the socket loop shared by RpcServer and Listener.

A peer owns one DEALER to the broker, used only by its socket thread. It says
HELLO (its name, topics and notification prefixes) every second, which both
registers it and keeps it alive in the broker's eyes; after a broker restart
the next HELLO registers it again. Other threads hand it frames to send
through an inproc PULL "outbox", the thread-safe way into a ZeroMQ socket.
"""
import logging
import threading
import time
import uuid

import zmq

from undercloud.bus import keys, sockets, wire

log = logging.getLogger("undercloud.bus.peer")

_STOP = b"stop"
# Messages handled per wake-up before heartbeats and the outbox get a turn.
_BATCH = 1000


class Peer:
    """A long-lived member of the bus; subclasses handle what the broker sends."""

    def __init__(self, cfg, name: str, topics=(), prefixes=()):
        self._cfg = cfg
        self.name = name
        self._hello = wire.dumps({"name": name, "topics": list(topics),
                                  "prefixes": list(prefixes)})
        self._curve_keys = keys.peer_keys(cfg) if cfg.curve_enabled else None
        self._outbox_url = f"inproc://undercloud-bus-peer-{uuid.uuid4().hex}"
        self._stopping = threading.Event()
        self._registered = threading.Event()
        self._thread: threading.Thread | None = None
        self._blocked = False  # the last send to the broker failed

    def start(self):
        """Serve in a daemon thread; returns at once."""
        self._thread = threading.Thread(target=self.serve_forever, name=f"bus-{self.name}",
                                        daemon=True)
        self._thread.start()
        return self

    def wait_registered(self, timeout: float = 5.0) -> bool:
        """True once the broker has accepted this peer's HELLO."""
        return self._registered.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving (from any thread or a signal handler) and wait for the loop."""
        self._stopping.set()
        try:
            wake = sockets.context().socket(zmq.PUSH)
            wake.connect(self._outbox_url)
            wake.send(_STOP, flags=zmq.NOBLOCK)
            wake.close(linger=1000)  # close is asynchronous; linger lets the wake-up land
        except zmq.ZMQError:
            pass  # the loop is not running; the flag is enough
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def serve_forever(self) -> None:
        """Serve in this thread until stop()."""
        broker = sockets.connect_to_broker(self._cfg, self._curve_keys)
        outbox = sockets.context().socket(zmq.PULL)
        outbox.bind(self._outbox_url)
        poller = zmq.Poller()
        poller.register(broker, zmq.POLLIN)
        poller.register(outbox, zmq.POLLIN)
        self._on_start()
        log.info("%s joining the bus at %s", self.name, self._cfg.bus_url)
        next_hello = 0.0
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                if now >= next_hello:
                    self._send(broker, [wire.HELLO, self._hello])
                    next_hello = now + wire.HEARTBEAT_SECONDS
                ready = dict(poller.poll(max(0, (next_hello - now) * 1000)))
                if broker in ready:
                    self._drain(broker, self._receive)
                if outbox in ready:
                    self._drain(outbox, lambda frames: self._forward(broker, frames))
            self._send(broker, [wire.BYE])  # no new work: the broker forgets this peer now
        finally:
            try:
                self._on_stop()
                self._drain(outbox, lambda frames: self._forward(broker, frames))  # last replies
            finally:
                outbox.close(linger=0)
                broker.close(linger=200)  # time for the BYE and last replies to leave
                self._registered.clear()
                log.info("%s left the bus", self.name)

    def _receive(self, frames) -> None:
        if frames[0] == wire.WELCOME:
            self._registered.set()
        else:
            self._on_message(frames)

    def _forward(self, broker, frames) -> None:
        if frames[0] != _STOP:
            self._send(broker, frames)

    def _drain(self, sock, handle) -> None:
        for _ in range(_BATCH):
            try:
                frames = sock.recv_multipart(flags=zmq.NOBLOCK)
            except zmq.Again:
                return
            try:
                handle(frames)
            except Exception:
                log.exception("%s could not handle a bus message", self.name)

    def _send(self, broker, frames) -> None:
        try:
            broker.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            if not self._blocked:  # once per outage, not once per heartbeat
                log.warning("%s cannot send to the broker at %s (its queue is full, or it "
                            "refused this peer's key); dropping messages until it can",
                            self.name, self._cfg.bus_url)
            self._blocked = True
            return
        if self._blocked:
            log.info("%s can send to the broker at %s again", self.name, self._cfg.bus_url)
            self._blocked = False

    # Hooks for subclasses.
    def _on_start(self) -> None:
        pass

    def _on_stop(self) -> None:
        """Runs in the socket thread after BYE; replies sent by then still go out."""

    def _on_message(self, frames) -> None:
        raise NotImplementedError
