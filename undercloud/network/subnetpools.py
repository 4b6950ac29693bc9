"""Subnet pools: reading a pool request as Neutron does, and carving subnets out of a pool.

A pool's free space is its prefixes minus every subnet already taken from it; a subnet of a
given size comes from the smallest free block that holds it (Neutron's SubnetAllocator), so
big blocks stay whole for big requests.
"""
import ipaddress

from undercloud.common.errors import BadRequest, Conflict
from undercloud.network import faults
from undercloud.network.models import Subnet, SubnetPool

DEFAULT_MIN_PREFIXLEN = {4: 8, 6: 64}
MAX_PREFIXLEN = {4: 32, 6: 128}


def compact(prefixes: list[str]) -> tuple[int, list[str]]:
    """(ip_version, the prefixes merged and sorted); 400 for an empty or mixed list."""
    if not prefixes:
        raise BadRequest("Empty subnet pool prefix list.", type="EmptySubnetPoolPrefixList")
    try:
        networks = [ipaddress.ip_network(p, strict=False) for p in prefixes]
    except (TypeError, ValueError) as exc:
        raise faults.invalid_input(f"Invalid subnet pool prefix: {exc}") from None
    versions = {n.version for n in networks}
    if len(versions) > 1:
        raise BadRequest("Cannot mix IPv4 and IPv6 prefixes in a subnet pool.",
                         type="PrefixVersionMismatch")
    return versions.pop(), [str(n) for n in ipaddress.collapse_addresses(networks)]


def _bounds_error(kind, length, base_kind, base_length):
    return BadRequest(f"Illegal prefix bounds: {kind}={length}, {base_kind}={base_length}.",
                      type="IllegalSubnetPoolPrefixBounds")


def bounds(ip_version: int, minimum=None, maximum=None,
           default=None) -> tuple[int, int, int]:
    """(min, max, default) prefix lengths with Neutron's defaults and checks."""
    minimum = DEFAULT_MIN_PREFIXLEN[ip_version] if minimum is None else minimum
    maximum = MAX_PREFIXLEN[ip_version] if maximum is None else maximum
    default = minimum if default is None else default
    if minimum < 0:
        raise BadRequest(f"Unsupported minimum subnet pool prefix {minimum}.",
                         type="UnsupportedMinSubnetPoolPrefix")
    if minimum > maximum:
        raise _bounds_error("min_prefixlen", minimum, "max_prefixlen", maximum)
    if maximum > MAX_PREFIXLEN[ip_version]:
        raise _bounds_error("max_prefixlen", maximum, "ip_version_max",
                            MAX_PREFIXLEN[ip_version])
    if default < minimum:
        raise _bounds_error("default_prefixlen", default, "min_prefixlen", minimum)
    if default > maximum:
        raise _bounds_error("default_prefixlen", default, "max_prefixlen", maximum)
    return minimum, maximum, default


def _free_blocks(pool: SubnetPool) -> list:
    used = [ipaddress.ip_network(row.cidr) for row in
            Subnet.select(Subnet.cidr).where(Subnet.subnetpool == pool.id)]
    free = [ipaddress.ip_network(p) for p in pool.prefixes]
    for taken in used:
        remaining = []
        for block in free:
            if block.version != taken.version or not block.overlaps(taken):
                remaining.append(block)
            elif taken.subnet_of(block):
                remaining.extend(block.address_exclude(taken))
        free = remaining
    return sorted(free, key=lambda b: (-b.prefixlen, int(b.network_address)))


def _allocation_error(reason: str) -> Conflict:
    return Conflict(f"Failed to allocate subnet: {reason}", type="SubnetAllocationError")


def check_prefixlen(pool: SubnetPool, prefixlen: int):
    if prefixlen < pool.min_prefixlen:
        raise BadRequest(f"Unable to allocate subnet with prefix length {prefixlen}, minimum "
                         f"allowed prefix is {pool.min_prefixlen}.",
                         type="MinPrefixSubnetAllocationError")
    if prefixlen > pool.max_prefixlen:
        raise BadRequest(f"Unable to allocate subnet with prefix length {prefixlen}, maximum "
                         f"allowed prefix is {pool.max_prefixlen}.",
                         type="MaxPrefixSubnetAllocationError")


def allocate(pool: SubnetPool, cidr: str | None, prefixlen: int | None) -> str:
    """The cidr a new subnet of the pool gets: the asked one if free, else a free block."""
    if cidr:
        network = ipaddress.ip_network(cidr)
        check_prefixlen(pool, network.prefixlen)
        if not any(network.version == block.version and network.subnet_of(block)
                   for block in _free_blocks(pool)):
            raise _allocation_error("Cannot allocate requested subnet from the available set "
                                    "of prefixes")
        return str(network)
    prefixlen = pool.default_prefixlen if prefixlen is None else prefixlen
    check_prefixlen(pool, prefixlen)
    for block in _free_blocks(pool):
        if prefixlen >= block.prefixlen:
            return str(next(block.subnets(new_prefix=prefixlen)))
    raise _allocation_error(f"Insufficient prefix space to allocate subnet size /{prefixlen}")


def default_pool(ip_version: int) -> SubnetPool:
    pool = SubnetPool.get_or_none(SubnetPool.is_default == True,  # noqa: E712
                                  SubnetPool.ip_version == ip_version)
    if pool is None:
        raise faults.bad_request("subnets", f"No default subnetpool found for IPv{ip_version}")
    return pool
