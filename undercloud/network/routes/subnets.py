"""/v2.0/subnets: create (one or in bulk, from a cidr or a subnet pool), list, show, update,
delete."""
import ipaddress

from flask import Blueprint

from undercloud import db
from undercloud.network import (attributes, faults, ipam, listing, notify, policy, quotas,
                                subnetpools, subnets, views)
from undercloud.network.attributes import (Attribute, boolean, integer, ip_address, list_of,
                                           one_of, string, uuid_like)
from undercloud.network.models import Subnet, Tag
from undercloud.network.routes import config

blueprint = Blueprint("subnets", __name__)

SUBNET = {
    "name": Attribute(check=string()),
    "description": Attribute(check=string()),
    "network_id": Attribute(put=False, required=True, check=uuid_like()),
    "ip_version": Attribute(put=False, required=True, check=one_of(4, 6)),
    "cidr": Attribute(put=False, check=string(64)),
    "prefixlen": Attribute(put=False, check=integer(0, 128)),
    "subnetpool_id": Attribute(put=False, check=uuid_like(nullable=True)),
    "use_default_subnetpool": Attribute(put=False, check=boolean),
    "gateway_ip": Attribute(check=ip_address(nullable=True)),
    "allocation_pools": Attribute(check=list_of()),
    "dns_nameservers": Attribute(check=list_of()),
    "host_routes": Attribute(check=list_of()),
    "enable_dhcp": Attribute(check=boolean),
    "ipv6_ra_mode": Attribute(put=False, check=one_of(*subnets.IPV6_MODES, nullable=True)),
    "ipv6_address_mode": Attribute(put=False,
                                   check=one_of(*subnets.IPV6_MODES, nullable=True)),
    "service_types": Attribute(check=list_of(string(), unique=True)),
    "segment_id": Attribute(check=one_of(None, nullable=True)),
    "tags": Attribute(put=False, check=list_of(string(), unique=True)),
}


def render(rows: list) -> list[dict]:
    tags = views.tags_by_id("subnets", [row.id for row in rows])
    return [{**views.standard(subnet, tags[subnet.id]), "network_id": subnet.network_id,
             "ip_version": subnet.ip_version, "cidr": subnet.cidr,
             "gateway_ip": subnet.gateway_ip, "enable_dhcp": subnet.enable_dhcp,
             "allocation_pools": list(subnet.allocation_pools or []),
             "dns_nameservers": list(subnet.dns_nameservers or []),
             "host_routes": list(subnet.host_routes or []),
             "ipv6_ra_mode": subnet.ipv6_ra_mode, "ipv6_address_mode": subnet.ipv6_address_mode,
             "subnetpool_id": subnet.subnetpool_id,
             "service_types": list(subnet.service_types or []),
             "segment_id": subnet.segment_id} for subnet in rows]


SUBNETS = listing.Collection(Subnet, "subnets", filters={
    **listing.standard_filters(Subnet),
    "network_id": listing.exact(Subnet.network),
    "ip_version": listing.exact(Subnet.ip_version, listing.to_integer),
    "cidr": listing.exact(Subnet.cidr),
    "gateway_ip": listing.nullable(Subnet.gateway_ip),
    "enable_dhcp": listing.boolean(Subnet.enable_dhcp),
    "ipv6_ra_mode": listing.nullable(Subnet.ipv6_ra_mode),
    "ipv6_address_mode": listing.nullable(Subnet.ipv6_address_mode),
    "subnetpool_id": listing.nullable(Subnet.subnetpool),
    "segment_id": listing.nullable(Subnet.segment_id),
}, sort_keys={
    **listing.standard_sort_keys(Subnet),
    "network_id": Subnet.network, "ip_version": Subnet.ip_version, "cidr": Subnet.cidr,
    "gateway_ip": Subnet.gateway_ip, "enable_dhcp": Subnet.enable_dhcp,
    "ipv6_ra_mode": Subnet.ipv6_ra_mode, "ipv6_address_mode": Subnet.ipv6_address_mode,
    "subnetpool_id": Subnet.subnetpool,
})


def _normalized_pools(pools: list[dict]) -> list[dict]:
    return [{"start": str(ipaddress.ip_address(p["start"])),
             "end": str(ipaddress.ip_address(p["end"]))} for p in pools]


def _cidr(values: dict, ip_version: int):
    """(cidr, pool): from the request, or carved from the named or default subnet pool."""
    pool = None
    if values.get("subnetpool_id"):
        pool = policy.find_subnetpool(values["subnetpool_id"])
    elif values.get("use_default_subnetpool"):
        pool = subnetpools.default_pool(ip_version)
    cidr = subnets.check_cidr(values["cidr"], ip_version) if values.get("cidr") else None
    if pool is None:
        if cidr is None:
            raise faults.bad_request("subnets", "a subnetpool must be specified in the absence "
                                                "of a cidr")
        if "prefixlen" in values:
            raise faults.invalid_input("prefixlen is only valid with a subnet pool")
        return cidr, None
    if pool.ip_version != ip_version:
        raise faults.invalid_input(f"Cannot allocate IPv{ip_version} subnet from IPv"
                                   f"{pool.ip_version} subnet pool")
    return subnetpools.allocate(pool, cidr, values.get("prefixlen")), pool


