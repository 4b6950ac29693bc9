"""Who may see and change what: Neutron's default rules and resource visibility.

As in Neutron, a resource the caller may not see answers 404 (NetworkNotFound, ...), and an
action on another project's resource that the caller may not take also answers 404 so its
existence is not given away; a caller refused on its own resource gets 403.
Which rows a caller sees is decided here in Python (and as query conditions for lists);
the rules decide the actions. Attribute rules are named "<action>:<attribute>".
"""
from flask import g

from undercloud.common.errors import BadRequest, NotFound
from undercloud.common.policy import Enforcer
from undercloud.network import faults
from undercloud.network.models import Network, Port, Subnet, SubnetPool

ADMIN_OR_OWNER = "rule:admin or (rule:member and rule:owner)"
ADMIN_OR_NETWORK_OWNER = "rule:admin or (rule:member and rule:network_owner)"
ADMIN_OR_EITHER_OWNER = "rule:admin or (rule:member and (rule:owner or rule:network_owner))"

RULES = {
    "admin": "role:admin",
    # Keystone's default roles imply each other: admin > member > reader.
    "reader": "role:reader or role:member or role:admin",
    "member": "role:member or role:admin",
    "owner": "project_id:%(project_id)s",
    "network_owner": "project_id:%(network_project_id)s",
    # networks
    "create_network": ADMIN_OR_OWNER,
    "create_network:shared": "rule:admin",
    "create_network:router:external": "rule:admin",
    "create_network:is_default": "rule:admin",
    "create_network:provider:network_type": "rule:admin",
    "create_network:provider:physical_network": "rule:admin",
    "create_network:provider:segmentation_id": "rule:admin",
    "update_network": ADMIN_OR_OWNER,
    "update_network:shared": "rule:admin",
    "update_network:router:external": "rule:admin",
    "update_network:is_default": "rule:admin",
    "update_network:provider:network_type": "rule:admin",
    "update_network:provider:physical_network": "rule:admin",
    "update_network:provider:segmentation_id": "rule:admin",
    "delete_network": ADMIN_OR_OWNER,
    "get_network:provider": "rule:admin",
    # subnets: the network's owner decides
    "create_subnet": ADMIN_OR_NETWORK_OWNER,
    "update_subnet": ADMIN_OR_NETWORK_OWNER,
    "delete_subnet": ADMIN_OR_NETWORK_OWNER,
    # subnet pools
    "create_subnetpool": ADMIN_OR_OWNER,
    "create_subnetpool:shared": "rule:admin",
    "create_subnetpool:is_default": "rule:admin",
    "update_subnetpool": ADMIN_OR_OWNER,
    "update_subnetpool:is_default": "rule:admin",
    "delete_subnetpool": ADMIN_OR_OWNER,
    # ports: anyone may plug into a network they see; addresses and MACs are the owner's
    "create_port": "rule:admin or rule:member",
    "create_port:device_owner:network": ADMIN_OR_NETWORK_OWNER,
    "create_port:mac_address": ADMIN_OR_NETWORK_OWNER,
    "create_port:fixed_ips:ip_address": ADMIN_OR_NETWORK_OWNER,
    "create_port:port_security_enabled": ADMIN_OR_EITHER_OWNER,
    "create_port:allowed_address_pairs": ADMIN_OR_NETWORK_OWNER,
    "create_port:binding:host_id": "rule:admin",
    "create_port:binding:profile": "rule:admin",
    "update_port": ADMIN_OR_EITHER_OWNER,
    "update_port:device_owner:network": ADMIN_OR_NETWORK_OWNER,
    "update_port:mac_address": "rule:admin",
    "update_port:fixed_ips:ip_address": ADMIN_OR_NETWORK_OWNER,
    "update_port:port_security_enabled": ADMIN_OR_EITHER_OWNER,
    "update_port:allowed_address_pairs": ADMIN_OR_NETWORK_OWNER,
    "update_port:binding:host_id": "rule:admin",
    "update_port:binding:profile": "rule:admin",
    "delete_port": ADMIN_OR_EITHER_OWNER,
    "get_port:binding": "rule:admin",
    # routers, floating IPs, security groups (routes of the L3 part)
    "create_router": ADMIN_OR_OWNER,
    "create_router:external_gateway_info:enable_snat": "rule:admin",
    "create_router:external_gateway_info:external_fixed_ips": "rule:admin",
    "update_router": ADMIN_OR_OWNER,
    "update_router:external_gateway_info:enable_snat": "rule:admin",
    "update_router:external_gateway_info:external_fixed_ips": "rule:admin",
    "delete_router": ADMIN_OR_OWNER,
    "add_router_interface": ADMIN_OR_OWNER,
    "remove_router_interface": ADMIN_OR_OWNER,
    "create_floatingip": ADMIN_OR_OWNER,
    "create_floatingip:floating_ip_address": "rule:admin",
    "update_floatingip": ADMIN_OR_OWNER,
    "delete_floatingip": ADMIN_OR_OWNER,
    "create_security_group": ADMIN_OR_OWNER,
    "update_security_group": ADMIN_OR_OWNER,
    "delete_security_group": ADMIN_OR_OWNER,
    "create_security_group_rule": ADMIN_OR_OWNER,
    "delete_security_group_rule": ADMIN_OR_OWNER,
    # quotas, agents, tags
    "get_quota": "rule:admin or (rule:reader and rule:owner)",
    "update_quota": "rule:admin",
    "delete_quota": "rule:admin",
    "get_agent": "rule:admin",
    "update_agent": "rule:admin",
    "delete_agent": "rule:admin",
    "update_tags": ADMIN_OR_OWNER,
}

