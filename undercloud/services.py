"""The registry of the cloud's services: one entry per service folder.

Each entry names the service in the user's words, its catalog type, its
OpenStack default port, the module whose ``blueprint`` serves its API, the
error body shape its api-ref uses, and its manager processes (for slow work).
A planned service keeps its name and port (configs may list them) but nothing
serves it yet, so it is never started and never enters the catalog: clients
and tempest then skip it instead of failing on it.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Service:
    name: str                 # the folder under undercloud/ and the log file name
    catalog_type: str | None  # the service type in the identity catalog
    port: int                 # the OpenStack default port
    error_style: str          # which api-ref error body shape (see common/errors.py)
    version_path: str         # the path clients append to the endpoint
    # The manager processes: (process name, "module:Class"), e.g. a scheduler and a compute host.
    managers: tuple[tuple[str, str], ...] = ()
    api: str | None = None    # the API module, when it is not undercloud.<name>.api
    planned: bool = False     # named and given a port, but not built yet

    @property
    def api_module(self) -> str:
        return self.api or f"undercloud.{self.name}.api"


SERVICES: dict[str, Service] = {s.name: s for s in (
    Service("identity", "identity", 5000, "keystone", "/v3"),
    Service("image", "image", 9292, "glance", ""),
    Service("compute", "compute", 8774, "nova", "/v2.1", managers=(
        ("compute-conductor", "undercloud.compute.conductor:ComputeConductor"),
        ("compute-host", "undercloud.compute.manager:ComputeManager"))),
    # Guests' metadata API; not in the catalog (catalog_type None).
    Service("metadata", None, 8775, "nova", "", api="undercloud.compute.metadata"),
    Service("network", "network", 9696, "neutron", "", managers=(
        ("network-server", "undercloud.network.server:NetworkServer"),
        ("network-agent", "undercloud.network.agent:NetworkAgent"))),
    Service("volume", "block-storage", 8776, "nova", "/v3/%(project_id)s", planned=True),
    Service("object", "object-store", 8080, "swift", "/v1/AUTH_%(project_id)s", planned=True),
    Service("orchestration", "orchestration", 8004, "heat", "/v1/%(project_id)s",
            planned=True),
    Service("telemetry", "metric", 8777, "gnocchi", "", planned=True),
    Service("baremetal", "baremetal", 6385, "ironic", "", managers=(
        ("baremetal-conductor", "undercloud.baremetal.conductor:BaremetalConductor"),)),
)}


def enabled(names) -> list[Service]:
    """The services named that are built, in registry order (the order they start in)."""
    wanted = set(names)
    return [s for s in SERVICES.values() if s.name in wanted and not s.planned]
