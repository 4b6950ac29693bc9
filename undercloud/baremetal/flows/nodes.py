"""What every flow does to a node row: Ironic's state moves, the conductor's working notes
(driver_internal_info), the node's MACs, and failures recorded in last_error."""
import logging

import peewee

from undercloud import db
from undercloud.baremetal import states
from undercloud.baremetal.models import Node, Port

LOG = logging.getLogger("undercloud.baremetal.conductor")
SETTLED = states.STABLE + states.FAILED
# The API's hash of the ramdisk's token: gone whenever the node boots a ramdisk again, so
# that boot's first lookup mints a new one (rpcapi.py).
AGENT_TOKEN_KEY = "agent_token_hash"


def get(node_id: str) -> Node:
    node = Node.get_or_none(Node.id == node_id)
    if node is None:
        raise LookupError(f"Node {node_id} could not be found.")
    return node


def move(node_id: str, from_state: str, event: str, **changes) -> str | None:
    """Apply the conductor's event to the node if it is still in from_state, with other
    column changes in the same UPDATE. Returns the new state, or None when the node left
    from_state meanwhile (an abort, a delete): the flow then stops.

    A stable, failed or waiting state ends the flow's work, so its reservation goes in the
    same UPDATE: nobody sees the node settled yet locked."""
    node = Node.get_or_none(Node.id == node_id)
    if node is None or node.provision_state != from_state:
        return None
    new = states.apply_event(from_state, event, node.target_provision_state)
    now = db.utcnow()
    changes.update(provision_state=new, provision_updated_at=now, updated_at=now,
                   target_provision_state=None if new in SETTLED
                   else node.target_provision_state)
    if new in SETTLED + states.WAITING:
        changes["reservation"] = None
    with db.transaction():
        moved = Node.update(**changes).where(Node.id == node_id,
                                             Node.provision_state == from_state).execute()
    if not moved:
        return None
    LOG.info("node %s: provision state %s -> %s", node_id, from_state, new)
    return new


def fail(node_id: str, from_state: str, message: str, **changes) -> str | None:
    """The event "fail" with last_error; returns the failed state, or None as move()."""
    LOG.warning("node %s: %s", node_id, message)
    return move(node_id, from_state, "fail", last_error=message, **changes)


def set_fields(node_id: str, **changes) -> None:
    with db.transaction():
        Node.update(updated_at=db.utcnow(), **changes).where(Node.id == node_id).execute()


def _locked(query):
    # SQLite serializes writers at BEGIN IMMEDIATE; PostgreSQL needs the row lock.
    return query.for_update() if isinstance(db.database.obj, peewee.PostgresqlDatabase) \
        else query


def note(node_id: str, drop: tuple[str, ...] = (), only_if: dict | None = None,
         **values) -> dict | None:
    """Write keys into driver_internal_info (and drop others) in one transaction, so a key
    the API writes meanwhile (the agent token's hash) survives; with only_if, only while
    those keys still hold those values. Returns the result, or None when only_if failed."""
    with db.transaction():
        node = _locked(Node.select(Node.driver_internal_info).where(Node.id == node_id)).get()
        current = node.driver_internal_info or {}
        if any(current.get(key) != value for key, value in (only_if or {}).items()):
            return None
        internal = {key: value for key, value in current.items() if key not in drop}
        internal.update(values)
        Node.update(driver_internal_info=internal).where(Node.id == node_id).execute()
    return internal


def macs(node_id: str, pxe_only: bool = True) -> list[str]:
    query = Port.select(Port.address).where(Port.node == node_id)
    if pxe_only:
        query = query.where(Port.pxe_enabled == True)  # noqa: E712
    return sorted(port.address for port in query)
