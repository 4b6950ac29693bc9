"""Host filters: each says whether one host can take the request (Nova's filter names)."""
from undercloud.compute.scheduler.hoststate import HostState
from undercloud.compute.scheduler.request import Request

# Image property values Nova accepts for an x86 host, and libvirt's names for our hypervisor.
_ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "x86_64": "x86_64", "i386": "i686",
                 "i686": "i686", "arm64": "aarch64", "aarch64": "aarch64"}
_HYPERVISORS = {"QEMU": {"qemu", "kvm"}}


def compute_filter(host: HostState, request: Request) -> bool:
    """Enabled, not forced down, and reporting within service_down_time."""
    return host.up


def ram_filter(host: HostState, request: Request) -> bool:
    return host.free_memory_mb >= request.memory_mb


def core_filter(host: HostState, request: Request) -> bool:
    return host.free_vcpus >= request.vcpus


def disk_filter(host: HostState, request: Request) -> bool:
    return host.free_disk_gb >= request.disk_gb


def availability_zone_filter(host: HostState, request: Request) -> bool:
    return request.availability_zone is None or host.availability_zone == request.availability_zone


def image_properties_filter(host: HostState, request: Request) -> bool:
    """hw_architecture/architecture and img_hv_type/hypervisor_type must match the host."""
    properties = request.image_properties
    arch = properties.get("hw_architecture") or properties.get("architecture")
    if arch:
        wanted = _ARCH_ALIASES.get(str(arch).lower(), str(arch).lower())
        if wanted != _ARCH_ALIASES.get(host.cpu_arch.lower(), host.cpu_arch.lower()):
            return False
    hypervisor = properties.get("img_hv_type") or properties.get("hypervisor_type")
    if hypervisor:
        names = _HYPERVISORS.get(host.hypervisor_type.upper(), {host.hypervisor_type.lower()})
        if str(hypervisor).lower() not in names:
            return False
    return True


def server_group_filter(host: HostState, request: Request) -> bool:
    """Affinity: the group's host (if it has one); anti-affinity: a host the group is not on."""
    policy = request.group_policy
    if policy == "affinity":
        return not request.group_hosts or host.host in request.group_hosts
    if policy == "anti-affinity":
        limit = request.max_server_per_host or 1
        return request.group_host_counts.get(host.host, 0) < limit
    return True


def force_host_filter(host: HostState, request: Request) -> bool:
    return request.force_host is None or host.host == request.force_host


def ignore_hosts_filter(host: HostState, request: Request) -> bool:
    return host.host not in request.ignore_hosts


FILTERS = (compute_filter, ram_filter, core_filter, disk_filter, force_host_filter,
           ignore_hosts_filter, availability_zone_filter, image_properties_filter,
           server_group_filter)


def accepts(host: HostState, request: Request, filters=FILTERS) -> bool:
    for check in filters:
        if not check(host, request):
            return False
    return True


def passing(hosts: list[HostState], request: Request, filters=FILTERS) -> list[HostState]:
    return [host for host in hosts if accepts(host, request, filters)]