ENFORCER = Enforcer(RULES)


def context():
    return g.context


def is_admin() -> bool:
    return context().is_admin


def allowed(action: str, target: dict | None = None) -> bool:
    return ENFORCER.allowed(action, context().credentials(), target or {})


def enforce(action: str, target: dict):
    """403 (PolicyNotAuthorized) on the caller's own resource, 404 on another project's."""
    if allowed(action, target):
        return
    owners = {target.get("project_id"), target.get("network_project_id")}
    if context().project_id not in owners and target.get("not_found") is not None:
        raise target["not_found"]
    raise faults.policy_not_authorized(action)


def enforce_attributes(action: str, body: dict, target: dict, attributes):
    """403 for each attribute in body whose "<action>:<attribute>" rule refuses the caller."""
    for attribute in attributes:
        if attribute in body and not allowed(f"{action}:{attribute}", target):
            raise faults.policy_not_authorized(f"{action}:{attribute}")


def target(resource, network: Network | None = None, kind: str | None = None) -> dict:
    """The values rules test, and the 404 to raise for another project's resource."""
    values = {"project_id": resource.project_id,
              "network_project_id": (network or resource).project_id}
    if kind:
        values["not_found"] = faults.not_found(kind, resource.id)
    return values


def project_for_create(body: dict) -> str:
    """The project a new resource belongs to: the caller's, or any project for an admin."""
    project_id, tenant_id = body.get("project_id"), body.get("tenant_id")
    if project_id and tenant_id and project_id != tenant_id:
        raise BadRequest("'project_id' and 'tenant_id' do not match")
    requested = project_id or tenant_id
    if requested and requested != context().project_id and not is_admin():
        raise BadRequest("Specifying 'project_id' or 'tenant_id' other than the authenticated "
                         "project in request requires admin privileges")
    return requested or context().project_id or ""


def check_network_ownership(network: Network, project_id: str):
    """Neutron's rule for new ports and subnets: on the project's own network or a shared one
    (404 otherwise, as if the network were missing), unless the caller is an admin."""
    if not is_admin() and not network.shared and network.project_id != project_id:
        raise NotFound("The resource could not be found.")


# ---- visibility ------------------------------------------------------------------------------

def network_visible(network: Network) -> bool:
    ctx = context()
    return (ctx.is_admin or network.project_id == ctx.project_id or network.shared
            or network.external)


def visible_networks():
    """A WHERE condition for the networks the caller sees (None: all of them)."""
    ctx = context()
    if ctx.is_admin:
        return None
    return (Network.project_id == ctx.project_id) | (Network.shared == True) \
        | (Network.external == True)  # noqa: E712


def subnet_visible(subnet: Subnet, network: Network) -> bool:
    ctx = context()
    return (ctx.is_admin or subnet.project_id == ctx.project_id
            or network.project_id == ctx.project_id or network.shared or network.external)


def visible_subnets():
    ctx = context()
    if ctx.is_admin:
        return None
    networks = Network.select(Network.id).where(visible_networks())
    return (Subnet.project_id == ctx.project_id) | Subnet.network.in_(networks)


def port_visible(port: Port, network: Network) -> bool:
    ctx = context()
    return ctx.is_admin or ctx.project_id in (port.project_id, network.project_id)


def visible_ports():
    ctx = context()
    if ctx.is_admin:
        return None
    owned = Network.select(Network.id).where(Network.project_id == ctx.project_id)
    return (Port.project_id == ctx.project_id) | Port.network.in_(owned)


def subnetpool_visible(pool: SubnetPool) -> bool:
    ctx = context()
    return ctx.is_admin or pool.project_id == ctx.project_id or pool.shared


def visible_subnetpools():
    ctx = context()
    if ctx.is_admin:
        return None
    return (SubnetPool.project_id == ctx.project_id) | (SubnetPool.shared == True)  # noqa: E712


def owned(model):
    """A WHERE condition for rows of the caller's project (None for an admin): routers, ..."""
    ctx = context()
    return None if ctx.is_admin else model.project_id == ctx.project_id


# ---- lookups: the row, or 404 when it is missing or hidden -----------------------------------

def find_network(network_id: str) -> Network:
    network = Network.get_or_none(Network.id == network_id)
    if network is None or not network_visible(network):
        raise faults.not_found("Network", network_id)
    return network


def find_subnet(subnet_id: str) -> Subnet:
    subnet = Subnet.get_or_none(Subnet.id == subnet_id)
    if subnet is None or not subnet_visible(subnet, subnet.network):
        raise faults.not_found("Subnet", subnet_id)
    return subnet


def find_port(port_id: str) -> Port:
    port = Port.get_or_none(Port.id == port_id)
    if port is None or not port_visible(port, port.network):
        raise faults.not_found("Port", port_id)
    return port


def find_subnetpool(pool_id: str) -> SubnetPool:
    pool = SubnetPool.get_or_none(SubnetPool.id == pool_id)
    if pool is None or not subnetpool_visible(pool):
        raise faults.not_found("Subnet pool", pool_id)
    return pool
