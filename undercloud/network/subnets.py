"""A subnet's address plan as Neutron checks it: cidr, gateway, allocation pools, DNS servers,
host routes and the IPv6 modes; and what creating or removing a subnet does to ports."""
import ipaddress

from undercloud import db
from undercloud.common.errors import BadRequest
from undercloud.network import faults, ipam
from undercloud.network.models import IPAllocation, Port, Subnet

IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")
MAX_DNS_NAMESERVERS = 5
MAX_HOST_ROUTES = 20
# Ports whose addresses on a subnet do not keep the subnet from being deleted.
DELETED_WITH_SUBNET = ("network:dhcp",)


def check_cidr(cidr: str, ip_version: int) -> str:
    """The cidr, normalized; 400 for host bits, a version mismatch or a /0."""
    try:
        interface = ipaddress.ip_interface(cidr)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for cidr. Reason: '{cidr}' is not a valid IP "
                         "subnet.") from None
    network = interface.network
    if "/" not in str(cidr) or interface.ip != network.network_address:
        raise BadRequest(f"Invalid input for cidr. Reason: '{cidr}' isn't a recognized IP "
                         f"subnet cidr, '{network}' is recommended.")
    if network.version != ip_version:
        raise faults.invalid_input(f"Cidr {cidr} does not match ip_version {ip_version}")
    if network.prefixlen == 0:
        raise faults.invalid_input("0 is not allowed as CIDR prefix length")
    return str(network)


def default_gateway(cidr: str) -> str | None:
    network = ipaddress.ip_network(cidr)
    if network.num_addresses < 2:
        return None
    return str(network.network_address + 1)


def check_gateway(cidr: str, gateway_ip: str | None):
    if gateway_ip is None:
        return
    network = ipaddress.ip_network(cidr)
    gateway = ipaddress.ip_address(gateway_ip)
    if gateway.version != network.version:
        raise faults.invalid_input(f"Gateway IP version inconsistent with allocation pool "
                                   f"version: {gateway_ip} is not an IPv{network.version} "
                                   "address")
    if network.num_addresses > 2 and (gateway == network.network_address or (
            network.version == 4 and gateway == network.broadcast_address)):
        raise faults.invalid_input(f"Gateway is not valid on subnet: {gateway_ip} is the "
                                   f"network or broadcast address of {cidr}")


def check_dns_nameservers(nameservers: list) -> list[str]:
    if len(nameservers) > MAX_DNS_NAMESERVERS:
        raise BadRequest(f"Unable to complete operation for the subnet. The number of DNS "
                         f"nameservers exceeds the limit {MAX_DNS_NAMESERVERS}.",
                         type="DNSNameServersExhausted")
    checked = []
    for server in nameservers:
        try:
            address = str(ipaddress.ip_address(server))
        except (TypeError, ValueError):
            raise faults.invalid_input(f"'{server}' is not a valid nameserver") from None
        if address in checked:
            raise faults.invalid_input(f"Duplicate nameserver '{server}'")
        checked.append(address)
    return checked


def check_host_routes(routes: list, ip_version: int) -> list[dict]:
    if len(routes) > MAX_HOST_ROUTES:
        raise BadRequest(f"Unable to complete operation for the subnet. The number of host "
                         f"routes exceeds the limit {MAX_HOST_ROUTES}.",
                         type="HostRoutesExhausted")
    checked = []
    for route in routes:
        if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
            raise faults.invalid_input(f"Invalid host route {route}: it needs a 'destination' "
                                       "and a 'nexthop'")
        try:
            destination = ipaddress.ip_network(route["destination"], strict=False)
            nexthop = ipaddress.ip_address(route["nexthop"])
        except (TypeError, ValueError):
            raise faults.invalid_input(f"Invalid host route {route}: the destination must be "
                                       "a CIDR and the nexthop an IP address") from None
        if destination.version != ip_version or nexthop.version != ip_version:
            raise faults.invalid_input(f"Invalid host route {route}: its addresses must be "
                                       f"IPv{ip_version}")
        item = {"destination": str(destination), "nexthop": str(nexthop)}
        if item in checked:
            raise faults.invalid_input(f"Duplicate hostroute '{route}'")
        checked.append(item)
    return checked


