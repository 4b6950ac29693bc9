"""The ZeroMQ bus: RPC call/cast/fanout to topics, and notifications.

Every peer connects one DEALER socket to a single ROUTER, the broker (its own
process in production: ``python -m undercloud.bus.broker``).

Why a broker rather than peer-to-peer sockets:

- Topic routing without a directory service. ``scheduler`` or
  ``compute.<host>`` is just a name a peer registers with a HELLO; nobody has
  to look up or publish the address of the process serving it.
- One place for CurveZMQ authentication: the broker holds the list of
  authorized public keys (``DATA_DIR/secrets/bus/authorized/``), so each
  host needs only its own key pair and the broker's public key.
- One well-known address (``cfg.bus_url``) to open in a firewall and to
  check from ``stackbox status``.

The broker keeps nothing. The database holds intent, and every manager
reconciles from it on start and periodically, so a message lost while the
broker restarts only delays work, never loses it. Peers reconnect by
themselves and say HELLO every second, which registers them again.

Public API::

    ensure_keys(cfg) -> key directory
    Broker(cfg).run() / .stop() / .ready (an Event)
    RpcClient(cfg).call(topic, method, timeout=None, **kwargs) / .cast / .fanout
                 / .ping_broker(timeout=None) / .close()
    RpcServer(cfg, topics, endpoint, name, workers=8).start() / .serve_forever()
                 / .wait_registered(timeout=5.0) / .stop(timeout=10.0)
    Notifier(cfg, publisher_id).notify(event_type, payload) / .close()
    Listener(cfg, prefixes, callback, name=None).start() / .wait_registered() / .stop()
    BusError, BusTimeout, NoPeer, RemoteError, @remotable
    @remote (marks a method RpcServer may run), remote_methods(endpoint)

Wire format: see wire.py. Messages are JSON; datetimes travel as ISO 8601 strings.
"""
from undercloud.bus.client import RpcClient
from undercloud.bus.errors import BusError, BusTimeout, NoPeer, RemoteError, remotable
from undercloud.bus.keys import ensure_keys
from undercloud.bus.notify import Listener, Notifier
from undercloud.bus.remote import remote, remote_methods
from undercloud.bus.server import RpcServer

__all__ = [
    "Broker", "BusError", "BusTimeout", "Listener", "NoPeer", "Notifier", "RemoteError",
    "RpcClient", "RpcServer", "ensure_keys", "remotable", "remote", "remote_methods",
]


def __getattr__(name):
    # Imported on first use so `python -m undercloud.bus.broker` does not load it twice.
    if name == "Broker":
        from undercloud.bus.broker import Broker
        return Broker
    raise AttributeError(f"module 'undercloud.bus' has no attribute '{name}'")
