"""What the scheduler knows about one compute host: its capacity after allocation ratios and
reservations, and what claims already hold there."""
import dataclasses
import datetime

from undercloud.compute.models import ComputeNode, ServiceRecord
from undercloud.db import utcnow

COMPUTE_BINARY = "nova-compute"


@dataclasses.dataclass
class Limits:
    """Nova's allocation ratios and host reservations, from the "compute" config section."""
    cpu_ratio: float = 16.0
    ram_ratio: float = 1.5
    disk_ratio: float = 1.0
    reserved_memory_mb: int = 512
    reserved_disk_gb: int = 0
    reserved_cpus: int = 0

    @classmethod
    def from_config(cls, config) -> "Limits":
        section = config.get("compute") or {}
        return cls(cpu_ratio=section.get("cpu_allocation_ratio", 16.0),
                   ram_ratio=section.get("ram_allocation_ratio", 1.5),
                   disk_ratio=section.get("disk_allocation_ratio", 1.0),
                   reserved_memory_mb=section.get("reserved_host_memory_mb", 512),
                   reserved_disk_gb=(section.get("reserved_host_disk_mb", 0) + 1023) // 1024,
                   reserved_cpus=section.get("reserved_host_cpus", 0))


@dataclasses.dataclass
class HostState:
    node_id: str
    host: str
    hypervisor_hostname: str
    hypervisor_type: str
    cpu_arch: str
    availability_zone: str
    vcpus_total: float          # usable after ratio and reservation
    memory_mb_total: float
    disk_gb_total: float
    vcpus_used: int
    memory_mb_used: int
    disk_gb_used: int
    up: bool                    # enabled, not forced down, and reporting

    @property
    def free_memory_mb(self) -> float:
        return self.memory_mb_total - self.memory_mb_used

    @property
    def free_vcpus(self) -> float:
        return self.vcpus_total - self.vcpus_used

    @property
    def free_disk_gb(self) -> float:
        return self.disk_gb_total - self.disk_gb_used

    def consume(self, vcpus: int, memory_mb: int, disk_gb: int) -> None:
        """Account a claim just made, so later choices in the same pass see it."""
        self.vcpus_used += vcpus
        self.memory_mb_used += memory_mb
        self.disk_gb_used += disk_gb


_COLUMNS = (ComputeNode.id, ComputeNode.host, ComputeNode.hypervisor_hostname,
            ComputeNode.hypervisor_type, ComputeNode.cpu_arch, ComputeNode.availability_zone,
            ComputeNode.vcpus, ComputeNode.memory_mb, ComputeNode.local_gb,
            ComputeNode.vcpus_used, ComputeNode.memory_mb_used, ComputeNode.local_gb_used,
            ComputeNode.enabled, ComputeNode.forced_down, ComputeNode.heartbeat_at)


def load(limits: Limits, service_down_time: float, hosts: list[str] | None = None
         ) -> list[HostState]:
    """Every compute host's state in one query (tuples, so 1,000 hosts stay cheap)."""
    query = ComputeNode.select(*_COLUMNS)
    if hosts is not None:
        query = query.where(ComputeNode.host.in_(hosts))
    disabled = {host for (host,) in ServiceRecord.select(ServiceRecord.host).where(
        ServiceRecord.binary == COMPUTE_BINARY,
        (ServiceRecord.enabled == False) | (ServiceRecord.forced_down == True)).tuples()}  # noqa: E712
    oldest = utcnow() - datetime.timedelta(seconds=service_down_time)
    states = []
    # The raw cursor: peewee's per-column conversion would cost more than the scheduling.
    for (node_id, host, hypervisor_hostname, hypervisor_type, cpu_arch, zone, vcpus, memory_mb,
         local_gb, vcpus_used, memory_mb_used, local_gb_used, enabled, forced_down,
         heartbeat_at) in ComputeNode._meta.database.execute(query).fetchall():
        if isinstance(heartbeat_at, str):
            heartbeat_at = datetime.datetime.fromisoformat(heartbeat_at)
        up = bool(enabled) and not forced_down and host not in disabled and \
            heartbeat_at is not None and heartbeat_at >= oldest
        states.append(HostState(
            node_id=node_id, host=host, hypervisor_hostname=hypervisor_hostname,
            hypervisor_type=hypervisor_type, cpu_arch=cpu_arch, availability_zone=zone,
            vcpus_total=vcpus * limits.cpu_ratio - limits.reserved_cpus,
            memory_mb_total=memory_mb * limits.ram_ratio - limits.reserved_memory_mb,
            disk_gb_total=local_gb * limits.disk_ratio - limits.reserved_disk_gb,
            vcpus_used=vcpus_used, memory_mb_used=memory_mb_used, disk_gb_used=local_gb_used,
            up=up))
    return states
