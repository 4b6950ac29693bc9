"""RpcClient: call, cast and fanout to a topic through the broker."""
import logging
import math
import time

import zmq

from undercloud.bus import errors, wire
from undercloud.bus.sockets import ThreadSockets

log = logging.getLogger("undercloud.bus.client")


class RpcClient:
    """Sends requests to topics. Safe to share between threads and across fork."""

    def __init__(self, cfg):
        self._call_timeout = cfg["bus"]["call_timeout"]
        self._sockets = ThreadSockets(cfg)

    def call(self, topic: str, method: str, timeout: float | None = None, **kwargs):
        """Run method on one peer of topic and return its result (or raise its error)."""
        sock, ids = self._sockets.get()
        msg_id = next(ids)
        return self._request(sock, msg_id, [wire.CALL, topic.encode(), msg_id, method.encode(),
                                            wire.dumps(kwargs)], topic, method, timeout)

    def cast(self, topic: str, method: str, **kwargs) -> None:
        """Run method on one peer of topic; no reply, and dropped if no peer serves it."""
        sock, _ = self._sockets.get()
        self._send(sock, [wire.CAST, topic.encode(), b"", method.encode(), wire.dumps(kwargs)],
                   topic, method)

    def fanout(self, topic: str, method: str, **kwargs) -> None:
        """Run method on every peer of topic; no reply."""
        sock, _ = self._sockets.get()
        self._send(sock, [wire.FANOUT, topic.encode(), b"", method.encode(), wire.dumps(kwargs)],
                   topic, method)

    def ping_broker(self, timeout: float | None = None) -> dict:
        """The broker's pid, uptime and peers per topic, or BusTimeout if it is not there."""
        sock, ids = self._sockets.get()
        msg_id = next(ids)
        return self._request(sock, msg_id, [wire.PING, msg_id], "broker", "ping", timeout)

    def close(self) -> None:
        """Close this client's sockets; call it when no call is in flight."""
        self._sockets.close()

    def _send(self, sock, frames, topic, method) -> None:
        log.debug("sending %s to topic %s", method, topic)
        self._sockets.send(sock, frames, topic, method)

    def _request(self, sock, msg_id, frames, topic, method, timeout):
        """Send a request and return the result of the reply carrying msg_id."""
        timeout = self._call_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        log.debug("calling %s on topic %s", method, topic)
        while True:
            try:
                sock.send_multipart(frames, flags=zmq.NOBLOCK)
                break
            except zmq.Again:  # the broker refused this peer, or the queue is full
                if not self._poll(sock, deadline, zmq.POLLOUT):
                    raise errors.BusTimeout(topic, method, timeout) from None
        while True:
            if not self._poll(sock, deadline, zmq.POLLIN):
                raise errors.BusTimeout(topic, method, timeout)
            frames = sock.recv_multipart()
            if len(frames) != 3 or frames[1] != msg_id:
                continue  # a late reply to an earlier call that timed out
            kind, _, body = frames
            if kind == wire.REPLY:
                return wire.loads(body)
            if kind == wire.NO_PEER:
                raise errors.NoPeer(topic)
            raise errors.from_wire(wire.loads(body))

    @staticmethod
    def _poll(sock, deadline, event) -> bool:
        # Loops because poll can wake a little before its timeout.
        while (remaining_ms := math.ceil((deadline - time.monotonic()) * 1000)) > 0:
            if sock.poll(remaining_ms, event):
                return True
        return False
