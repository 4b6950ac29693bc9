"""Host weighers: the best host first. Spread by free RAM (Nova's default RAMWeigher)."""
from undercloud.compute.scheduler.hoststate import HostState
from undercloud.compute.scheduler.request import Request


def ram_weight(host: HostState, request: Request) -> float:
    return host.free_memory_mb


def soft_affinity_weight(host: HostState, request: Request) -> float:
    """soft-affinity prefers the group's hosts, soft-anti-affinity avoids them."""
    count = request.group_host_counts.get(host.host, 0)
    if request.group_policy == "soft-affinity":
        return count
    if request.group_policy == "soft-anti-affinity":
        return -count
    return 0


def ordered(hosts: list[HostState], request: Request) -> list[HostState]:
    # Group preference first, then most free RAM; the host name breaks ties so runs repeat.
    return sorted(hosts, key=lambda host: (-soft_affinity_weight(host, request),
                                           -ram_weight(host, request), host.host))
