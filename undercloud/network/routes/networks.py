"""/v2.0/networks: create (one or in bulk), list, show, update, delete."""
from collections import defaultdict

import peewee
from flask import Blueprint

from undercloud import db
from undercloud.common.errors import Conflict
from undercloud.network import (attributes, faults, floatingips, listing, notify, policy,
                                ports, quotas, segments, views)
from undercloud.network.attributes import Attribute, boolean, integer, list_of, string
from undercloud.network.models import FloatingIP, Network, Port, Subnet, Tag
from undercloud.network.routes import availability_zones, config

blueprint = Blueprint("networks", __name__)

PROVIDER = ("provider:network_type", "provider:physical_network", "provider:segmentation_id")
NETWORK = {
    "name": Attribute(check=string()),
    "description": Attribute(check=string()),
    "admin_state_up": Attribute(check=boolean),
    "shared": Attribute(check=boolean),
    "router:external": Attribute(check=boolean),
    "is_default": Attribute(check=boolean),
    "port_security_enabled": Attribute(check=boolean),
    "availability_zone_hints": Attribute(put=False, check=list_of(string(), unique=True)),
    "provider:network_type": Attribute(check=string(nullable=True)),
    "provider:physical_network": Attribute(check=string(64, nullable=True)),
    "provider:segmentation_id": Attribute(check=integer(nullable=True)),
    "mtu": Attribute(post=False, put=False),
    "tags": Attribute(put=False, check=list_of(string(), unique=True)),
}
ADMIN_ATTRIBUTES = ("shared", "router:external", "is_default", *PROVIDER)
DHCP_OWNER = "network:dhcp"
FLOATING_IP_OWNER = "network:floatingip"
# Ports that end with the network: its DHCP servers and floating IPs (Neutron deletes those).
NETWORK_OWNED = (DHCP_OWNER, FLOATING_IP_OWNER)


def _subnets_by_network(network_ids) -> dict[str, list[str]]:
    subnets = defaultdict(list)
    if network_ids:
        query = Subnet.select(Subnet.id, Subnet.network).where(
            Subnet.network.in_(list(network_ids))).order_by(Subnet.created_at, Subnet.id)
        for row in query:
            subnets[row.network_id].append(row.id)
    return subnets


def render(networks: list) -> list[dict]:
    ids = [network.id for network in networks]
    subnets, tags = _subnets_by_network(ids), views.tags_by_id("networks", ids)
    provider = policy.allowed("get_network:provider")
    documents = []
    for network in networks:
        document = {**views.standard(network, tags[network.id]),
                    "admin_state_up": network.admin_state_up, "status": network.status,
                    "subnets": subnets[network.id], "shared": network.shared,
                    "router:external": network.external, "is_default": network.is_default,
                    "mtu": network.mtu, "port_security_enabled": network.port_security_enabled,
                    "availability_zone_hints": list(network.availability_zone_hints or []),
                    "availability_zones": [availability_zones.DEFAULT_ZONE]}
        if provider:
            document.update({"provider:network_type": network.network_type,
                             "provider:physical_network": network.physical_network,
                             "provider:segmentation_id": network.segmentation_id})
        documents.append(document)
    return documents


def _by_subnet(values):
    return Network.id.in_(Subnet.select(Subnet.network).where(Subnet.id.in_(values)))


NETWORKS = listing.Collection(Network, "networks", filters={
    **listing.standard_filters(Network),
    "admin_state_up": listing.boolean(Network.admin_state_up),
    "status": listing.exact(Network.status),
    "shared": listing.boolean(Network.shared),
    "router:external": listing.boolean(Network.external),
    "is_default": listing.boolean(Network.is_default),
    "mtu": listing.exact(Network.mtu, listing.to_integer),
    "port_security_enabled": listing.boolean(Network.port_security_enabled),
    "provider:network_type": listing.exact(Network.network_type),
    "provider:physical_network": listing.exact(Network.physical_network),
    "provider:segmentation_id": listing.exact(Network.segmentation_id, listing.to_integer),
    "subnets": _by_subnet,
}, sort_keys={
    **listing.standard_sort_keys(Network),
    "admin_state_up": Network.admin_state_up, "status": Network.status,
    "shared": Network.shared, "router:external": Network.external, "mtu": Network.mtu,
    "provider:network_type": Network.network_type,
    "provider:physical_network": Network.physical_network,
    "provider:segmentation_id": Network.segmentation_id,
})


def _check_zones(hints: list[str]):
    known = availability_zones.known()
    for zone in hints:
        if zone not in known:
            raise faults.not_found("AvailabilityZone", zone)


def _insert(values: dict, project_id: str) -> Network:
    """The network row with its segment; 409 when an asked segment is taken."""
    asked_id = values.get("provider:segmentation_id") is not None or \
        values.get("provider:network_type") == "flat"
    for _ in range(3):
        segment = segments.choose(config(), values.get("provider:network_type"),
                                  values.get("provider:physical_network"),
                                  values.get("provider:segmentation_id"))
        try:
            with db.transaction():
                return Network.create(
                    project_id=project_id, name=values.get("name", ""),
                    description=values.get("description", ""),
                    admin_state_up=values.get("admin_state_up", True),
                    shared=values.get("shared", False),
                    external=values.get("router:external", False),
                    is_default=values.get("is_default", False),
                    port_security_enabled=values.get("port_security_enabled", True),
                    availability_zone_hints=values.get("availability_zone_hints", []),
                    network_type=segment.network_type,
                    physical_network=segment.physical_network,
                    segmentation_id=segment.segmentation_id, segment_key=segment.key,
                    mtu=segment.mtu)
        except peewee.IntegrityError:
            if asked_id:
                raise segments.in_use(segment) from None
    raise segments.in_use(segment)


