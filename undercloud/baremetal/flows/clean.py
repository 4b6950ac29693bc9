"""provide / clean, and the end of undeploy: cleaning -> the ramdisk boots -> clean wait;
the ramdisk erases the disks when its heartbeat asks (agent.py) -> cleaning -> powered off,
network boot cleaned up -> the target: available (provide, undeploy) or manageable (clean).

Automated cleaning (provide, undeploy) runs when the node's automated_clean says so, or,
when that is unset, the config's baremetal.automated_clean; otherwise the node goes straight
to its target. Manual cleaning (the clean verb) erases only when its clean_steps ask for
erase_devices or erase_devices_metadata.
"""
from undercloud.baremetal import states
from undercloud.baremetal.drivers.ipmi import IpmiError
from undercloud.baremetal.drivers.provisioning import ProvisioningError
from undercloud.baremetal.flows import boot, nodes

ERASE_STEPS = ("erase_devices", "erase_devices_metadata")


def wanted(conductor, node, params: dict | None) -> bool:
    if node.target_provision_state == states.MANAGEABLE:
        steps = (params or {}).get("clean_steps") or []
        return any(isinstance(step, dict) and step.get("step") in ERASE_STEPS
                   for step in steps)
    if node.automated_clean is not None:
        return node.automated_clean
    return conductor.config["baremetal"]["automated_clean"]


def start(conductor, node_id: str, context: dict | None = None,
          params: dict | None = None) -> None:
    if not wanted(conductor, nodes.get(node_id), params):
        nodes.move(node_id, states.CLEANING, "done")
        return
    try:
        boot.ramdisk(conductor, node_id, "clean")
    except (IpmiError, ProvisioningError) as exc:
        boot.give_up(conductor, node_id, states.CLEANING,
                     f"Failed to prepare node {node_id} for cleaning: {exc}")
        return
    nodes.move(node_id, states.CLEANING, "wait")


def finish(conductor, node_id: str) -> None:
    """The ramdisk erased the disks: power off, clean up the network boot -> the target."""
    problem = boot.stop_ramdisk(conductor, node_id)
    if problem:
        nodes.fail(node_id, states.CLEANING, f"Failed to power off node {node_id} after "
                                             f"cleaning: {problem}")
    else:
        nodes.move(node_id, states.CLEANING, "done")
