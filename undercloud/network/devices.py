"""Linux device and namespace names, derived from ids so every host and restart agrees.

Linux allows 15 characters per device name: a 3-character prefix and 11 of the id fit.
"""
PREFIX_LENGTH = 11


def bridge(network_id: str) -> str:
    """The Linux bridge of a VXLAN (or local) network; flat/vlan ones use the mapped bridge."""
    return f"brq{network_id[:PREFIX_LENGTH]}"


def vxlan(vni: int) -> str:
    return f"vxlan-{vni}"


def vlan(interface: str, vlan_id: int) -> str:
    """The VLAN sub-interface of a physical NIC: its name cut to fit, then .<id>."""
    suffix = f".{vlan_id}"
    return interface[:15 - len(suffix)] + suffix


def tap(port_id: str) -> str:
    """The bridge side of a port: a guest's tap, or the outer end of a namespace's veth."""
    return f"tap{port_id[:PREFIX_LENGTH]}"


def dhcp_interface(port_id: str) -> str:
    return f"ns-{port_id[:PREFIX_LENGTH]}"


def router_interface(port_id: str) -> str:
    return f"qr-{port_id[:PREFIX_LENGTH]}"


def router_gateway(port_id: str) -> str:
    return f"qg-{port_id[:PREFIX_LENGTH]}"


def dhcp_namespace(network_id: str) -> str:
    return f"qdhcp-{network_id}"


def router_namespace(router_id: str) -> str:
    return f"qrouter-{router_id}"


# Every namespace and device Stackbox makes starts with one of these (cleanup finds them so).
NAMESPACE_PREFIXES = ("qdhcp-", "qrouter-")
DEVICE_PREFIXES = ("brq", "vxlan-", "tap", "ns-", "qr-", "qg-")
