"""deploy ("active", "rebuild"): deploying -> the config drive (a new one is kept in
instance_info["configdrive"], as Ironic does, so a rebuild without one reuses it) and the
image from the image service published over HTTP, the deploy ramdisk boots -> wait
call-back; the ramdisk writes the image and the config drive when its heartbeat asks
(agent.py) -> deploying -> boots from its disk -> active.
undeploy ("deleted"): deleting -> powered off, network boot, image and config drive cleaned
up, instance_info and instance_uuid cleared -> cleaning (clean.py) -> available.
"""
from undercloud.baremetal import states
from undercloud.baremetal.configdrive import PUBLISHED_NOTE, InvalidConfigDrive
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
    if (params or {}).get("configdrive"):
        nodes.set_fields(node_id, instance_info={**(node.instance_info or {}),
                                                 "configdrive": params["configdrive"]})
        node = nodes.get(node_id)
    try:
        target_disk = _target_disk(node)
        conductor.ensure_provisioning()
    except (disks.NoRootDisk, ProvisioningError) as exc:
        nodes.fail(node_id, states.DEPLOYING, f"Failed to prepare image {image_source} for "
                                              f"node {node_id}: {exc}")
        return
    try:
        configdrive = _publish_configdrive(conductor, node)
    except (InvalidConfigDrive, ProvisioningError) as exc:
        nodes.fail(node_id, states.DEPLOYING, f"Failed to prepare the config drive of node "
                                              f"{node_id}: {exc}")
        return
    try:
        image = conductor.provisioning.prepare_image(token, image_source, node_id)
    except ProvisioningError as exc:
        boot.unpublish(conductor, node_id)
        nodes.fail(node_id, states.DEPLOYING, f"Failed to prepare image {image_source} for "
                                              f"node {node_id}: {exc}")
        return
    nodes.note(node_id, **{IMAGE_NOTE: {**image, "target_disk": target_disk},
                           PUBLISHED_NOTE: configdrive})
    try:
        boot.ramdisk(conductor, node_id, "deploy")
    except (IpmiError, ProvisioningError) as exc:
        boot.give_up(conductor, node_id, states.DEPLOYING,
                     f"Failed to deploy node {node_id}: {exc}")
        return
    nodes.move(node_id, states.DEPLOYING, "wait")


def _publish_configdrive(conductor, node) -> dict | None:
    """The node's config drive over HTTP ({"url", "size"}), or None without one (and then
    none of an earlier deploy stays published)."""
    value = (node.instance_info or {}).get("configdrive")
    if not value:
        conductor.provisioning.unpublish_configdrive(node.id)
        return None
    return conductor.provisioning.prepare_configdrive(node.id, node.name, value)


def write_image_command(node) -> dict:
    internal = node.driver_internal_info or {}
    image = internal.get(IMAGE_NOTE) or {}
    params = {"url": image.get("url"), "checksum": image.get("checksum"),
              "checksum_algo": image.get("checksum_algo"), "disk_format": "raw",
              "target_disk": image.get("target_disk")}
    configdrive = internal.get(PUBLISHED_NOTE)
    if configdrive:
        params.update(configdrive_url=configdrive["url"], configdrive_size=configdrive["size"])
    return {"name": "write_image", "params": params}


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
    nodes.note(node_id, drop=(IMAGE_NOTE, PUBLISHED_NOTE))
    if nodes.move(node_id, states.DELETING, "done", instance_info={},
                  instance_uuid=None) == states.CLEANING:
        clean.start(conductor, node_id, context)
