"""inspect: inspecting -> the discovery ramdisk boots -> inspect wait; its inventory comes
back through continue_inspection: stored, turned into properties and ports, the node powered
off and its network boot cleaned up -> manageable."""
import logging
import re

from undercloud import db
from undercloud.baremetal import states
from undercloud.baremetal.drivers.ipmi import IpmiError
from undercloud.baremetal.drivers.provisioning import ProvisioningError
from undercloud.baremetal.flows import boot, disks, nodes
from undercloud.baremetal.models import NodeInventory, Port
from undercloud.baremetal.rpcapi import InvalidParameterValue

LOG = logging.getLogger("undercloud.baremetal.conductor")
MAC = re.compile(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$")


def start(conductor, node_id: str, context: dict | None = None,
          params: dict | None = None) -> None:
    nodes.set_fields(node_id, inspection_started_at=db.utcnow(), inspection_finished_at=None)
    try:
        boot.ramdisk(conductor, node_id, "inspect")
    except (IpmiError, ProvisioningError) as exc:
        boot.give_up(conductor, node_id, states.INSPECTING,
                     f"Failed to inspect node {node_id}: {exc}")
        return
    nodes.move(node_id, states.INSPECTING, "wait")


def check(inventory) -> None:
    """InvalidParameterValue unless the inventory has IPA's shape where we read it."""
    if not isinstance(inventory, dict):
        raise InvalidParameterValue("The inventory must be a JSON object.")
    for key, kind in (("cpu", dict), ("memory", dict), ("disks", list), ("interfaces", list)):
        if key in inventory and not isinstance(inventory[key], kind):
            raise InvalidParameterValue(f"The inventory's {key!r} must be a JSON "
                                        f"{'object' if kind is dict else 'array'}.")
    for interface in inventory.get("interfaces") or []:
        if not isinstance(interface, dict):
            raise InvalidParameterValue("Each of the inventory's interfaces must be a JSON "
                                        "object.")


def _boot_mac(inventory: dict) -> str | None:
    """The MAC the node booted from: boot.pxe_interface is a MAC or an interface's name."""
    pxe = str((inventory.get("boot") or {}).get("pxe_interface") or "").lower()
    for interface in inventory.get("interfaces") or []:
        mac = str(interface.get("mac_address") or "").lower()
        if pxe and pxe in (mac, str(interface.get("name") or "").lower()):
            return mac
    return pxe or None


def store(node_id: str, inventory: dict) -> None:
    """Record the inventory, the properties it gives and ports for MACs nobody has yet."""
    check(inventory)
    node = nodes.get(node_id)
    try:
        found = disks.properties(inventory, (node.properties or {}).get("root_device"))
    except disks.NoRootDisk as exc:
        LOG.warning("node %s: %s; local_gb left as it was", node_id, exc)
        found = disks.properties({**inventory, "disks": []})
    boot_mac = _boot_mac(inventory)
    with db.transaction():
        (NodeInventory.insert(node=node_id, inventory=inventory, plugin_data={},
                              created_at=db.utcnow())
         .on_conflict(conflict_target=[NodeInventory.node],
                      update={NodeInventory.inventory: inventory,
                              NodeInventory.created_at: db.utcnow()})
         .execute())
        nodes.set_fields(node_id, properties={**(node.properties or {}), **found},
                         inspection_finished_at=db.utcnow())
        for interface in inventory.get("interfaces") or []:
            mac = str(interface.get("mac_address") or "").lower()
            if not MAC.match(mac) or Port.select().where(Port.address == mac).exists():
                continue
            Port.create(node=node_id, address=mac, pxe_enabled=mac == boot_mac)
            LOG.info("node %s: port %s found by inspection", node_id, mac)
    LOG.info("node %s: inventory stored: %s", node_id,
             ", ".join(f"{key} {value}" for key, value in sorted(found.items())))


def finish(conductor, node_id: str) -> None:
    """After store(): power off, clean up the network boot -> manageable."""
    problem = boot.stop_ramdisk(conductor, node_id)
    if problem:
        nodes.fail(node_id, states.INSPECT_WAIT, f"Failed to power off node {node_id} after "
                                                 f"inspection: {problem}")
    else:
        nodes.move(node_id, states.INSPECT_WAIT, "done")
