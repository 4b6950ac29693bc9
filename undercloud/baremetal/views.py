"""How nodes, ports, drivers and conductors look in Ironic's api-ref, microversion by microversion.

Secrets never leave here: driver_info shows each sealed key as "******", and keys that name a
password, secret or token are masked in every dict a node carries (driverinfo.py); so are the
config drive in instance_info and where it is published in driver_internal_info.
"""
import datetime

from flask import g

from undercloud.baremetal import configdrive, driverinfo, interfaces
from undercloud.baremetal.models import Node, Port
from undercloud.common.versions import base_url

# A node field -> the minor version that added it (Ironic's VERSIONED_FIELDS).
NODE_FIELD_VERSIONS = {
    "driver_internal_info": 3, "name": 5, "inspection_finished_at": 6,
    "inspection_started_at": 6, "clean_step": 7, "raid_config": 12, "target_raid_config": 12,
    "network_interface": 20, "resource_class": 21, "storage_interface": 33, "traits": 37,
    "rescue_interface": 38, "bios_interface": 40, "fault": 42, "deploy_step": 44,
    "conductor_group": 46, "automated_clean": 47, "protected": 48, "protected_reason": 48,
    "conductor": 49, "owner": 50, "description": 51, "allocation_uuid": 52, "retired": 61,
    "retired_reason": 61, "lessee": 65, "network_data": 66, "boot_mode": 75, "secure_boot": 75,
    "shard": 82, "parent_node": 83, "firmware_interface": 86, "service_step": 87,
    **{f"{kind}_interface": 31 for kind in ("boot", "console", "deploy", "inspect",
                                            "management", "power", "raid", "vendor")},
}
# A port field -> the minor version that added it.
PORT_FIELD_VERSIONS = {"internal_info": 18, "pxe_enabled": 19, "local_link_connection": 19,
                       "portgroup_uuid": 24, "physical_network": 34, "is_smartnic": 53,
                       "name": 88}
DEFAULT_NODE_FIELDS = ("instance_uuid", "maintenance", "power_state", "provision_state",
                       "uuid", "name")
DEFAULT_PORT_FIELDS = ("uuid", "address")


def minor() -> int:
    return g.api_version.minor


def allowed(field: str, versions: dict = NODE_FIELD_VERSIONS) -> bool:
    return minor() >= versions.get(field, 0)


def timestamp(value: datetime.datetime | None) -> str | None:
    """Ironic's ISO 8601 with microseconds and the UTC offset."""
    if value is None:
        return None
    return value.replace(tzinfo=datetime.timezone.utc).isoformat()


def links(collection: str, ident: str) -> list[dict]:
    return [{"href": f"{base_url()}/v1/{collection}/{ident}", "rel": "self"},
            {"href": f"{base_url()}/{collection}/{ident}", "rel": "bookmark"}]


def instance_info(node: Node) -> dict:
    return _hidden(driverinfo.mask(node.instance_info), "configdrive")


def driver_internal_info(node: Node) -> dict:
    return _hidden(driverinfo.mask(node.driver_internal_info), configdrive.PUBLISHED_NOTE)


def _hidden(shown: dict, key: str) -> dict:
    if shown.get(key):
        shown[key] = driverinfo.MASK
    return shown


def provision_state(state: str | None) -> str | None:
    """Older microversions' names: "available" was "None" before 1.2; inspect wait was
    "inspecting" before 1.39."""
    if state == "available" and minor() < 2:
        return None
    if state == "inspect wait" and minor() < 39:
        return "inspecting"
    return state


