"""The overcloud role catalogue: which services each role runs, and which roles cannot share
a host.

A service is named as its process is on the undercloud (see undercloud/services.py): an API
is "<service>-api"; the network agent is "network-agent:<mode>", one entry per mode
(dhcp, l3, metadata, l2), so a host's services are the plain union of its roles' services.

Exclusive roles: only control and compute. The control plane's database and APIs must not
compete with guests for memory, and a compute host is drained and replaced at will while a
controller is not. network+compute is allowed (like Neutron's DVR compute hosts), and so will
storage+compute be (TripleO's hyperconverged compute).
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    name: str
    services: tuple[str, ...]
    unavailable: str = ""   # why the role cannot be deployed yet; empty when it can


CATALOGUE: dict[str, Role] = {role.name: role for role in (
    Role("control", ("database", "bus", "identity-api", "image-api", "compute-api",
                     "metadata-api", "compute-conductor", "network-api", "network-server")),
    Role("network", ("network-agent:dhcp", "network-agent:l3", "network-agent:metadata",
                     "network-agent:l2")),
    Role("compute", ("libvirt", "compute-host", "network-agent:l2")),
    Role("storage", (), unavailable="it arrives with the volume and object services"),
)}

EXCLUSIVE: tuple[frozenset[str], ...] = (frozenset({"control", "compute"}),)


def services_for(role_names) -> tuple[str, ...]:
    """The union of the roles' services, in catalogue order."""
    services = []
    for role in CATALOGUE.values():
        if role.name in role_names:
            services += [service for service in role.services if service not in services]
    return tuple(services)


def exclusive_pair(role_names) -> tuple[str, str] | None:
    """The first two roles in `role_names` that cannot share a host, or None."""
    for pair in EXCLUSIVE:
        if pair <= set(role_names):
            first, second = sorted(pair)
            return first, second
    return None