def check_ipv6_modes(ip_version: int, cidr: str, ra_mode, address_mode, enable_dhcp: bool):
    """Neutron's valid combinations of ipv6_ra_mode and ipv6_address_mode."""
    if ra_mode is None and address_mode is None:
        return
    if ip_version != 6:
        mode = "ipv6_ra_mode" if ra_mode else "ipv6_address_mode"
        raise faults.invalid_input(f"{mode} set to '{ra_mode or address_mode}' with "
                                   f"ip_version set to '{ip_version}' is not valid. IPv6 "
                                   "attributes are only valid for IPv6 subnets.")
    if not enable_dhcp:
        raise faults.invalid_input("ipv6_ra_mode or ipv6_address_mode cannot be set when "
                                   "enable_dhcp is set to False.")
    if ra_mode and address_mode and ra_mode != address_mode:
        raise faults.invalid_input(f"ipv6_ra_mode set to '{ra_mode}' with "
                                   f"ipv6_address_mode set to '{address_mode}' is not valid. "
                                   "If both attributes are set, they must be the same value")
    if address_mode in ipam.AUTO_ADDRESS_MODES and ipaddress.ip_network(cidr).prefixlen != 64:
        raise faults.invalid_input(f"Invalid CIDR {cidr} for IPv6 address mode. OpenStack "
                                   "uses the EUI-64 address format, which requires the prefix "
                                   "to be /64")


def check_overlap(network_id: str, cidr: str, exclude: str | None = None):
    """400 when cidr overlaps another subnet of the network (tempest looks for the words)."""
    new = ipaddress.ip_network(cidr)
    for subnet in Subnet.select(Subnet.id, Subnet.cidr).where(Subnet.network == network_id):
        if subnet.id != exclude and new.overlaps(ipaddress.ip_network(subnet.cidr)):
            raise faults.invalid_input(f"Requested subnet with cidr: {cidr} for network: "
                                       f"{network_id} overlaps with another subnet")


def add_automatic_addresses(subnet: Subnet) -> list[str]:
    """A new SLAAC/DHCPv6-stateless subnet gives every non-router port its EUI-64 address;
    returns the instances whose ports changed."""
    if not ipam.is_auto_address(subnet):
        return []
    changed = []
    for port in Port.select().where(Port.network == subnet.network_id,
                                    Port.device_owner.not_in(ipam.ROUTER_INTERFACE_OWNERS)):
        ipam.allocate_eui64(port, subnet)
        changed.append(port)
    return instance_ids(changed)


def holders(subnet: Subnet) -> list:
    """Ports whose addresses keep the subnet in use (Neutron's SubnetInUse)."""
    query = (Port.select().join(IPAllocation, on=(IPAllocation.port == Port.id))
             .where(IPAllocation.subnet == subnet.id,
                    Port.device_owner.not_in(DELETED_WITH_SUBNET)))
    if ipam.is_auto_address(subnet):
        # Automatic addresses go with the subnet, except those of routers' interfaces.
        query = query.where(Port.device_owner.in_(ipam.ROUTER_INTERFACE_OWNERS))
    return list(query)


def release_addresses(subnet: Subnet) -> list[str]:
    """Drop every address left on the subnet; the instances whose ports had one."""
    with db.transaction():
        query = (Port.select(Port.device_id, Port.device_owner)
                 .join(IPAllocation, on=(IPAllocation.port == Port.id))
                 .where(IPAllocation.subnet == subnet.id))
        changed = list(query)
        IPAllocation.delete().where(IPAllocation.subnet == subnet.id).execute()
    return instance_ids(changed)


def instance_ids(ports) -> list[str]:
    """The instances among the ports' devices (compute must refresh their addresses)."""
    return [port.device_id for port in ports
            if port.device_id and port.device_owner.startswith("compute:")]