def node(config, row: Node, fields=None, conductor: str | None = None) -> dict:
    """A node document; `fields` keeps only those (plus links), as Ironic's ?fields=."""
    document = {
        "allocation_uuid": None,
        "automated_clean": row.automated_clean,
        "bios_interface": interfaces.FIXED["bios"],
        "boot_interface": row.boot_interface,
        "boot_mode": row.boot_mode,
        "chassis_uuid": None,
        "clean_step": row.clean_step or {},
        "conductor": conductor,
        "conductor_group": row.conductor_group,
        "console_enabled": row.console_enabled,
        "console_interface": interfaces.FIXED["console"],
        "created_at": timestamp(row.created_at),
        "deploy_interface": row.deploy_interface,
        "deploy_step": row.deploy_step or {},
        "description": row.description,
        "driver": row.driver,
        "driver_info": driverinfo.shown(config, row),
        "driver_internal_info": driver_internal_info(row),
        "extra": row.extra or {},
        "fault": row.fault,
        "firmware_interface": interfaces.FIXED["firmware"],
        "inspect_interface": row.inspect_interface,
        "inspection_finished_at": timestamp(row.inspection_finished_at),
        "inspection_started_at": timestamp(row.inspection_started_at),
        "instance_info": instance_info(row),
        "instance_uuid": row.instance_uuid,
        "last_error": row.last_error,
        "lessee": row.lessee,
        "links": links("nodes", row.id),
        "maintenance": row.maintenance,
        "maintenance_reason": row.maintenance_reason,
        "management_interface": row.management_interface,
        "name": row.name,
        "network_data": {},
        "network_interface": row.network_interface,
        "owner": row.owner,
        "parent_node": None,
        "power_interface": row.power_interface,
        "power_state": row.power_state,
        "properties": row.properties or {},
        "protected": row.protected,
        "protected_reason": row.protected_reason,
        "provision_state": provision_state(row.provision_state),
        "provision_updated_at": timestamp(row.provision_updated_at),
        "raid_config": {},
        "raid_interface": interfaces.FIXED["raid"],
        "rescue_interface": interfaces.FIXED["rescue"],
        "reservation": row.reservation,
        "resource_class": row.resource_class,
        "retired": row.retired,
        "retired_reason": row.retired_reason,
        "secure_boot": None,
        "service_step": {},
        "shard": None,
        "storage_interface": interfaces.FIXED["storage"],
        "target_power_state": row.target_power_state,
        "target_provision_state": row.target_provision_state,
        "target_raid_config": {},
        "traits": [],
        "updated_at": timestamp(row.updated_at),
        "uuid": row.id,
        "vendor_interface": interfaces.FIXED["vendor"],
    }
    if fields is None:
        document["ports"] = links("nodes", f"{row.id}/ports")
        if minor() >= 14:
            document["states"] = links("nodes", f"{row.id}/states")
    return _select(document, fields, NODE_FIELD_VERSIONS)


def node_states(row: Node) -> dict:
    states = {"console_enabled": row.console_enabled, "last_error": row.last_error,
              "power_state": row.power_state,
              "provision_state": provision_state(row.provision_state),
              "target_power_state": row.target_power_state,
              "target_provision_state": row.target_provision_state,
              "provision_updated_at": timestamp(row.provision_updated_at)}
    if minor() >= 12:
        states.update(raid_config={}, target_raid_config={})
    if minor() >= 75:
        states.update(boot_mode=row.boot_mode, secure_boot=None)
    return states


def port(row: Port, fields=None) -> dict:
    document = {
        "uuid": row.id,
        "address": row.address,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "extra": row.extra or {},
        "internal_info": {},
        "is_smartnic": row.is_smartnic,
        "local_link_connection": row.local_link_connection or {},
        "physical_network": row.physical_network,
        "pxe_enabled": row.pxe_enabled,
        "node_uuid": row.node_id,
        "name": row.name,
        "portgroup_uuid": None,
        "links": links("ports", row.id),
    }
    return _select(document, fields, PORT_FIELD_VERSIONS)


def _select(document: dict, fields, versions: dict) -> dict:
    for field in [f for f in document if not allowed(f, versions)]:
        del document[field]
    if fields is not None:
        document = {key: value for key, value in document.items()
                    if key in fields or key == "links"}
    return document


def driver(name: str, hosts: list[str], detail: bool = False) -> dict:
    document = {"name": name, "hosts": hosts, "links": links("drivers", name)}
    if minor() >= 14:
        document["properties"] = links("drivers", f"{name}/properties")
    if minor() >= 30:
        document["type"] = "dynamic"
        if detail:
            for kind, (default, enabled) in interfaces.driver_interfaces().items():
                if allowed(f"{kind}_interface"):
                    document[f"default_{kind}_interface"] = default
                    document[f"enabled_{kind}_interfaces"] = enabled
    return document


def conductor(row, alive: bool, detail: bool = False) -> dict:
    document = {"hostname": row.hostname, "conductor_group": row.conductor_group,
                "alive": alive}
    if detail:
        document.update(drivers=row.drivers or [], created_at=timestamp(row.created_at),
                        updated_at=timestamp(row.updated_at))
    document["links"] = links("conductors", row.hostname)
    return document


def collection(name: str, items: list[dict], next_href: str | None = None) -> dict:
    document = {name: items}
    if next_href:
        document["next"] = next_href
    return document
