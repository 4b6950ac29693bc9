"""Node reservations: the conductor working on a node writes its host into Node.reservation,
only where nobody holds it (one atomic UPDATE), and clears it when done. The API answers 409
NodeLocked meanwhile. A dead conductor's reservations are released by the conductor that
starts next (flows/recovery.py).
"""
import contextlib
import time

from undercloud import db
from undercloud.baremetal.models import Node
from undercloud.baremetal.rpcapi import NodeLocked

# A cast can meet a node that a power sync or a heartbeat holds for a second or two.
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.2


def try_reserve(node_id: str, host: str) -> bool:
    with db.transaction():
        return Node.update(reservation=host).where(
            Node.id == node_id, Node.reservation.is_null()).execute() == 1


def reserve(node_id: str, host: str, wait: float = WAIT_SECONDS) -> None:
    """Take the node, waiting up to `wait` seconds for its holder; NodeLocked otherwise."""
    deadline = time.monotonic() + wait
    while not try_reserve(node_id, host):
        node = Node.get_or_none(Node.id == node_id)
        if node is None:
            raise LookupError(f"Node {node_id} could not be found.")
        if time.monotonic() >= deadline:
            raise NodeLocked(f"Node {node_id} is locked by host {node.reservation}, please "
                             f"retry after the current operation is completed.")
        time.sleep(POLL_SECONDS)


def release(node_id: str, host: str) -> None:
    with db.transaction():
        Node.update(reservation=None).where(Node.id == node_id,
                                            Node.reservation == host).execute()


@contextlib.contextmanager
def reserved(node_id: str, host: str, wait: float = WAIT_SECONDS):
    reserve(node_id, host, wait)
    try:
        yield
    finally:
        release(node_id, host)

