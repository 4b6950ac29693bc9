"""How compute's resources look in Nova's api-ref, microversion by microversion."""
import datetime
import hashlib

from flask import g

from undercloud.common.microversions import APIVersion
from undercloud.common.versions import base_url
from undercloud.compute import policy
from undercloud.compute.models import ComputeNode, InstanceFault, InstanceTag, ServerGroupMember

# Nova's vm_state -> status, with the task states that override it (nova/api/openstack/common.py).
_STATUS = {
    "active": ("ACTIVE", {"rebooting": "REBOOT", "reboot_pending": "REBOOT",
                          "reboot_started": "REBOOT", "rebooting_hard": "HARD_REBOOT",
                          "reboot_pending_hard": "HARD_REBOOT",
                          "reboot_started_hard": "HARD_REBOOT", "rebuilding": "REBUILD",
                          "rebuild_block_device_mapping": "REBUILD",
                          "rebuild_spawning": "REBUILD", "migrating": "MIGRATING",
                          "resize_prep": "RESIZE", "resize_migrating": "RESIZE",
                          "resize_migrated": "RESIZE", "resize_finish": "RESIZE",
                          "updating_password": "PASSWORD"}),
    "building": ("BUILD", {}),
    "stopped": ("SHUTOFF", {"resize_prep": "RESIZE", "resize_migrating": "RESIZE",
                            "resize_migrated": "RESIZE", "resize_finish": "RESIZE",
                            "rebuilding": "REBUILD", "rebuild_spawning": "REBUILD"}),
    "resized": ("VERIFY_RESIZE", {"resize_reverting": "REVERT_RESIZE"}),
    "paused": ("PAUSED", {"migrating": "MIGRATING"}),
    "suspended": ("SUSPENDED", {}),
    "rescued": ("RESCUE", {}),
    "error": ("ERROR", {"rebuilding": "REBUILD"}),
    "deleted": ("DELETED", {}),
    "soft-delete": ("SOFT_DELETED", {}),
    "shelved": ("SHELVED", {}),
    "shelved_offloaded": ("SHELVED_OFFLOADED", {}),
}
# status -> the vm_states it stands for, for ?status= filters.
STATUS_VM_STATES = {"ACTIVE": ["active"], "BUILD": ["building"], "SHUTOFF": ["stopped"],
                    "VERIFY_RESIZE": ["resized"], "PAUSED": ["paused"],
                    "SUSPENDED": ["suspended"], "RESCUE": ["rescued"], "ERROR": ["error"],
                    "DELETED": ["deleted"], "SOFT_DELETED": ["soft-delete"],
                    "SHELVED": ["shelved"], "SHELVED_OFFLOADED": ["shelved_offloaded"],
                    "REBOOT": ["active"], "HARD_REBOOT": ["active"], "REBUILD": ["active"],
                    "RESIZE": ["active", "stopped"], "MIGRATING": ["active"],
                    "REVERT_RESIZE": ["resized"], "PASSWORD": ["active"]}
_PROGRESS_STATUSES = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}


def at_least(version: str) -> bool:
    return g.api_version is not None and g.api_version >= APIVersion.parse(version)


