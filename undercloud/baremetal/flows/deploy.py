"""deploy ("active", "rebuild"): deploying -> the image from the image service published
raw over HTTP, the deploy ramdisk boots -> wait call-back; the ramdisk writes the image when
its heartbeat asks (agent.py) -> deploying -> boots from its disk -> active.
undeploy ("deleted"): deleting -> powered off, network boot and image cleaned up,
instance_info and instance_uuid cleared -> cleaning (clean.py) -> available.
"""
from undercloud.baremetal import states
from undercloud.baremetal.drivers.ipmi import IpmiError
from undercloud.baremetal.drivers.provisioning import ProvisioningError
from undercloud.baremetal.flows import boot, clean, disks, nodes
from undercloud.baremetal.models import NodeInventory

IMAGE_NOTE = "deploy_image"   # driver_internal_info: what write_image gets


def _target_disk(node) -> str | None:
    """The root disk's name from the inventory, or None (the ramdisk picks) without one."""
    record = NodeInventory.get_or_none(NodeInventory.node == node.id)
    if record is None:
        return None
    disk = disks.root_disk(record.inventory or {}, (node.properties or {}).get("root_device"))
    return disk.get("name") if disk else None


def start(conductor, node_id: str, context: dict | None = None,
          params: dict | None = None) -> None:
    node = nodes.get(node_id)
    image_source = (node.instance_info or {}).get("image_source")
    token = (context or {}).get("token")
    if not image_source:
        nodes.fail(node_id, states.DEPLOYING, f"Cannot deploy node {node_id}: its "
                   f"instance_info has no image_source (the id of an image in the image "
                   f"service); set it with: openstack baremetal node set {node_id} "
                   f"--instance-info image_source=IMAGE")
        return
    if not token:
        nodes.fail(node_id, states.DEPLOYING, f"Cannot deploy node {node_id}: the request "
                   f"carried no token to read image {image_source} with; deploy again")
        return
    try:
        target_disk = _target_disk(node)
        conductor.ensure_provisioning()
        image = conductor.provisioning.prepare_image(token, image_source, node_id)
    except (disks.NoRootDisk, ProvisioningError) as exc:
        nodes.fail(node_id, states.DEPLOYING, f"Failed to prepare image {image_source} for "
                                              f"node {node_id}: {exc}")
        return
    nodes.note(node_id, **{IMAGE_NOTE: {**image, "target_disk": target_disk}})
    try:
        boot.ramdisk(conductor, node_id, "deploy")
    except (IpmiError, ProvisioningError) as exc:
        boot.give_up(conductor, node_id, states.DEPLOYING,
                     f"Failed to deploy node {node_id}: {exc}")
        return
    nodes.move(node_id, states.DEPLOYING, "wait")


def write_image_command(node) -> dict:
    image = (node.driver_internal_info or {}).get(IMAGE_NOTE) or {}
    return {"name": "write_image", "params": {
        "url": image.get("url"), "checksum": image.get("checksum"),
        "checksum_algo": image.get("checksum_algo"), "disk_format": "raw",
        "target_disk": image.get("target_disk")}}


def finish(conductor, node_id: str) -> None:
    """The image is written: boot from the disk from now on, reboot -> active."""
    try:
        boot.disk(conductor, node_id)
    except (IpmiError, ProvisioningError) as exc:
        boot.give_up(conductor, node_id, states.DEPLOYING,
                     f"Failed to boot node {node_id} from its disk: {exc}")
        return
    boot.unpublish(conductor, node_id)
    nodes.move(node_id, states.DEPLOYING, "done")


def undeploy(conductor, node_id: str, context: dict | None = None,
             params: dict | None = None) -> None:
    problem = boot.stop_ramdisk(conductor, node_id, image=True)
    if problem:
        nodes.fail(node_id, states.DELETING, f"Failed to tear down node {node_id}: {problem}")
        return
    nodes.note(node_id, drop=(IMAGE_NOTE,))
    if nodes.move(node_id, states.DELETING, "done", instance_info={},
                  instance_uuid=None) == states.CLEANING:
        clean.start(conductor, node_id, context)
