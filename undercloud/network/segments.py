"""A network's segment: provider:network_type, physical_network and segmentation_id, its MTU,
and the segment_key whose unique index keeps two networks off one VNI, VLAN or flat network.

Tenants get VXLAN with the lowest free VNI of vni_min..vni_max. Admins may ask for vxlan,
vlan (on a physical network in physical_mappings, a given id or one from vlan_ranges), flat
(one network per physical network) or local (on this host's bridge only).
"""
from dataclasses import dataclass

from undercloud.common.errors import Conflict, ServiceUnavailable
from undercloud.network import faults
from undercloud.network.models import Network

NETWORK_TYPES = ("vxlan", "vlan", "flat", "local")
VXLAN_OVERHEAD = 50
VNI_MAX = 2 ** 24 - 1
VLAN_MAX = 4094


@dataclass
class Segment:
    network_type: str
    physical_network: str | None
    segmentation_id: int | None
    mtu: int

    @property
    def key(self) -> str | None:
        """The unique segment_key; local networks share nothing, so they have none."""
        if self.network_type == "local":
            return None
        return f"{self.network_type}:{self.physical_network or ''}:{self.segmentation_id or ''}"


def _integer(value, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise faults.invalid_input(f"'{value}' is not an integer for {name}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise faults.invalid_input(f"'{value}' is not an integer for {name}") from None


def _used(prefix: str) -> set[int]:
    query = Network.select(Network.segmentation_id).where(Network.segment_key.startswith(prefix))
    return {row.segmentation_id for row in query if row.segmentation_id is not None}


def _lowest_free(low: int, high: int, used: set[int]) -> int | None:
    return next((number for number in range(low, high + 1) if number not in used), None)


def _no_segment_left():
    return ServiceUnavailable("Unable to create the network. No tenant network is available "
                              "for allocation.", type="NoNetworkAvailable")


def choose(config, network_type=None, physical_network=None, segmentation_id=None) -> Segment:
    """The segment a new network gets; 400 for a request that cannot be met, 409 when the
    asked segment is taken."""
    section = config["network"]
    network_type = network_type or "vxlan"
    if network_type not in NETWORK_TYPES:
        raise faults.invalid_input(f"network_type value '{network_type}' not supported; "
                                   f"use one of {', '.join(NETWORK_TYPES)}")
    segmentation_id = _integer(segmentation_id, "provider:segmentation_id")
    mtu = section["physical_mtu"]
    if network_type in ("vxlan", "local") and physical_network:
        raise faults.invalid_input(f"provider:physical_network specified for {network_type} "
                                   "network")
    if network_type == "local":
        if segmentation_id is not None:
            raise faults.invalid_input("provider:segmentation_id specified for local network")
        return Segment("local", None, None, mtu)
    if network_type == "vxlan":
        if segmentation_id is None:
            segmentation_id = _lowest_free(section["vni_min"], section["vni_max"],
                                           _used("vxlan:"))
            if segmentation_id is None:
                raise _no_segment_left()
        elif not 1 <= segmentation_id <= VNI_MAX:
            raise faults.invalid_input(f"provider:segmentation_id {segmentation_id} out of "
                                       f"range (1 through {VNI_MAX})")
        return Segment("vxlan", None, segmentation_id, mtu - VXLAN_OVERHEAD)
    mappings = section["physical_mappings"]
    if not physical_network:
        raise faults.invalid_input(f"provider:physical_network required for {network_type} "
                                   "provider network")
    if physical_network not in mappings:
        raise faults.invalid_input(f"physical_network '{physical_network}' unknown for "
                                   f"{network_type} provider network; known: "
                                   f"{', '.join(sorted(mappings)) or 'none'}")
    if network_type == "flat":
        if segmentation_id is not None:
            raise faults.invalid_input("provider:segmentation_id specified for flat network")
        return Segment("flat", physical_network, None, mtu)
    if segmentation_id is None:
        low, high = section["vlan_ranges"].get(physical_network, (None, None))
        if low is None:
            raise _no_segment_left()
        segmentation_id = _lowest_free(low, high, _used(f"vlan:{physical_network}:"))
        if segmentation_id is None:
            raise _no_segment_left()
    elif not 1 <= segmentation_id <= VLAN_MAX:
        raise faults.invalid_input(f"provider:segmentation_id {segmentation_id} out of range "
                                   f"(1 through {VLAN_MAX})")
    return Segment("vlan", physical_network, segmentation_id, mtu)


def in_use(segment: Segment) -> Conflict:
    """The 409 for a segment another network holds."""
    if segment.network_type == "flat":
        return Conflict(f"Unable to create the flat network. Physical network "
                        f"{segment.physical_network} is in use.", type="FlatNetworkInUse")
    if segment.network_type == "vlan":
        return Conflict(f"Unable to create the network. The VLAN {segment.segmentation_id} on "
                        f"physical network {segment.physical_network} is in use.",
                        type="VlanIdInUse")
    return Conflict(f"Unable to create the network. The tunnel ID {segment.segmentation_id} "
                    "is in use.", type="TunnelIdInUse")
