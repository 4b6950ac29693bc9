"""Booting a node: into the deploy/discovery ramdisk over the provisioning network, or from
its own disk once deployed; and undoing a ramdisk boot on the way out."""
import logging

from undercloud.baremetal import states
from undercloud.baremetal.drivers.provisioning import ProvisioningError
from undercloud.baremetal.flows import nodes, power

LOG = logging.getLogger("undercloud.baremetal.conductor")
# The conductor's notes about the current ramdisk boot, forgotten when the next one starts.
AGENT_NOTES = (nodes.AGENT_TOKEN_KEY, "agent_step", "agent_last_heartbeat", "agent_version")


def ramdisk(conductor, node_id: str, mode: str) -> None:
    """PXE-boot the ramdisk in mode inspect, clean or deploy: the node's MACs get the
    ramdisk's iPXE script, its BMC boots from the network, and it powers on (or reboots)."""
    conductor.ensure_provisioning()
    conductor.provisioning.prepare_boot(node_id, nodes.macs(node_id), mode)
    nodes.note(node_id, drop=AGENT_NOTES)
    node = nodes.get(node_id)
    bmc = conductor.bmc_for(node)
    # Persistent: a ramdisk that reboots must come back to the ramdisk.
    bmc.set_boot_device("pxe", persistent=True)
    power.change(conductor, node, states.REBOOT)


def disk(conductor, node_id: str) -> None:
    """Boot from the local disk from now on, and reboot into it."""
    node = nodes.get(node_id)
    conductor.bmc_for(node).set_boot_device("disk", persistent=True)
    # A BMC that ignores the boot device still finds iPXE sending it to its disk.
    conductor.provisioning.prepare_boot(node_id, nodes.macs(node_id), "disk")
    power.change(conductor, node, states.REBOOT)


def clean_up(conductor, node_id: str) -> None:
    """The node's MACs no longer boot a ramdisk (best effort: a failure is logged)."""
    try:
        conductor.provisioning.clean_up_boot(node_id, nodes.macs(node_id, pxe_only=False))
    except ProvisioningError as exc:
        LOG.warning("node %s: could not clean up its network boot: %s", node_id, exc)


def unpublish(conductor, node_id: str) -> None:
    """Stop serving the node's deploy image and config drive (best effort)."""
    try:
        conductor.provisioning.unpublish_image(node_id)
    except ProvisioningError as exc:
        LOG.warning("node %s: could not unpublish its image: %s", node_id, exc)
    try:
        conductor.provisioning.unpublish_configdrive(node_id)
    except ProvisioningError as exc:
        LOG.warning("node %s: could not unpublish its config drive: %s", node_id, exc)


def stop_ramdisk(conductor, node_id: str, image: bool = False) -> str | None:
    """Power off and forget the network boot (and with image, the deploy image and config
    drive), as every flow does when it ends or fails; returns the power failure, if any,
    for last_error."""
    problem = power.off_quietly(conductor, node_id)
    clean_up(conductor, node_id)
    if image:
        unpublish(conductor, node_id)
    return problem


def give_up(conductor, node_id: str, state: str, message: str) -> str | None:
    """Power off, clean up, then fail the node in `state` with message (the user sees the
    failed state once the node is off); returns the failed state, or None as nodes.move."""
    problem = stop_ramdisk(conductor, node_id,
                           image=state in (states.DEPLOYING, states.DEPLOY_WAIT))
    if problem:
        message = f"{message} (and powering it off failed: {problem})"
    return nodes.fail(node_id, state, message)