def _create(document: dict) -> Network:
    values = attributes.parse("network", NETWORK, document, creating=True)
    project_id = policy.project_for_create(values)
    target = {"project_id": project_id, "network_project_id": project_id}
    policy.enforce("create_network", target)
    policy.enforce_attributes("create_network", values, target, ADMIN_ATTRIBUTES)
    _check_zones(values.get("availability_zone_hints", []))
    quotas.check(config(), project_id, "network")
    network = _insert(values, project_id)
    for tag in values.get("tags", []):
        Tag.create(resource_type="networks", resource_id=network.id, tag=tag)
    return network


@blueprint.post("/v2.0/networks")
def create_networks():
    document = attributes.body("network", "networks")
    with db.transaction():
        created = [_create(item) for item in
                   (document if isinstance(document, list) else [document])]
    notify.changed()
    if isinstance(document, list):
        return views.respond({"networks": render(created)}, 201)
    return views.show("network", render(created)[0], 201)


@blueprint.get("/v2.0/networks")
def list_networks():
    query = listing.where(Network.select(), policy.visible_networks())
    return listing.respond(NETWORKS, query, render)


@blueprint.get("/v2.0/networks/<network_id>")
def show_network(network_id):
    return views.show("network", render([policy.find_network(network_id)])[0])


def _check_sharing(network: Network, shared: bool):
    if network.shared and not shared and Port.select().where(
            Port.network == network.id, Port.project_id != network.project_id,
            ~Port.device_owner.startswith("network:")).exists():
        raise Conflict(f"Unable to reconfigure sharing settings for network {network.id}. "
                       "Multiple tenants are using it.", type="InvalidSharedSetting")


def _check_external(network: Network, external: bool):
    if network.external and not external and (
            FloatingIP.select().where(FloatingIP.floating_network == network.id).exists()
            or Port.select().where(Port.network == network.id,
                                   Port.device_owner == "network:router_gateway").exists()):
        raise Conflict(f"External network {network.id} cannot be updated to be made "
                       "non-external, since it has existing gateway ports.",
                       type="ExternalNetworkInUse")


def _check_provider(network: Network, values: dict):
    current = {"provider:network_type": network.network_type,
               "provider:physical_network": network.physical_network,
               "provider:segmentation_id": network.segmentation_id}
    changed = [name for name in PROVIDER if name in values and values[name] != current[name]]
    if changed:
        raise faults.invalid_input(f"Plugin does not support updating the following provider "
                                   f"network attributes: {', '.join(changed)}")


@blueprint.put("/v2.0/networks/<network_id>")
def update_network(network_id):
    network = policy.find_network(network_id)
    values = attributes.parse("network", NETWORK, attributes.body("network"), creating=False)
    target = policy.target(network, kind="Network")
    policy.enforce("update_network", target)
    policy.enforce_attributes("update_network", values, target, ADMIN_ATTRIBUTES)
    with db.transaction():
        network = Network.get_by_id(network.id)
        _check_provider(network, values)
        if "shared" in values:
            _check_sharing(network, values["shared"])
        if "router:external" in values:
            _check_external(network, values["router:external"])
        columns = {"name": "name", "description": "description",
                   "admin_state_up": "admin_state_up", "shared": "shared",
                   "router:external": "external", "is_default": "is_default",
                   "port_security_enabled": "port_security_enabled"}
        for attribute, column in columns.items():
            if attribute in values:
                setattr(network, column, values[attribute])
        network.revision_number += 1
        network.save()
    notify.changed()
    return views.show("network", render([network])[0])


@blueprint.delete("/v2.0/networks/<network_id>")
def delete_network(network_id):
    network = policy.find_network(network_id)
    policy.enforce("delete_network", policy.target(network, kind="Network"))
    notify.changed(instance_ids=delete(network))
    return views.no_content()


def delete(network: Network) -> list[str]:
    """The network with its subnets, DHCP ports and floating IPs; 409 NetworkInUse while other
    ports remain. Returns the instances that lose a floating IP."""
    with db.transaction():
        if Port.select().where(Port.network == network.id,
                               Port.device_owner.not_in(NETWORK_OWNED)).exists():
            raise faults.network_in_use(network.id)
        floating = list(FloatingIP.select().where(FloatingIP.floating_network == network.id))
        instance_ids = floatingips.instance_ids(*(f.port_id for f in floating if f.port_id))
        for floating_ip in floating:
            floatingips.delete(floating_ip)
        for port in Port.select().where(Port.network == network.id):
            ports.delete_port(port)
        subnet_ids = [row.id for row in Subnet.select(Subnet.id).where(
            Subnet.network == network.id)]
        Tag.delete().where(((Tag.resource_type == "subnets") & Tag.resource_id.in_(subnet_ids))
                           | ((Tag.resource_type == "networks")
                              & (Tag.resource_id == network.id))).execute()
        Subnet.delete().where(Subnet.network == network.id).execute()
        Network.delete().where(Network.id == network.id).execute()
    return instance_ids
