"""RpcServer: serves an endpoint's methods on one or more topics."""
import logging

import zmq

from undercloud.bus import errors, sockets, wire
from undercloud.bus.peer import Peer
from undercloud.bus.remote import remote_methods
from undercloud.bus.workers import WorkerPool

log = logging.getLogger("undercloud.bus.server")


class NoSuchMethod(Exception):
    """The endpoint has no @remote method by that name; callers see RemoteError."""


class RpcServer(Peer):
    """Runs the endpoint's @remote methods for calls, casts and fanouts on topics."""

    def __init__(self, cfg, topics, endpoint, name: str, workers: int = 8):
        topics = [topics] if isinstance(topics, str) else list(topics)
        if not topics:
            raise ValueError(f"RpcServer {name!r} needs at least one topic to serve")
        super().__init__(cfg, name, topics=topics)
        self.topics = topics
        self._methods = remote_methods(endpoint)
        self._pool = WorkerPool(workers, name, self._handle, self._open_outbox)

    def _on_start(self) -> None:
        self._pool.start()

    def _on_stop(self) -> None:
        self._pool.stop(timeout=self._cfg["supervisor"]["stop_timeout"])

    def _on_message(self, frames) -> None:
        if frames[0] in (wire.CALL, wire.CAST, wire.FANOUT) and len(frames) == 5:
            self._pool.submit(frames)
        else:
            log.debug("%s ignored a message of kind %r", self.name, frames[0])

    def _open_outbox(self):
        outbox = sockets.context().socket(zmq.PUSH)
        outbox.connect(self._outbox_url)
        return outbox

    def _handle(self, frames, outbox) -> None:
        """In a worker: run one request and, for a call, queue the reply."""
        kind, caller, msg_id, method_name, kwargs = frames
        method = method_name.decode()
        log.debug("%s handling %s", self.name, method)
        try:
            result = self._method(method)(**wire.loads(kwargs))
            if kind == wire.CALL:
                outbox.send_multipart([wire.REPLY, caller, msg_id, wire.dumps(result)])
        except Exception as exc:
            self._log_failure(method, exc)
            if kind == wire.CALL:
                outbox.send_multipart([wire.ERROR, caller, msg_id,
                                       wire.dumps(errors.to_wire(exc))])

    def _method(self, method: str):
        handler = self._methods.get(method)
        if handler is None:
            raise NoSuchMethod(f"{self.name} on topic(s) {', '.join(self.topics)} "
                               f"has no method '{method}'")
        return handler

    def _log_failure(self, method: str, exc: Exception) -> None:
        if isinstance(exc, NoSuchMethod):
            log.warning("%s", exc)
        elif type(exc).__name__ in errors.REMOTABLE:
            # Part of the method's contract; the caller decides whether it matters.
            log.debug("%s: %s raised %s", self.name, method, type(exc).__name__, exc_info=True)
        else:
            log.exception("%s: %s failed", self.name, method)