def timestamp(value: datetime.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def timestamp_micro(value: datetime.datetime | None) -> str | None:
    """Nova's launched_at/terminated_at and instance-action times: no zone, microseconds."""
    return value.isoformat(timespec="microseconds") if value else None


def status(instance) -> str:
    vm_state = "deleted" if instance.deleted else instance.vm_state
    default, by_task = _STATUS.get(vm_state, ("UNKNOWN", {}))
    return by_task.get(instance.task_state, default)


def links(collection: str, resource_id: str) -> list[dict]:
    base = base_url()
    return [{"rel": "self", "href": f"{base}/v2.1/{collection}/{resource_id}"},
            {"rel": "bookmark", "href": f"{base}/{collection}/{resource_id}"}]


def host_id(instance) -> str:
    return hashed_host(instance.project_id, instance.host)


def hashed_host(project_id: str, host: str | None) -> str:
    """Nova's hostId: a per-project hash of the host, so projects cannot map the cloud."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode()).hexdigest()


def _flavor(instance) -> dict:
    flavor = instance.flavor or {}
    if at_least("2.47"):
        shown = {"vcpus": flavor.get("vcpus"), "ram": flavor.get("memory_mb"),
                 "disk": flavor.get("root_gb"), "ephemeral": flavor.get("ephemeral_gb", 0),
                 "swap": flavor.get("swap", 0), "original_name": flavor.get("name")}
        if policy.allowed("flavor-extra-specs:index"):
            shown["extra_specs"] = flavor.get("extra_specs", {})
        return shown
    flavor_id = flavor.get("flavorid", "")
    return {"id": flavor_id, "links": [{"rel": "bookmark",
                                        "href": f"{base_url()}/flavors/{flavor_id}"}]}


def _image(instance):
    if not instance.image_ref:
        return ""  # booted from a volume
    return {"id": instance.image_ref,
            "links": [{"rel": "bookmark", "href": f"{base_url()}/images/{instance.image_ref}"}]}


def fault(instance, admin: bool) -> dict | None:
    row = (InstanceFault.select().where(InstanceFault.instance == instance.id)
           .order_by(InstanceFault.created_at.desc()).first())
    if row is None:
        return None
    shown = {"code": row.code, "created": timestamp(row.created_at), "message": row.message}
    if admin or row.code != 500:
        shown["details"] = row.details or ""
    return shown


def tags(instance) -> list[str]:
    return [t.tag for t in InstanceTag.select().where(InstanceTag.instance == instance.id)
            .order_by(InstanceTag.tag)]


def _volumes(instance) -> list[dict]:
    volumes = []
    for mapping in instance.block_device_mapping or []:
        if mapping.get("volume_id"):
            volume = {"id": mapping["volume_id"]}
            if at_least("2.3"):
                volume["delete_on_termination"] = bool(mapping.get("delete_on_termination"))
            volumes.append(volume)
    return volumes


def host_status(instance) -> str:
    if not instance.host:
        return ""
    node = ComputeNode.get_or_none(ComputeNode.host == instance.host)
    if node is None:
        return "UNKNOWN"
    if node.forced_down:
        return "DOWN"
    if not node.enabled:
        return "MAINTENANCE"
    return "UP"


def _basic(addresses: dict | None) -> dict:
    """Addresses without their OS-EXT-IPS type and MAC (Nova's extend_address off)."""
    return {name: [{"version": entry["version"], "addr": entry["addr"]} for entry in entries]
            for name, entries in (addresses or {}).items()}


def server(instance, detail: bool = True, show: bool = False, brief: bool = False) -> dict:
    """A server as GET /servers/{id} (detail) or GET /servers (not detail) shows it.

    `show` marks the single-server answers (show, update, rebuild), which carry server_groups
    from 2.71. `brief` marks update and rebuild answers: before 2.75 Nova leaves out the
    extension attributes there (zone, states, usage, key, volumes, extended attributes) and
    the addresses' type and MAC.
    """
    brief = brief and not at_least("2.75")
    shown = {"id": instance.id, "name": instance.display_name,
             "links": links("servers", instance.id)}
    if not detail:
        return shown
    admin = policy.allowed("servers:show:extended_attributes", project_id=instance.project_id)
    state = status(instance)
    shown.update({
        "status": state,
        "tenant_id": instance.project_id,
        "user_id": instance.user_id,
        "metadata": instance.metadata or {},
        "hostId": host_id(instance),
        "image": _image(instance),
        "flavor": _flavor(instance),
        "created": timestamp(instance.created_at),
        "updated": timestamp(instance.updated_at),
        "addresses": _basic(instance.addresses) if brief else instance.addresses or {},
        "accessIPv4": instance.access_ip_v4 or "",
        "accessIPv6": instance.access_ip_v6 or "",
        "OS-DCF:diskConfig": "MANUAL",
    })
    if not brief:
        shown.update({
            "OS-EXT-AZ:availability_zone": instance.availability_zone or "",
            "config_drive": "True" if instance.config_drive else "",
            "key_name": instance.key_name,
            "OS-SRV-USG:launched_at": timestamp_micro(instance.launched_at),
            "OS-SRV-USG:terminated_at": timestamp_micro(instance.terminated_at),
            "OS-EXT-STS:task_state": instance.task_state,
            "OS-EXT-STS:vm_state": "deleted" if instance.deleted else instance.vm_state,
            "OS-EXT-STS:power_state": instance.power_state,
            "os-extended-volumes:volumes_attached": _volumes(instance),
        })
    if state in _PROGRESS_STATUSES:
        shown["progress"] = instance.progress or 0
    if admin and not brief:
        shown.update({"OS-EXT-SRV-ATTR:host": instance.host,
                      "OS-EXT-SRV-ATTR:instance_name": instance_name(instance),
                      "OS-EXT-SRV-ATTR:hypervisor_hostname": instance.node})
        if at_least("2.3"):
            shown.update({"OS-EXT-SRV-ATTR:reservation_id": instance.reservation_id,
                          "OS-EXT-SRV-ATTR:launch_index": instance.launch_index,
                          "OS-EXT-SRV-ATTR:hostname": instance.hostname,
                          "OS-EXT-SRV-ATTR:kernel_id": "",
                          "OS-EXT-SRV-ATTR:ramdisk_id": "",
                          "OS-EXT-SRV-ATTR:root_device_name": "/dev/vda",
                          "OS-EXT-SRV-ATTR:user_data": instance.user_data})
    if state in ("ERROR", "DELETED"):
        found = fault(instance, admin)
        if found:
            shown["fault"] = found
    if at_least("2.9"):
        shown["locked"] = bool(instance.locked)
    if at_least("2.16") and not brief and policy.allowed("servers:show:host_status",
                                           project_id=instance.project_id):
        shown["host_status"] = host_status(instance)
    if at_least("2.19"):
        shown["description"] = instance.display_description
    if at_least("2.26"):
        shown["tags"] = tags(instance)
    if at_least("2.63"):
        shown["trusted_image_certificates"] = None
    if at_least("2.71") and show:
        member = ServerGroupMember.get_or_none(ServerGroupMember.instance_id == instance.id)
        shown["server_groups"] = [member.group_id] if member else []
    if at_least("2.73"):
        shown["locked_reason"] = instance.locked_reason if instance.locked else None
    return shown


def instance_name(instance) -> str:
    """The libvirt domain name the managers give the instance."""
    return f"instance-{instance.id}"


def flavor(row, detail: bool = True) -> dict:
    shown = {"id": row.flavorid, "name": row.name, "links": links("flavors", row.flavorid)}
    if at_least("2.55"):
        shown["description"] = row.description
    if not detail:
        return shown
    shown.update({"ram": row.memory_mb, "disk": row.root_gb, "vcpus": row.vcpus,
                  "OS-FLV-EXT-DATA:ephemeral": row.ephemeral_gb,
                  "OS-FLV-DISABLED:disabled": bool(row.disabled),
                  "swap": row.swap if (row.swap or at_least("2.75")) else "",
                  "rxtx_factor": row.rxtx_factor,
                  "os-flavor-access:is_public": bool(row.is_public)})
    if at_least("2.61") and policy.allowed("flavor-extra-specs:index"):
        shown["extra_specs"] = row.extra_specs or {}
    return shown


def flavor_snapshot(row) -> dict:
    """The flavor as an instance keeps it (Instance.flavor), so later flavor edits do not matter."""
    return {"flavorid": row.flavorid, "name": row.name, "vcpus": row.vcpus,
            "memory_mb": row.memory_mb, "root_gb": row.root_gb,
            "ephemeral_gb": row.ephemeral_gb, "swap": row.swap,
            "rxtx_factor": row.rxtx_factor, "extra_specs": row.extra_specs or {}}
