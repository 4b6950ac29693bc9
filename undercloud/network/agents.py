"""Agent rows: heartbeats from each host's agent, liveness, and where DHCP and routers run.

One host's agent reports once per mode, and each mode is a row in Neutron's terms (the
agents list shows "Linux bridge agent", "DHCP agent", ...). Placement is Neutron's simplest
scheduler: a network's DHCP server and a router each go to the alive agent of that kind
with the fewest, and move when their agent dies.
"""
import datetime

import peewee

from undercloud import db
from undercloud.network.models import Agent, Port, Router

# mode -> (agent_type, binary, topic), as Neutron names them.
KINDS = {
    "l2": ("Linux bridge agent", "neutron-linuxbridge-agent", "N/A"),
    "dhcp": ("DHCP agent", "neutron-dhcp-agent", "dhcp_agent"),
    "l3": ("L3 agent", "neutron-l3-agent", "l3_agent"),
    "metadata": ("Metadata agent", "neutron-metadata-agent", "N/A"),
}
MODE_OF_TYPE = {kind[0]: mode for mode, kind in KINDS.items()}
# Neutron gives an availability zone to the agents that host resources.
ZONED_MODES = ("dhcp", "l3")
DHCP_OWNER = "network:dhcp"


def report(host: str, modes: list[str], configurations: dict, zone: str = "nova") -> None:
    """Create or refresh the host's agent rows (a heartbeat)."""
    now = db.utcnow()
    for mode in modes:
        agent_type, binary, topic = KINDS[mode]
        with db.transaction():
            updated = Agent.update(heartbeat_timestamp=now, configurations=configurations,
                                   updated_at=now) \
                .where(Agent.agent_type == agent_type, Agent.host == host).execute()
            if updated:
                continue
            try:
                with db.transaction():
                    Agent.create(agent_type=agent_type, binary=binary, host=host, topic=topic,
                                 availability_zone=zone if mode in ZONED_MODES else None,
                                 configurations=configurations, started_at=now,
                                 heartbeat_timestamp=now)
            except peewee.IntegrityError:  # a concurrent first report made it
                pass


def alive_since(down_time: float) -> datetime.datetime:
    return db.utcnow() - datetime.timedelta(seconds=down_time)


def is_alive(agent: Agent, down_time: float) -> bool:
    return agent.heartbeat_timestamp >= alive_since(down_time)


def host_modes(host: str) -> set[str]:
    return {MODE_OF_TYPE[a.agent_type] for a in Agent.select(Agent.agent_type)
            .where(Agent.host == host) if a.agent_type in MODE_OF_TYPE}


def host_configurations(host: str) -> dict:
    """What the host's agent said about itself (physical_mappings, tunnel_ip, ...)."""
    agent = Agent.select().where(Agent.host == host).order_by(Agent.heartbeat_timestamp.desc()) \
        .first()
    return agent.configurations if agent else {}


def tunnel_ips() -> dict[str, str]:
    """host -> its VXLAN endpoint, from the L2 agents' reports."""
    return {a.host: (a.configurations or {}).get("tunnel_ip") or "127.0.0.1"
            for a in Agent.select().where(Agent.agent_type == KINDS["l2"][0])}


def alive_hosts(mode: str, down_time: float) -> list[str]:
    return [a.host for a in Agent.select(Agent.host).where(
        Agent.agent_type == KINDS[mode][0], Agent.admin_state_up == True,  # noqa: E712
        Agent.heartbeat_timestamp >= alive_since(down_time)).order_by(Agent.host)]


def _least_loaded(hosts: list[str], load: dict[str, int]) -> str:
    return min(hosts, key=lambda host: (load.get(host, 0), host))


def place_routers(down_time: float) -> list[str]:
    """Give routers without a live L3 agent one; returns the routers that moved."""
    hosts = alive_hosts("l3", down_time)
    if not hosts:
        return []
    load: dict[str, int] = {}
    for router in Router.select(Router.host).where(Router.host.in_(hosts)):
        load[router.host] = load.get(router.host, 0) + 1
    moved = []
    for router in Router.select().where(Router.host.is_null() | Router.host.not_in(hosts)):
        host = _least_loaded(hosts, load)
        with db.transaction():
            Router.update(host=host).where(Router.id == router.id).execute()
            # The router's own ports live where it runs.
            Port.update(binding_host_id=host).where(
                Port.device_id == router.id,
                Port.device_owner.in_(["network:router_interface", "network:router_gateway",
                                       "network:router_interface_distributed"])).execute()
        load[host] = load.get(host, 0) + 1
        moved.append(router.id)
    return moved


def dhcp_host_for(network_id: str, down_time: float) -> str | None:
    """Where the network's DHCP server should run: where it runs now if alive, else the
    least-loaded alive DHCP agent."""
    hosts = alive_hosts("dhcp", down_time)
    if not hosts:
        return None
    current = Port.select(Port.binding_host_id).where(
        Port.network == network_id, Port.device_owner == DHCP_OWNER).first()
    if current is not None and current.binding_host_id in hosts:
        return current.binding_host_id
    load: dict[str, int] = {}
    for port in Port.select(Port.binding_host_id).where(Port.device_owner == DHCP_OWNER):
        load[port.binding_host_id] = load.get(port.binding_host_id, 0) + 1
    return _least_loaded(hosts, load)
