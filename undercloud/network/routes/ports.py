"""/v2.0/ports: create (one or in bulk), list, show, update, delete. The work is ports.py's."""
import peewee
from flask import Blueprint

from undercloud import db
from undercloud.common.errors import Conflict
from undercloud.network import (attributes, faults, listing, notify, policy, ports, quotas,
                                subnets, views)
from undercloud.network.attributes import (Attribute, anything, boolean, dictionary, list_of,
                                           string, uuid_like)
from undercloud.network.models import (FloatingIP, IPAllocation, Port, PortSecurityGroup, Router,
                                       Tag)
from undercloud.network.routes import config

blueprint = Blueprint("ports", __name__)

PORT = {
    "name": Attribute(check=string()),
    "description": Attribute(check=string()),
    "network_id": Attribute(put=False, required=True, check=uuid_like()),
    "admin_state_up": Attribute(check=boolean),
    "mac_address": Attribute(check=string(32)),
    "fixed_ips": Attribute(check=list_of()),
    "device_id": Attribute(check=string()),
    "device_owner": Attribute(check=string()),
    "security_groups": Attribute(check=list_of(uuid_like(), unique=True)),
    "port_security_enabled": Attribute(check=boolean),
    "allowed_address_pairs": Attribute(check=list_of()),
    "extra_dhcp_opts": Attribute(check=list_of()),
    "binding:host_id": Attribute(check=string()),
    "binding:profile": Attribute(check=dictionary),
    "binding:vnic_type": Attribute(check=string(32)),
    "binding:vif_type": Attribute(post=False, put=False, check=anything),
    "binding:vif_details": Attribute(post=False, put=False, check=anything),
    "status": Attribute(post=False, put=False, check=anything),
    "tags": Attribute(put=False, check=list_of(string(), unique=True)),
}
# Ports that belong to a router or a floating IP go away with them, not through this API.
L3_OWNERS = {"network:router_interface": Router, "network:router_gateway": Router,
             "network:router_interface_distributed": Router,
             "network:ha_router_replicated_interface": Router,
             "network:floatingip": FloatingIP}


def render(rows: list) -> list[dict]:
    ids = [row.id for row in rows]
    tags, fixed_ips = views.tags_by_id("ports", ids), ports.fixed_ips_of(ids)
    groups = ports.security_group_ids_of(ids)
    binding = policy.allowed("get_port:binding")
    documents = []
    for port in rows:
        document = {**views.standard(port, tags[port.id]), "network_id": port.network_id,
                    "admin_state_up": port.admin_state_up, "status": port.status,
                    "mac_address": port.mac_address, "fixed_ips": fixed_ips.get(port.id, []),
                    "device_id": port.device_id, "device_owner": port.device_owner,
                    "allowed_address_pairs": [{"mac_address": port.mac_address, **pair}
                                              for pair in port.allowed_address_pairs or []],
                    "extra_dhcp_opts": list(port.extra_dhcp_opts or []),
                    "security_groups": groups.get(port.id, []),
                    "port_security_enabled": port.port_security_enabled,
                    "binding:vnic_type": port.binding_vnic_type}
        if binding:
            document.update({"binding:host_id": port.binding_host_id,
                             "binding:profile": port.binding_profile or {},
                             "binding:vif_type": port.binding_vif_type,
                             "binding:vif_details": port.binding_vif_details or {}})
        documents.append(document)
    return documents


def _fixed_ips_filter(values):
    """fixed_ips=ip_address=X / subnet_id=Y / ip_address_substr=Z: one address matching all."""
    wanted: dict[str, list[str]] = {}
    for value in values:
        key, _, item = value.partition("=")
        if key not in ("ip_address", "subnet_id", "ip_address_substr") or not item:
            raise faults.invalid_input(f"Invalid fixed_ips filter '{value}': use ip_address=, "
                                       "subnet_id= or ip_address_substr=")
        wanted.setdefault(key, []).append(item)
    query = IPAllocation.select(IPAllocation.port)
    if "ip_address" in wanted:
        query = query.where(IPAllocation.ip_address.in_(wanted["ip_address"]))
    if "subnet_id" in wanted:
        query = query.where(IPAllocation.subnet.in_(wanted["subnet_id"]))
    for substring in wanted.get("ip_address_substr", []):
        query = query.where(IPAllocation.ip_address.contains(substring))
    return Port.id.in_(query)


def _security_groups_filter(values):
    return Port.id.in_(PortSecurityGroup.select(PortSecurityGroup.port)
                       .where(PortSecurityGroup.security_group.in_(values)))


