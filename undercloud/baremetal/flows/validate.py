"""Ironic's interface validation (GET /v1/nodes/{id}/validate): for each interface,
{"result": True | False | None, "reason": why not}. Power asks the BMC itself, so wrong
credentials show here; the others check what they would need."""
import os

from undercloud.baremetal import interfaces
from undercloud.baremetal.drivers.ipmi import IpmiError
from undercloud.baremetal.flows import nodes

OK = {"result": True, "reason": None}
NOT_SUPPORTED = {"result": None, "reason": "not supported"}
ALWAYS_OK = ("network", "storage")


def _failed(reason: str) -> dict:
    return {"result": False, "reason": reason}


def ramdisk_files(config) -> list[str]:
    """The deploy kernel and ramdisk the provisioning network serves."""
    section = config["baremetal"]
    return [section["deploy_kernel"] or config.path("baremetal", "ramdisk", "vmlinuz"),
            section["deploy_ramdisk"] or config.path("baremetal", "ramdisk", "initrd.img")]


def _ramdisk(config) -> str | None:
    missing = [path for path in ramdisk_files(config) if not os.path.exists(path)]
    if missing:
        return (f"the deploy ramdisk is missing ({', '.join(missing)}); build it with "
                f"images/deploy-ramdisk/build")
    return None


def validate(conductor, node_id: str) -> dict:
    node = nodes.get(node_id)
    results = {kind: NOT_SUPPORTED for kind in interfaces.FIXED}
    results.update({kind: OK for kind in ALWAYS_OK})
    try:
        bmc = conductor.bmc_for(node)
        results["management"] = OK
        try:
            bmc.power_state()
            results["power"] = OK
        except IpmiError as exc:
            results["power"] = _failed(str(exc))
    except IpmiError as exc:
        results["management"] = results["power"] = _failed(str(exc))
    ramdisk_problem = _ramdisk(conductor.config)
    results["inspect"] = _failed(ramdisk_problem) if ramdisk_problem else OK
    boot_problem = ramdisk_problem or (None if nodes.macs(node_id) else
                                       f"Node {node_id} has no port with pxe_enabled to "
                                       f"boot from the network")
    results["boot"] = _failed(boot_problem) if boot_problem else OK
    if boot_problem:
        results["deploy"] = _failed(boot_problem)
    elif not (node.instance_info or {}).get("image_source"):
        results["deploy"] = _failed(
            f"Cannot validate image information for node {node_id} because one or more "
            f"parameters are missing from its instance_info. Missing are: ['image_source']")
    else:
        results["deploy"] = OK
    return results
