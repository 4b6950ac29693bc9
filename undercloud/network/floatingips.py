"""Floating IPs: an address on an external network, and its association with a port.

The address is a port on the external network (device_owner network:floatingip, device_id the
floating IP, no project), so one IPAM hands it out. A port can take a floating IP when a
router joins the two: a gateway on the floating IP's network and an interface on the subnet
of the port's fixed IP (else 404 ExternalGatewayForFloatingIPNotFound, as in Neutron).
"""
import ipaddress
from dataclasses import dataclass

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict, NotFound
from undercloud.network import faults, ipam, ports
from undercloud.network.l3 import INTERFACE_OWNERS, ROUTER_GATEWAY
from undercloud.network.models import FloatingIP, IPAllocation, Network, Port, Tag, new_uuid

FLOATING_IP_OWNER = "network:floatingip"
COMPUTE_OWNER_PREFIX = "compute:"


@dataclass
class Association:
    port: Port
    fixed_ip_address: str
    router_id: str


def _bad(message: str) -> BadRequest:
    return faults.bad_request("floatingip", message)


def floating_network(network_id) -> Network:
    network = Network.get_or_none(Network.id == str(network_id))
    if network is None:
        raise faults.not_found("Network", network_id)
    if not network.external:
        raise _bad(f"Network {network.id} is not a valid external network")
    return network


def _is_ipv4(address: str) -> bool:
    return ipaddress.ip_address(address).version == 4


def _fixed_ip(port: Port, fixed_ip_address: str | None) -> dict:
    """The port's fixed IP the floating IP maps to (an IPv4 address, as Neutron's)."""
    fixed_ips = ports.port_fixed_ips(port)
    if fixed_ip_address:
        for fixed in fixed_ips:
            if ipaddress.ip_address(fixed["ip_address"]) == ipaddress.ip_address(
                    fixed_ip_address):
                if not _is_ipv4(fixed["ip_address"]):
                    raise _bad(f"Cannot process floating IP association with "
                               f"{fixed_ip_address}, since that is not an IPv4 address")
                return fixed
        raise _bad(f"Port {port.id} does not have fixed ip {fixed_ip_address}")
    ipv4 = [fixed for fixed in fixed_ips if _is_ipv4(fixed["ip_address"])]
    if not ipv4:
        raise _bad(f"Cannot add floating IP to port {port.id} that has no fixed IPv4 "
                   "addresses")
    if len(ipv4) > 1:
        raise _bad(f"Port {port.id} has multiple fixed IPv4 addresses. Must provide a "
                   "specific IPv4 address when assigning a floating IP")
    return ipv4[0]


def _router_between(network_id: str, subnet_id: str) -> str | None:
    """A router with a gateway on network_id and an interface on subnet_id."""
    on_subnet = Port.select(Port.device_id).join(
        IPAllocation, on=(IPAllocation.port == Port.id)).where(
        IPAllocation.subnet == subnet_id, Port.device_owner.in_(INTERFACE_OWNERS))
    gateway = Port.select(Port.device_id).where(
        Port.network == network_id, Port.device_owner == ROUTER_GATEWAY,
        Port.device_id.in_(on_subnet)).order_by(Port.created_at, Port.id).first()
    return gateway.device_id if gateway else None


def check_association(network: Network, port: Port, fixed_ip_address: str | None,
                      floating_ip: FloatingIP | None = None) -> Association:
    """Check that port (at fixed_ip_address) can take a floating IP on network."""
    fixed = _fixed_ip(port, fixed_ip_address)
    router_id = _router_between(network.id, fixed["subnet_id"])
    if router_id is None:
        raise NotFound(f"External network {network.id} is not reachable from subnet "
                       f"{fixed['subnet_id']}.  Therefore, cannot associate Port {port.id} "
                       "with a Floating IP.", type="ExternalGatewayForFloatingIPNotFound")
    taken = FloatingIP.select().where(
        FloatingIP.port_id == port.id, FloatingIP.fixed_ip_address == fixed["ip_address"],
        FloatingIP.floating_network == network.id)
    if floating_ip is not None:
        taken = taken.where(FloatingIP.id != floating_ip.id)
    other = taken.first()
    if other is not None:
        raise Conflict(f"Cannot associate floating IP {other.floating_ip_address} ({other.id}) "
                       f"with port {port.id} using fixed IP {fixed['ip_address']}, as that "
                       f"fixed IP already has a floating IP on external network {network.id}.",
                       type="FloatingIPPortAlreadyAssociated")
    return Association(port, fixed["ip_address"], router_id)