def _create(document: dict) -> tuple[Subnet, list[str]]:
    values = attributes.parse("subnet", SUBNET, document, creating=True)
    network = policy.find_network(values["network_id"])
    project_id = policy.project_for_create(values)
    policy.check_network_ownership(network, project_id)
    policy.enforce("create_subnet", {"project_id": project_id,
                                     "network_project_id": network.project_id})
    ip_version = values["ip_version"]
    cidr, pool = _cidr(values, ip_version)
    subnets.check_overlap(network.id, cidr)
    gateway = values["gateway_ip"] if "gateway_ip" in values else subnets.default_gateway(cidr)
    subnets.check_gateway(cidr, gateway)
    enable_dhcp = values.get("enable_dhcp", True)
    ra_mode, address_mode = values.get("ipv6_ra_mode"), values.get("ipv6_address_mode")
    subnets.check_ipv6_modes(ip_version, cidr, ra_mode, address_mode, enable_dhcp)
    if values.get("allocation_pools"):
        ipam.check_pools(values["allocation_pools"], cidr, gateway)
        pools = _normalized_pools(values["allocation_pools"])
    else:
        pools = ipam.default_pools(cidr, gateway)
    quotas.check(config(), project_id, "subnet")
    subnet = Subnet.create(
        network=network.id, project_id=project_id, name=values.get("name", ""),
        description=values.get("description", ""), ip_version=ip_version, cidr=cidr,
        gateway_ip=gateway, enable_dhcp=enable_dhcp, allocation_pools=pools,
        dns_nameservers=subnets.check_dns_nameservers(values.get("dns_nameservers", [])),
        host_routes=subnets.check_host_routes(values.get("host_routes", []), ip_version),
        ipv6_ra_mode=ra_mode, ipv6_address_mode=address_mode,
        subnetpool=pool.id if pool else None,
        service_types=values.get("service_types", []))
    for tag in values.get("tags", []):
        Tag.create(resource_type="subnets", resource_id=subnet.id, tag=tag)
    return subnet, subnets.add_automatic_addresses(subnet)


@blueprint.post("/v2.0/subnets")
def create_subnets():
    document = attributes.body("subnet", "subnets")
    items = document if isinstance(document, list) else [document]
    with db.transaction():
        results = [_create(item) for item in items]
    notify.changed(instance_ids=[i for _, changed in results for i in changed])
    created = [subnet for subnet, _ in results]
    if isinstance(document, list):
        return views.respond({"subnets": render(created)}, 201)
    return views.show("subnet", render(created)[0], 201)


@blueprint.get("/v2.0/subnets")
def list_subnets():
    query = listing.where(Subnet.select(), policy.visible_subnets())
    return listing.respond(SUBNETS, query, render)


@blueprint.get("/v2.0/subnets/<subnet_id>")
def show_subnet(subnet_id):
    return views.show("subnet", render([policy.find_subnet(subnet_id)])[0])


def _apply_update(subnet: Subnet, values: dict):
    if "gateway_ip" in values:
        subnets.check_gateway(subnet.cidr, values["gateway_ip"])
        subnet.gateway_ip = values["gateway_ip"]
    if "allocation_pools" in values:
        ipam.check_pools(values["allocation_pools"], subnet.cidr, subnet.gateway_ip)
        subnet.allocation_pools = _normalized_pools(values["allocation_pools"])
    elif "gateway_ip" in values:
        ipam.check_pools(subnet.allocation_pools, subnet.cidr, subnet.gateway_ip)
    if "dns_nameservers" in values:
        subnet.dns_nameservers = subnets.check_dns_nameservers(values["dns_nameservers"])
    if "host_routes" in values:
        subnet.host_routes = subnets.check_host_routes(values["host_routes"],
                                                       subnet.ip_version)
    if "enable_dhcp" in values:
        subnets.check_ipv6_modes(subnet.ip_version, subnet.cidr, subnet.ipv6_ra_mode,
                                 subnet.ipv6_address_mode, values["enable_dhcp"])
        subnet.enable_dhcp = values["enable_dhcp"]
    for name in ("name", "description", "service_types"):
        if name in values:
            setattr(subnet, name, values[name])


@blueprint.put("/v2.0/subnets/<subnet_id>")
def update_subnet(subnet_id):
    subnet = policy.find_subnet(subnet_id)
    policy.enforce("update_subnet", policy.target(subnet, subnet.network, kind="Subnet"))
    values = attributes.parse("subnet", SUBNET, attributes.body("subnet"), creating=False)
    with db.transaction():
        subnet = Subnet.get_by_id(subnet.id)
        _apply_update(subnet, values)
        subnet.revision_number += 1
        subnet.save()
    notify.changed()
    return views.show("subnet", render([subnet])[0])


@blueprint.delete("/v2.0/subnets/<subnet_id>")
def delete_subnet(subnet_id):
    subnet = policy.find_subnet(subnet_id)
    policy.enforce("delete_subnet", policy.target(subnet, subnet.network, kind="Subnet"))
    with db.transaction():
        if subnets.holders(subnet):
            raise faults.subnet_in_use(subnet.id)
        changed = subnets.release_addresses(subnet)
        Tag.delete().where(Tag.resource_type == "subnets", Tag.resource_id == subnet.id).execute()
        Subnet.delete().where(Subnet.id == subnet.id).execute()
    notify.changed(instance_ids=changed)
    return views.no_content()

