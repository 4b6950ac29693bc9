"""Power: a node's BMC from its driver_info, the user's power requests, the flows' power
moves, and the periodic sync that makes power_state follow the BMC."""
import logging

from undercloud import db
from undercloud.baremetal import driverinfo, states
from undercloud.baremetal.drivers.ipmi import Bmc, IpmiError
from undercloud.baremetal.flows import nodes
from undercloud.baremetal.models import Node

LOG = logging.getLogger("undercloud.baremetal.conductor")
# Seconds a hard power change may take to show at the BMC (Ironic's power_state_change_timeout).
POWER_WAIT = 60
# A soft power off lets the OS shut down; without a timeout from the user, this long.
SOFT_POWER_WAIT = 120
# Provision states the sync leaves alone: not yet verified, or a flow holds the power.
NOT_SYNCED = (states.ENROLL, states.VERIFYING, states.INSPECTING, states.CLEANING,
              states.DEPLOYING, states.DELETING)


def bmc_for(config, node: Node) -> Bmc:
    """The node's BMC; IpmiError naming what driver_info lacks."""
    info = node.driver_info or {}
    if not info.get("ipmi_address"):
        raise IpmiError("Missing the following IPMI credentials in node's driver_info: "
                        "ipmi_address.", kind="config")
    try:
        port = int(info.get("ipmi_port") or 623)
        if not 0 < port < 65536:
            raise ValueError
    except (TypeError, ValueError):
        raise IpmiError(f"driver_info ipmi_port {info.get('ipmi_port')!r} is not a port "
                        f"number (1-65535)", kind="config") from None
    try:
        password = driverinfo.opened(config, node.driver_secrets).get("ipmi_password") or ""
    except ValueError as exc:
        raise IpmiError(f"the node's BMC password cannot be read: {exc}", kind="config") \
            from None
    options = config["baremetal"]
    return Bmc(str(info["ipmi_address"]), port, str(info.get("ipmi_username") or ""),
               password, timeout=options["ipmi_timeout"], retries=options["ipmi_retries"])


def change(conductor, node: Node, target: str, timeout: int | None = None) -> str:
    """Carry out a power target over IPMI and record the state reached; IpmiError if the
    BMC fails (power_state is then left as it was)."""
    bmc = conductor.bmc_for(node)
    LOG.info("node %s: %s (BMC %s)", node.id, target, bmc.where)
    if target == "soft rebooting":
        bmc.set_power("soft power off", wait=timeout or SOFT_POWER_WAIT)
        reached = bmc.set_power("power on", wait=POWER_WAIT)
    elif target == "soft power off":
        reached = bmc.set_power(target, wait=timeout or SOFT_POWER_WAIT)
    else:
        reached = bmc.set_power(target, wait=POWER_WAIT)
    reached = reached or bmc.power_state()
    nodes.set_fields(node.id, power_state=reached, target_power_state=None)
    LOG.info("node %s: power state is %s", node.id, reached)
    return reached


def off_quietly(conductor, node_id: str) -> str | None:
    """Power off on the way to a failed state: a BMC failure is logged, not raised, so the
    node's last_error keeps the reason it failed; returns what went wrong, if anything."""
    try:
        change(conductor, nodes.get(node_id), states.POWER_OFF)
    except IpmiError as exc:
        LOG.warning("node %s: could not power off: %s", node_id, exc)
        return str(exc)
    return None


def change_requested(conductor, node_id: str, target: str, timeout: int | None) -> None:
    """The user's power request (target_power_state is recorded); holds the node."""
    node = nodes.get(node_id)
    try:
        change(conductor, node, target, timeout)
    except IpmiError as exc:
        nodes.set_fields(node_id, target_power_state=None,
                         last_error=f"Failed to change power state of node {node_id} to "
                                    f"'{target}': {exc}")
        LOG.warning("node %s: %s failed: %s", node_id, target, exc)
        return
    nodes.set_fields(node_id, last_error=None)


def sync(conductor, node_id: str) -> None:
    """Read one node's power state from its BMC and record it. No reservation, so users are
    never turned away by a sync: the record changes only if nobody holds the node and its
    power_state is still what was read before asking the BMC."""
    node = nodes.get(node_id)
    if node.maintenance or node.reservation or node.provision_state in NOT_SYNCED:
        return
    try:
        actual = conductor.bmc_for(node).power_state()
    except IpmiError as exc:
        LOG.warning("node %s: power sync failed: %s", node_id, exc)
        return
    if actual == node.power_state:
        return
    unchanged = Node.power_state.is_null() if node.power_state is None \
        else Node.power_state == node.power_state
    with db.transaction():
        recorded = Node.update(power_state=actual, updated_at=db.utcnow()).where(
            Node.id == node_id, Node.reservation.is_null(), unchanged).execute()
    if recorded:
        LOG.info("node %s: power state %s -> %s (as the BMC reports)", node_id,
                 node.power_state, actual)


def nodes_to_sync() -> list[str]:
    return [row.id for row in Node.select(Node.id).where(
        Node.maintenance == False, Node.reservation.is_null(),  # noqa: E712
        Node.provision_state.not_in(NOT_SYNCED))]
