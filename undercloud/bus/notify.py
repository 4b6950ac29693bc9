"""Notifications: Notifier publishes events; Listener receives those matching its prefixes.

The envelope follows oslo.messaging's so telemetry code reads familiar:
{"message_id", "publisher_id", "event_type", "priority", "timestamp", "payload"}.
"""
import datetime
import logging
import uuid

from undercloud.bus import wire
from undercloud.bus.peer import Peer
from undercloud.bus.sockets import ThreadSockets

log = logging.getLogger("undercloud.bus.notify")


class Notifier:
    """Publishes events as publisher_id (e.g. "compute.host1"). Thread- and fork-safe."""

    def __init__(self, cfg, publisher_id: str):
        self.publisher_id = publisher_id
        self._sockets = ThreadSockets(cfg)

    def notify(self, event_type: str, payload: dict) -> dict:
        """Send an event to every listener whose prefix matches; returns the envelope."""
        envelope = {
            "message_id": str(uuid.uuid4()),
            "publisher_id": self.publisher_id,
            "event_type": event_type,
            "priority": "INFO",
            "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "payload": payload,
        }
        sock, _ = self._sockets.get()
        self._sockets.send(sock, [wire.NOTIFY, event_type.encode(), wire.dumps(envelope)],
                           event_type, "notify")
        return envelope

    def close(self) -> None:
        self._sockets.close()


class Listener(Peer):
    """Calls callback(envelope) for each event whose type starts with one of prefixes.

    The callback runs in the listener's socket thread: keep it quick, or hand
    the work on, so heartbeats keep flowing.
    """

    def __init__(self, cfg, prefixes, callback, name: str | None = None):
        prefixes = [prefixes] if isinstance(prefixes, str) else list(prefixes)
        super().__init__(cfg, name or f"listener:{','.join(prefixes)}", prefixes=prefixes)
        self.prefixes = prefixes
        self._callback = callback

    def _on_message(self, frames) -> None:
        if frames[0] != wire.NOTIFY or len(frames) != 3:
            return
        try:
            self._callback(wire.loads(frames[2]))
        except Exception:
            log.exception("%s: the callback failed for event %s", self.name,
                          frames[1].decode(errors="replace"))
