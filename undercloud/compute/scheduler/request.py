"""What one placement asks for, taken from the API's request_spec."""
import dataclasses
import math


@dataclasses.dataclass
class Request:
    vcpus: int
    memory_mb: int
    disk_gb: int
    availability_zone: str | None = None
    image_properties: dict = dataclasses.field(default_factory=dict)
    group_policy: str | None = None           # affinity, anti-affinity, soft-*
    group_hosts: set = dataclasses.field(default_factory=set)   # hosts the group already uses
    max_server_per_host: int | None = None
    group_host_counts: dict = dataclasses.field(default_factory=dict)
    force_host: str | None = None
    ignore_hosts: set = dataclasses.field(default_factory=set)

    @classmethod
    def from_spec(cls, spec: dict, flavor: dict | None = None) -> "Request":
        flavor = flavor or spec.get("flavor") or {}
        image = spec.get("image") or {}
        swap_gb = math.ceil((flavor.get("swap") or 0) / 1024)
        return cls(vcpus=int(flavor.get("vcpus") or 0),
                   memory_mb=int(flavor.get("memory_mb") or flavor.get("ram") or 0),
                   disk_gb=int(flavor.get("root_gb") or flavor.get("disk") or 0)
                   + int(flavor.get("ephemeral_gb") or 0) + swap_gb,
                   availability_zone=spec.get("availability_zone") or None,
                   image_properties=dict(image.get("properties") or {}),
                   force_host=spec.get("force_host") or None)