def _address_request(network: Network, subnet_id: str | None, address: str | None) -> list:
    """fixed_ips for the floating port: one IPv4 address of the network."""
    subnets = [s for s in ipam.subnets_of(network.id) if s.ip_version == 4]
    if subnet_id:
        subnets = [s for s in subnets if s.id == subnet_id]
        if not subnets:
            raise _bad(f"Subnet {subnet_id} is not an IPv4 subnet of network {network.id}")
    if not subnets:
        raise _bad(f"Network {network.id} does not contain any IPv4 subnet")
    if address:
        try:
            if not _is_ipv4(address):
                raise ValueError
        except ValueError:
            raise faults.invalid_input(f"'{address}' is not a valid IPv4 address") from None
        return [{"subnet_id": subnet_id, "ip_address": address} if subnet_id
                else {"ip_address": address}]
    return [{"subnet_id": subnets[0].id}]


def _status(associated: bool) -> str:
    # Neutron's floating IP is ACTIVE once it maps to a port through a router.
    return "ACTIVE" if associated else "DOWN"


def create(network: Network, project_id: str, *, subnet_id=None, floating_ip_address=None,
           association=None, description: str = "", tags=()) -> FloatingIP:
    fixed_ips = _address_request(network, subnet_id, floating_ip_address)
    floating_ip_id = new_uuid()
    with db.transaction():
        port = ports.create_port(network, "", fixed_ips=fixed_ips, device_id=floating_ip_id,
                                 device_owner=FLOATING_IP_OWNER)
        address = ports.port_fixed_ips(port)[0]["ip_address"]
        floating_ip = FloatingIP.create(
            id=floating_ip_id, project_id=project_id, description=description,
            floating_network=network.id, floating_port_id=port.id,
            floating_ip_address=address,
            port_id=association.port.id if association else None,
            fixed_ip_address=association.fixed_ip_address if association else None,
            router_id=association.router_id if association else None,
            status=_status(association is not None))
        for tag in tags:
            Tag.create(resource_type="floatingips", resource_id=floating_ip.id, tag=tag)
    return floating_ip


def associate(floating_ip: FloatingIP, association: Association | None) -> FloatingIP:
    """Point the floating IP at a port (or at nothing)."""
    floating_ip.port_id = association.port.id if association else None
    floating_ip.fixed_ip_address = association.fixed_ip_address if association else None
    floating_ip.router_id = association.router_id if association else None
    floating_ip.status = _status(association is not None)
    return floating_ip


def instance_ids(*port_ids) -> list[str]:
    """The instances whose addresses a floating IP change touches (compute ports only)."""
    ids = [port_id for port_id in port_ids if port_id]
    if not ids:
        return []
    return [port.device_id for port in Port.select(Port.device_id).where(
        Port.id.in_(ids), Port.device_owner.startswith(COMPUTE_OWNER_PREFIX))]


def delete(floating_ip: FloatingIP) -> None:
    with db.transaction():
        port = Port.get_or_none(Port.id == floating_ip.floating_port_id)
        Tag.delete().where(Tag.resource_type == "floatingips",
                           Tag.resource_id == floating_ip.id).execute()
        FloatingIP.delete().where(FloatingIP.id == floating_ip.id).execute()
        if port is not None:
            ports.delete_port(port)
