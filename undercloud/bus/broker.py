"""Broker: the ROUTER every peer connects to; it routes by topic and keeps nothing.

Run it with ``python -m undercloud.bus.broker --config-json FILE``.
"""
import argparse
import errno
import logging
import os
import signal
import socket
import sys
import threading
import time

import zmq
from zmq.auth.thread import ThreadAuthenticator

from undercloud.bus import keys, wire
from undercloud.bus.errors import BusError

log = logging.getLogger("undercloud.bus.broker")

# Messages routed per wake-up before the stop signal and the sweep get a turn.
_BATCH = 1000


class _Peer:
    __slots__ = ("name", "topics", "prefixes", "last_seen")

    def __init__(self, name, topics, prefixes, last_seen):
        self.name = name
        self.topics = topics
        self.prefixes = prefixes
        self.last_seen = last_seen


class Broker:
    """Routes calls, casts, fanouts and notifications between peers until stop()."""

    def __init__(self, cfg):
        self._cfg = cfg
        self.ready = threading.Event()  # set once bound and serving
        self._stopping = threading.Event()
        # stop() writes a byte here to wake the loop; safe from threads and signal handlers.
        self._wake, self._waker = socket.socketpair()
        self._wake.setblocking(False)
        self._waker.setblocking(False)
        self._router: zmq.Socket | None = None
        self._started = time.monotonic()
        self._peers: dict[bytes, _Peer] = {}
        self._topics: dict[bytes, list[bytes]] = {}  # topic -> peer identities
        self._turn: dict[bytes, int] = {}  # topic -> round-robin position
        self._listeners: dict[bytes, tuple[bytes, ...]] = {}  # identity -> event prefixes
        self._authenticator = None
        self._authorized_seen = None   # the authorized folder's listing when last read
        self._routes = {
            wire.CALL: self._call, wire.CAST: self._cast, wire.FANOUT: self._fanout,
            wire.REPLY: self._reply, wire.ERROR: self._reply, wire.NOTIFY: self._notify,
            wire.HELLO: self._hello, wire.BYE: self._bye, wire.PING: self._ping,
        }

    def run(self) -> None:
        """Serve until stop() or SIGTERM."""
        context = zmq.Context()
        authenticator = None
        router = self._router = context.socket(zmq.ROUTER)
        previous_handler = self._handle_sigterm()
        try:
            router.setsockopt(zmq.ROUTER_MANDATORY, 1)  # an unknown peer is an error, not silence
            router.setsockopt(zmq.LINGER, 0)
            router.setsockopt(zmq.SNDHWM, 100_000)
            router.setsockopt(zmq.RCVHWM, 100_000)
            if self._cfg.curve_enabled:
                keys.ensure_keys(self._cfg)
                authenticator = ThreadAuthenticator(context, log=log)
                authenticator.start()
                self._authenticator = authenticator
                self._reread_authorized()
                router.curve_publickey, router.curve_secretkey = keys.broker_keys(self._cfg)
                router.curve_server = True
            try:
                router.bind(self._cfg.bus_bind_url)
            except zmq.ZMQError as exc:
                raise BusError(f"the bus broker cannot listen on {self._cfg.bus_bind_url}: {exc} "
                               f"(is another broker running? set bus.port to a free port)"
                               ) from None
            self._started = time.monotonic()
            self.ready.set()
            log.info("bus broker %d listening on %s (CurveZMQ %s)", os.getpid(),
                     self._cfg.bus_url, "on" if authenticator else "off")
            self._serve(router)
        finally:
            self.ready.clear()
            if previous_handler is not None:
                signal.signal(signal.SIGTERM, previous_handler)
            router.close(linger=0)
            if authenticator is not None:
                authenticator.stop()
            context.term()
            self._wake.close()
            self._waker.close()
            log.info("bus broker stopped")

    def stop(self) -> None:
        """Stop serving; safe from any thread and from a signal handler."""
        self._stopping.set()
        try:
            self._waker.send(b"x")
        except OSError:
            pass  # a wake-up byte is already waiting, or run() has finished

    def _handle_sigterm(self):
        if threading.current_thread() is not threading.main_thread():
            return None
        return signal.signal(signal.SIGTERM, lambda signum, frame: self.stop())

    def _serve(self, router) -> None:
        poller = zmq.Poller()
        poller.register(router, zmq.POLLIN)
        poller.register(self._wake, zmq.POLLIN)
        next_sweep = time.monotonic() + wire.HEARTBEAT_SECONDS
        while not self._stopping.is_set():
            ready = dict(poller.poll(max(0, (next_sweep - time.monotonic()) * 1000)))
            if router in ready:
                for _ in range(_BATCH):
                    try:
                        frames = router.recv_multipart(flags=zmq.NOBLOCK)
                    except zmq.Again:
                        break
                    self._route(frames)
            now = time.monotonic()
            if now >= next_sweep:
                self._forget_silent(now)
                self._reread_authorized()
                next_sweep = now + wire.HEARTBEAT_SECONDS

    def _reread_authorized(self) -> None:
        """Accept the public keys now in the authorized folder: a host the deployer adds
        joins without a broker restart (and a removed one is refused from then on)."""
        if self._authenticator is None:
            return
        folder = keys.authorized_dir(self._cfg)
        try:
            listing = sorted((entry.name, entry.stat().st_mtime_ns)
                             for entry in os.scandir(folder))
        except OSError as exc:
            log.warning("cannot read the bus's authorized keys in %s: %s", folder, exc.strerror)
            return
        if listing == self._authorized_seen:
            return
        self._authenticator.configure_curve(domain="*", location=folder)
        if self._authorized_seen is not None:
            log.info("bus broker now accepts %d peer keys", len(listing))
        self._authorized_seen = listing

    def _route(self, frames) -> None:
        route = self._routes.get(frames[1]) if len(frames) > 1 else None
        try:
            if route is None:
                raise ValueError(f"unknown kind {frames[1:2]!r}")
            route(frames)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # Anyone who can connect can send garbage; it must never stop the broker.
            log.debug("dropped a malformed message: %s", exc)
        except Exception:
            log.exception("could not route a message of kind %r", frames[1])

    # Routing, one method per kind of message; frames[0] is the sender.

    def _call(self, frames) -> None:
        sender, _, topic, msg_id, method, kwargs = frames
        if not self._send_to_one(topic, [wire.CALL, sender, msg_id, method, kwargs]):
            self._send(sender, [wire.NO_PEER, msg_id, b""])

    def _cast(self, frames) -> None:
        sender, _, topic, msg_id, method, kwargs = frames
        if not self._send_to_one(topic, [wire.CAST, sender, msg_id, method, kwargs]):
            log.debug("dropped cast %s to topic %s: no peer serves it",
                      method.decode(errors="replace"), topic.decode(errors="replace"))

    def _fanout(self, frames) -> None:
        sender, _, topic, msg_id, method, kwargs = frames
        for identity in list(self._topics.get(topic, ())):
            if not self._send(identity, [wire.FANOUT, sender, msg_id, method, kwargs]):
                self._forget(identity, "is unreachable")

    def _reply(self, frames) -> None:
        _, kind, caller, msg_id, body = frames
        self._send(caller, [kind, msg_id, body])  # a caller that left just misses its reply

    def _notify(self, frames) -> None:
        _, _, event_type, envelope = frames
        gone = [identity for identity, prefixes in self._listeners.items()
                if event_type.startswith(prefixes)
                and not self._send(identity, [wire.NOTIFY, event_type, envelope])]
        for identity in gone:
            self._forget(identity, "is unreachable")

    def _ping(self, frames) -> None:
        sender, _, msg_id = frames
        self._send(sender, [wire.REPLY, msg_id, wire.dumps(self._status())])

    def _hello(self, frames) -> None:
        sender, _, body = frames
        hello = wire.loads(body)
        name = str(hello["name"])
        topics = tuple(topic.encode() for topic in hello.get("topics", ()))
        prefixes = tuple(prefix.encode() for prefix in hello.get("prefixes", ()))
        peer = self._peers.get(sender)
        now = time.monotonic()
        if peer is not None and peer.topics == topics and peer.prefixes == prefixes:
            peer.last_seen = now
            return
        if peer is not None:
            self._forget(sender, "changed its registration")
        self._peers[sender] = _Peer(name, topics, prefixes, now)
        for topic in topics:
            self._topics.setdefault(topic, []).append(sender)
        if prefixes:
            self._listeners[sender] = prefixes
        log.info("peer %s joined: topics [%s], event prefixes [%s]", name,
                 ", ".join(t.decode() for t in topics), ", ".join(p.decode() for p in prefixes))
        self._send(sender, [wire.WELCOME])

    def _bye(self, frames) -> None:
        self._forget(frames[0], "left")

    # Bookkeeping.

    def _send_to_one(self, topic: bytes, frames) -> bool:
        """Round robin over the topic's peers, skipping any that vanished."""
        peers = self._topics.get(topic)
        while peers:
            turn = self._turn.get(topic, 0) % len(peers)
            self._turn[topic] = turn + 1
            identity = peers[turn]
            if self._send(identity, frames):
                return True
            self._forget(identity, "is unreachable")
        return False

    def _send(self, identity: bytes, frames) -> bool:
        """False only when the peer is gone; a full queue drops the message."""
        try:
            self._router.send_multipart([identity, *frames], flags=zmq.NOBLOCK)
        except zmq.ZMQError as exc:
            if exc.errno == errno.EHOSTUNREACH:
                return False
            if exc.errno != zmq.EAGAIN:
                raise
            log.warning("dropped a message for %s: its queue is full", self._name_of(identity))
        return True

    def _forget(self, identity: bytes, reason: str) -> None:
        peer = self._peers.pop(identity, None)
        self._listeners.pop(identity, None)
        if peer is None:
            return
        for topic in peer.topics:
            members = self._topics.get(topic, [])
            if identity in members:
                members.remove(identity)
            if not members:
                self._topics.pop(topic, None)
                self._turn.pop(topic, None)
        log.info("forgot peer %s: it %s", peer.name, reason)

    def _forget_silent(self, now: float) -> None:
        silent = [identity for identity, peer in self._peers.items()
                  if now - peer.last_seen > wire.FORGET_AFTER_SECONDS]
        for identity in silent:
            self._forget(identity, f"was silent for over {wire.FORGET_AFTER_SECONDS:g} s")

    def _name_of(self, identity: bytes) -> str:
        peer = self._peers.get(identity)
        return peer.name if peer else "a caller"

    def _status(self) -> dict:
        """What `stackbox status` shows: pid, uptime and who serves each topic."""
        return {
            "pid": os.getpid(),
            "uptime": round(time.monotonic() - self._started, 3),
            "url": self._cfg.bus_url,
            "curve": bool(self._cfg.curve_enabled),
            "peers": {topic.decode(): sorted(self._peers[i].name for i in members)
                      for topic, members in sorted(self._topics.items())},
            "listeners": {self._peers[i].name: [p.decode() for p in prefixes]
                          for i, prefixes in self._listeners.items()},
        }


def main(argv=None) -> None:
    from undercloud.common import config

    parser = argparse.ArgumentParser(prog="python -m undercloud.bus.broker",
                                     description="Run the Stackbox bus broker.")
    parser.add_argument("--config-json", required=True, metavar="FILE",
                        help="a file holding the effective configuration (Config.to_json())")
    args = parser.parse_args(argv)
    with open(args.config_json) as handle:
        cfg = config.from_json(handle.read())
    logging.basicConfig(level=cfg["logging"]["level"],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        Broker(cfg).run()
    except BusError as exc:
        log.error("%s", exc)
        sys.exit(1)


if __name__ == "__main__":
    main()
