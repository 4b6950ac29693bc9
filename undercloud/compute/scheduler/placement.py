"""Choose a host for one instance and claim its resources there, trying the next best host
when a racing scheduler took the room first."""
import logging

from undercloud.compute.scheduler import claims, filters, weighers
from undercloud.compute.scheduler.hoststate import HostState, Limits
from undercloud.compute.scheduler.request import Request

LOG = logging.getLogger(__name__)
NO_VALID_HOST = "No valid host was found. There are not enough hosts available."


def place(instance_id: str, request: Request, hosts: list[HostState], limits: Limits,
          max_attempts: int = 10) -> HostState | None:
    """The host now holding the instance's claim, or None when nothing fits."""
    # Weigh first, then filter lazily: the best hosts usually pass, so 1,000 hosts cost one
    # sort rather than nine checks each.
    candidates = (host for host in weighers.ordered(hosts, request)
                  if filters.accepts(host, request))
    for _, host in zip(range(max_attempts), candidates):
        if claims.claim(host.node_id, instance_id, request.vcpus, request.memory_mb,
                        request.disk_gb, limits):
            host.consume(request.vcpus, request.memory_mb, request.disk_gb)
            return host
        LOG.info("host %s filled up before instance %s could claim it; trying the next",
                 host.host, instance_id)
        # Another scheduler got there first: make this pass's view of the host full.
        host.consume(0, int(max(host.free_memory_mb, 0)) + 1, 0)
    return None
