"""The base of every service's manager process: it answers its bus topics (its @remote
methods, the messages its rpcapi.py sends) and reconciles.

ZeroMQ keeps nothing, so the DB is the source of truth: a manager reconciles
the world with the DB when it starts and then periodically, and a message
lost on the way only delays work.
"""
import logging
import socket
import threading

from undercloud import db

LOG = logging.getLogger(__name__)


class Manager:
    service = "undefined"          # the service folder's name, e.g. "compute"
    reconcile_interval = 60.0      # seconds between reconciliations

    def __init__(self, config, host: str | None = None):
        self.config = config
        self.host = host or socket.gethostname()
        self.stopping = threading.Event()

    @property
    def topics(self) -> list[str]:
        """The service's shared topic and this host's own (e.g. compute.<host>)."""
        return [self.service, f"{self.service}.{self.host}"]

    def reconcile(self):
        """Bring what this host runs in line with the DB; subclasses fill this in."""

    def _reconcile_safely(self):
        try:
            self.reconcile()
        except Exception:  # a failed pass is retried on the next one
            LOG.exception("%s reconcile failed; retrying in %.0f s",
                          self.service, self.reconcile_interval)

    def run(self):
        """Serve the bus and reconcile until stop() is called."""
        from undercloud.bus import RpcServer
        db.connect(self.config)
        self._reconcile_safely()
        server = RpcServer(self.config, self.topics, self, f"{self.service}-manager")
        server.start()
        LOG.info("%s manager on %s serving topics %s", self.service, self.host,
                 ", ".join(self.topics))
        try:
            while not self.stopping.wait(self.reconcile_interval):
                self._reconcile_safely()
        finally:
            server.stop()
            db.database.close()

    def stop(self):
        self.stopping.set()