PORTS = listing.Collection(Port, "ports", filters={
    **listing.standard_filters(Port),
    "network_id": listing.exact(Port.network),
    "mac_address": listing.exact(Port.mac_address, str.lower),
    "admin_state_up": listing.boolean(Port.admin_state_up),
    "status": listing.exact(Port.status),
    "device_id": listing.exact(Port.device_id),
    "device_owner": listing.exact(Port.device_owner),
    "fixed_ips": _fixed_ips_filter,
    "security_groups": _security_groups_filter,
    "port_security_enabled": listing.boolean(Port.port_security_enabled),
    "binding:host_id": listing.exact(Port.binding_host_id),
    "binding:vnic_type": listing.exact(Port.binding_vnic_type),
}, sort_keys={
    **listing.standard_sort_keys(Port),
    "network_id": Port.network, "mac_address": Port.mac_address,
    "admin_state_up": Port.admin_state_up, "status": Port.status,
    "device_id": Port.device_id, "device_owner": Port.device_owner,
    "binding:host_id": Port.binding_host_id,
})


def _enforce_attributes(action: str, values: dict, target: dict):
    """Neutron's attribute rules: network-owned ports, MACs, fixed addresses, bindings."""
    if str(values.get("device_owner", "")).startswith(ports.NETWORK_OWNER_PREFIX):
        policy.enforce_attributes(action, {"device_owner:network": True}, target,
                                  ["device_owner:network"])
    if any(isinstance(f, dict) and "ip_address" in f for f in values.get("fixed_ips") or []):
        policy.enforce_attributes(action, {"fixed_ips:ip_address": True}, target,
                                  ["fixed_ips:ip_address"])
    policy.enforce_attributes(action, values, target,
                              ["mac_address", "port_security_enabled", "allowed_address_pairs",
                               "binding:host_id", "binding:profile"])


def _arguments(values: dict) -> dict:
    """ports.create_port/update_port keyword arguments from API attributes."""
    names = {"name": "name", "description": "description", "admin_state_up": "admin_state_up",
             "mac_address": "mac_address", "fixed_ips": "fixed_ips", "device_id": "device_id",
             "device_owner": "device_owner", "security_groups": "security_group_ids",
             "port_security_enabled": "port_security_enabled",
             "allowed_address_pairs": "allowed_address_pairs",
             "extra_dhcp_opts": "extra_dhcp_opts", "binding:host_id": "binding_host_id",
             "binding:profile": "binding_profile", "binding:vnic_type": "binding_vnic_type"}
    return {argument: values[name] for name, argument in names.items() if name in values}


def _create(document: dict) -> Port:
    values = attributes.parse("port", PORT, document, creating=True)
    network = policy.find_network(values["network_id"])
    project_id = policy.project_for_create(values)
    policy.check_network_ownership(network, project_id)
    target = {"project_id": project_id, "network_project_id": network.project_id}
    policy.enforce("create_port", target)
    _enforce_attributes("create_port", values, target)
    quotas.check(config(), project_id, "port")
    port = ports.create_port(network, project_id, **_arguments(values))
    for tag in values.get("tags", []):
        Tag.create(resource_type="ports", resource_id=port.id, tag=tag)
    return port


@blueprint.post("/v2.0/ports")
def create_ports():
    document = attributes.body("port", "ports")
    items = document if isinstance(document, list) else [document]
    with db.transaction():
        created = [_create(item) for item in items]
    notify.changed(instance_ids=subnets.instance_ids(created))
    if isinstance(document, list):
        return views.respond({"ports": render(created)}, 201)
    return views.show("port", render(created)[0], 201)


@blueprint.get("/v2.0/ports")
def list_ports():
    query = listing.where(Port.select(), policy.visible_ports())
    return listing.respond(PORTS, query, render)


@blueprint.get("/v2.0/ports/<port_id>")
def show_port(port_id):
    return views.show("port", render([policy.find_port(port_id)])[0])


@blueprint.put("/v2.0/ports/<port_id>")
def update_port(port_id):
    port = policy.find_port(port_id)
    target = policy.target(port, port.network, kind="Port")
    policy.enforce("update_port", target)
    values = attributes.parse("port", PORT, attributes.body("port"), creating=False)
    _enforce_attributes("update_port", values, target)
    before = port.device_id if port.device_owner.startswith(ports.COMPUTE_OWNER_PREFIX) else ""
    try:
        with db.transaction():
            port = ports.update_port(port, **_arguments(values))
    except peewee.IntegrityError as error:
        if db.unique_columns(error) == ("network_id", "mac_address"):
            raise Conflict(f"Unable to complete operation for network {port.network_id}. The "
                           f"mac address {values['mac_address']} is in use.",
                           type="MacAddressInUse") from None
        raise
    notify.changed(instance_ids=[before, *subnets.instance_ids([port])])
    return views.show("port", render([port])[0])


def _owned_by_l3(port: Port) -> bool:
    owner = L3_OWNERS.get(port.device_owner)
    return owner is not None and owner.select().where(owner.id == port.device_id).exists()


@blueprint.delete("/v2.0/ports/<port_id>")
def delete_port(port_id):
    port = policy.find_port(port_id)
    policy.enforce("delete_port", policy.target(port, port.network, kind="Port"))
    if _owned_by_l3(port):
        raise Conflict(f"Port {port.id} has owner {port.device_owner} and therefore cannot be "
                       "deleted directly via the port API.", type="L3PortInUse")
    ports.delete_port(port)
    notify.changed(instance_ids=subnets.instance_ids([port]))
    return views.no_content()
