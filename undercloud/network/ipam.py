"""Addresses: allocation pools, free-address picking, EUI-64, and the fixed IPs of ports.

A port's address is an IPAllocation row, unique per (subnet, ip_address): that index is the
guard against two concurrent creates taking one address. Each insert runs in a savepoint, so
on a collision the next free address is tried (a bounded number of times). Picking an address
reads the subnet's allocations once and walks its pools in order.
"""
import ipaddress

import peewee

from undercloud import db
from undercloud.common.errors import BadRequest, Conflict
from undercloud.network import faults
from undercloud.network.models import IPAllocation, Subnet

AUTO_ADDRESS_MODES = ("slaac", "dhcpv6-stateless")
# Router interfaces take a subnet's gateway and never an EUI-64 address (Neutron's list).
ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:ha_router_replicated_interface",
                           "network:router_interface_distributed", "network:router_centralized_snat")
# Collisions with concurrent creates before giving up (each retry takes the next address).
MAX_ATTEMPTS = 32


# ---- subnets' address plans ------------------------------------------------------------------

def network_of(cidr: str):
    return ipaddress.ip_network(cidr, strict=False)


def is_auto_address(subnet) -> bool:
    """SLAAC and DHCPv6-stateless subnets: a port's address comes from its MAC (EUI-64)."""
    return subnet.ip_version == 6 and subnet.ipv6_address_mode in AUTO_ADDRESS_MODES


def eui64(cidr: str, mac: str) -> str:
    """The IPv6 address SLAAC gives MAC on the prefix (RFC 4291 modified EUI-64)."""
    octets = [int(part, 16) for part in mac.split(":")]
    interface = int.from_bytes(bytes(octets[:3] + [0xFF, 0xFE] + octets[3:]), "big")
    prefix = network_of(cidr)
    return str(ipaddress.IPv6Address((int(prefix.network_address) + interface) ^ (1 << 57)))


def default_pools(cidr: str, gateway_ip: str | None) -> list[dict]:
    """The whole subnet but its network address (and IPv4 broadcast) and the gateway."""
    network = network_of(cidr)
    first, last = int(network.network_address), int(network.broadcast_address)
    if first == last:
        return [{"start": str(network.network_address), "end": str(network.network_address)}]
    start, end = first + 1, last - (1 if network.version == 4 else 0)
    if start >= end:
        return []
    ranges = [(start, end)]
    if gateway_ip:
        gateway = int(ipaddress.ip_address(gateway_ip))
        ranges = [(a, b) for lo, hi in ranges
                  for a, b in ((lo, min(hi, gateway - 1)), (max(lo, gateway + 1), hi)) if a <= b]
    make = type(network.network_address)
    return [{"start": str(make(a)), "end": str(make(b))} for a, b in ranges]


def pool_ranges(pools: list[dict]) -> list[tuple[int, int]]:
    return [(int(ipaddress.ip_address(p["start"])), int(ipaddress.ip_address(p["end"])))
            for p in pools]


def check_pools(pools: list[dict], cidr: str, gateway_ip: str | None):
    """400 unless each pool lies in the subnet, none overlap, and none holds the gateway."""
    network = network_of(cidr)
    ranges = []
    for pool in pools:
        try:
            start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
        except (KeyError, TypeError, ValueError):
            raise faults.invalid_input(f"Invalid allocation pool {pool}: it needs a 'start' "
                                       "and an 'end' IP address.") from None
        if start.version != network.version or end.version != network.version:
            raise BadRequest(f"The allocation pool {start}-{end} spans beyond the subnet "
                             f"cidr {cidr}.", type="OutOfBoundsAllocationPool")
        if start > end:
            raise BadRequest(f"The allocation pool {start}-{end} is not valid: its start "
                             "comes after its end.", type="InvalidAllocationPool")
        if start not in network or end not in network:
            raise BadRequest(f"The allocation pool {start}-{end} spans beyond the subnet "
                             f"cidr {cidr}.", type="OutOfBoundsAllocationPool")
        ranges.append((int(start), int(end), f"{start}-{end}"))
    ranges.sort()
    for (_, end, name), (start, _, other) in zip(ranges, ranges[1:]):
        if start <= end:
            raise BadRequest(f"Found overlapping allocation pools: {name} and {other} "
                             f"for subnet {cidr}.", type="OverlappingAllocationPools")
    if gateway_ip:
        gateway = int(ipaddress.ip_address(gateway_ip))
        for start, end, name in ranges:
            if start <= gateway <= end:
                raise Conflict(f"Gateway ip {gateway_ip} conflicts with allocation pool "
                               f"{name}.", type="GatewayConflictWithAllocationPools")


def valid_for_subnet(subnet, ip_address: str, device_owner: str = "") -> bool:
    """Neutron's check_subnet_ip: inside the cidr, not its network (or IPv4 broadcast) address;
    IPv6's subnet-router anycast address is a router's to take."""
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return False
    network = network_of(subnet.cidr)
    if address.version != network.version or address not in network:
        return False
    if network.num_addresses <= 2 and network.version == 4:
        return True   # /31 and /32 use every address
    if network.version == 4:
        return address not in (network.network_address, network.broadcast_address)
    return address != network.network_address or device_owner in ROUTER_INTERFACE_OWNERS


# ---- allocation ------------------------------------------------------------------------------

def _taken(subnet) -> set[int]:
    query = IPAllocation.select(IPAllocation.ip_address).where(IPAllocation.subnet == subnet.id)
    return {int(ipaddress.ip_address(row.ip_address)) for row in query}


def _candidates(subnet):
    """Free addresses of the subnet's pools, lowest first."""
    taken = _taken(subnet)
    make = type(network_of(subnet.cidr).network_address)
    for start, end in sorted(pool_ranges(subnet.allocation_pools)):
        address = start
        while address <= end:
            if address not in taken:
                yield str(make(address))
            address += 1


def _insert(port, subnet, ip_address: str) -> bool:
    """One allocation in its own savepoint; False when the address was taken meanwhile."""
    try:
        with db.transaction():
            IPAllocation.create(port=port.id, subnet=subnet.id, network=subnet.network_id,
                                ip_address=ip_address)
        return True
    except peewee.IntegrityError as error:
        if db.unique_columns(error) != ("subnet_id", "ip_address"):
            raise
        return False


def allocate_specific(port, subnet, ip_address: str) -> str:
    address = str(ipaddress.ip_address(ip_address))
    if not _insert(port, subnet, address):
        raise Conflict(f"IP address {address} already allocated in subnet {subnet.id}",
                       type="IpAddressAlreadyAllocated")
    return address


def allocate_any(port, subnets: list) -> str | None:
    """The first free address of the first subnet that has one; None when all are full."""
    for subnet in subnets:
        attempts = 0
        for address in _candidates(subnet):
            if _insert(port, subnet, address):
                return address
            attempts += 1
            if attempts >= MAX_ATTEMPTS:
                break
    return None


def allocate_eui64(port, subnet) -> str:
    return allocate_specific(port, subnet, eui64(subnet.cidr, port.mac_address))


def exhausted(network_id: str) -> Conflict:
    return Conflict(f"No more IP addresses available on network {network_id}.",
                    type="IpAddressGenerationFailure")


def subnets_of(network_id: str) -> list:
    return list(Subnet.select().where(Subnet.network == network_id)
                .order_by(Subnet.created_at, Subnet.id))


def serving(subnets: list, device_owner: str) -> list:
    """Neutron's service subnets: those naming the port's device_owner, else the plain ones."""
    matching = [s for s in subnets if device_owner and device_owner in (s.service_types or [])]
    return matching or [s for s in subnets if not s.service_types]
