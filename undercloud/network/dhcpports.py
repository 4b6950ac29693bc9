"""Each network's DHCP server port: one per network with a DHCP-enabled subnet, on a DHCP host.

Neutron's DHCP agent asks for this port when it takes a network; here the server makes it, so
the port (and its addresses, one per DHCP-enabled subnet) exists before any agent acts, and it
moves to another host when its agent dies.
"""
import logging
import threading

from undercloud import db
from undercloud.network import agents, ports
from undercloud.network.models import IPAllocation, Network, Port, Subnet

LOG = logging.getLogger(__name__)
# Concurrent syncs in this process must not make two servers for one network.
_LOCK = threading.Lock()


def _device_id(network_id: str) -> str:
    return f"dhcp-{network_id}"


def ensure(down_time: float) -> list[str]:
    """Create, move, re-address or remove DHCP ports; returns the networks changed."""
    with _LOCK:
        return _ensure(down_time)


def _ensure(down_time: float) -> list[str]:
    wanted = {}
    for subnet in Subnet.select(Subnet.id, Subnet.network).where(Subnet.enable_dhcp == True):  # noqa: E712
        wanted.setdefault(subnet.network_id, set()).add(subnet.id)
    existing = {p.network_id: p for p in Port.select().where(
        Port.device_owner == agents.DHCP_OWNER)}
    changed = []
    for network_id, port in existing.items():
        if network_id not in wanted:
            ports.delete_port(port)
            changed.append(network_id)
    for network_id, subnet_ids in wanted.items():
        host = agents.dhcp_host_for(network_id, down_time)
        port = existing.get(network_id)
        if host is None:
            continue
        if port is None:
            network = Network.get_or_none(Network.id == network_id)
            if network is None:
                continue
            try:
                ports.create_port(network, network.project_id, device_id=_device_id(network_id),
                                  device_owner=agents.DHCP_OWNER, binding_host_id=host,
                                  fixed_ips=[{"subnet_id": s} for s in sorted(subnet_ids)],
                                  security_group_ids=[])
            except Exception as exc:  # e.g. a full subnet: the network just has no DHCP
                LOG.warning("no DHCP port for network %s: %s", network_id, exc)
                continue
            LOG.info("DHCP server of network %s placed on %s", network_id, host)
            changed.append(network_id)
            continue
        if port.binding_host_id != host:
            with db.transaction():
                Port.update(binding_host_id=host, status="DOWN").where(Port.id == port.id) \
                    .execute()
            LOG.info("DHCP server of network %s moved to %s", network_id, host)
            changed.append(network_id)
        have = {a.subnet_id for a in IPAllocation.select(IPAllocation.subnet)
                .where(IPAllocation.port == port.id)}
        if have != subnet_ids:
            kept = [{"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                    for a in IPAllocation.select().where(IPAllocation.port == port.id)
                    if a.subnet_id in subnet_ids]
            added = [{"subnet_id": s} for s in sorted(subnet_ids - have)]
            try:
                ports.update_fixed_ips(port, kept + added)
            except Exception as exc:
                LOG.warning("DHCP port of network %s keeps its addresses: %s", network_id, exc)
                continue
            changed.append(network_id)
    return changed
