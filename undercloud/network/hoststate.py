"""The desired data plane of one host, computed from the DB (format: undercloud/network/rpcapi.py).

A host wires a network when something of it lives there: a guest port bound to the host, the
network's DHCP server, or an interface of a router the host runs. VXLAN peers are the other
hosts wiring the same network. Queries are per resource kind (not per row) so fifty networks
cost the same handful of queries as one.
"""
import ipaddress
from collections import defaultdict

from undercloud.network import agents, devices
from undercloud.network.models import (FloatingIP, IPAllocation, Network, Port,
                                       PortSecurityGroup, Router, SecurityGroup,
                                       SecurityGroupRule, Subnet)

ROUTER_INTERFACE_OWNERS = ("network:router_interface", "network:router_interface_distributed")
ROUTER_GATEWAY_OWNER = "network:router_gateway"
GUEST_OWNER_PREFIX = "compute:"


def _is_guest(port: Port) -> bool:
    return port.device_owner.startswith(GUEST_OWNER_PREFIX)


def _bridge(network: Network, mappings: dict) -> str:
    if network.network_type == "flat":
        return mappings.get(network.physical_network) or devices.bridge(network.id)
    return devices.bridge(network.id)


def _network(network: Network, mappings: dict, peers: list[str]) -> dict:
    return {"id": network.id, "network_type": network.network_type,
            "physical_network": network.physical_network,
            "segmentation_id": network.segmentation_id, "mtu": network.mtu,
            "bridge": _bridge(network, mappings),
            "vxlan_peers": sorted(peers) if network.network_type == "vxlan" else []}


def _subnet(subnet: Subnet) -> dict:
    return {"id": subnet.id, "cidr": subnet.cidr, "ip_version": subnet.ip_version,
            "gateway_ip": subnet.gateway_ip, "dns_nameservers": list(subnet.dns_nameservers),
            "host_routes": list(subnet.host_routes), "ipv6_ra_mode": subnet.ipv6_ra_mode,
            "ipv6_address_mode": subnet.ipv6_address_mode,
            "allocation_pools": list(subnet.allocation_pools), "enable_dhcp": subnet.enable_dhcp}


class _Facts:
    """Everything the state is made of, loaded once per call."""

    def __init__(self, host: str):
        self.host = host
        self.configurations = agents.host_configurations(host)
        self.mappings = dict(self.configurations.get("physical_mappings") or {})
        self.modes = agents.host_modes(host)
        self.routers = list(Router.select().where(Router.host == host)) \
            if "l3" in self.modes else []
        router_ids = [r.id for r in self.routers]
        # Ports that live here: guests bound here, DHCP servers placed here, our routers' ports.
        here = Port.select().where(
            (Port.binding_host_id == host)
            & (Port.device_owner.startswith(GUEST_OWNER_PREFIX)
               | (Port.device_owner == agents.DHCP_OWNER)))
        self.ports = list(here)
        if router_ids:
            self.ports += list(Port.select().where(Port.device_id.in_(router_ids)))
        network_ids = {p.network_id for p in self.ports}
        self.networks = {n.id: n for n in Network.select().where(Network.id.in_(network_ids))}
        self.subnets = {s.id: s for s in Subnet.select().where(Subnet.network.in_(network_ids))}
        self.fixed_ips = defaultdict(list)
        for allocation in IPAllocation.select().where(
                IPAllocation.port.in_([p.id for p in self.ports])):
            self.fixed_ips[allocation.port_id].append(allocation)

    def fixed_ips_of(self, port_id: str) -> list[dict]:
        return sorted(({"subnet_id": a.subnet_id, "ip_address": a.ip_address}
                       for a in self.fixed_ips[port_id]), key=lambda ip: ip["ip_address"])

    def peers(self) -> dict[str, list[str]]:
        """network id -> tunnel IPs of the other hosts wiring it."""
        vxlan = [n for n in self.networks.values() if n.network_type == "vxlan"]
        if not vxlan:
            return {}
        endpoints = agents.tunnel_ips()
        mine = endpoints.get(self.host)
        peers = defaultdict(set)
        for port in Port.select(Port.network, Port.binding_host_id).where(
                Port.network.in_([n.id for n in vxlan]), Port.binding_host_id != "",
                Port.binding_host_id != self.host):
            endpoint = endpoints.get(port.binding_host_id)
            if endpoint and endpoint != mine:
                peers[port.network_id].add(endpoint)
        return {network_id: sorted(ips) for network_id, ips in peers.items()}


def _security_groups(port_groups: dict[str, list[str]]) -> dict:
    """The groups the guests here use, with their rules and (for remote groups) members."""
    group_ids = {g for groups in port_groups.values() for g in groups}
    rules = defaultdict(list)
    remote_ids = set()
    for rule in SecurityGroupRule.select().where(
            SecurityGroupRule.security_group.in_(group_ids)).order_by(SecurityGroupRule.id):
        rules[rule.security_group_id].append({
            "id": rule.id, "direction": rule.direction, "ethertype": rule.ethertype,
            "protocol": rule.protocol, "port_range_min": rule.port_range_min,
            "port_range_max": rule.port_range_max, "remote_ip_prefix": rule.remote_ip_prefix,
            "remote_group_id": rule.remote_group_id})
        if rule.remote_group_id:
            remote_ids.add(rule.remote_group_id)
    members = {g: {"IPv4": set(), "IPv6": set()} for g in group_ids | remote_ids}
    member_ports = defaultdict(set)
    for row in PortSecurityGroup.select().where(
            PortSecurityGroup.security_group.in_(list(members))):
        member_ports[row.port_id].add(row.security_group_id)
    if member_ports:
        for allocation in IPAllocation.select().where(
                IPAllocation.port.in_(list(member_ports))):
            version = "IPv6" if ":" in allocation.ip_address else "IPv4"
            for group_id in member_ports[allocation.port_id]:
                members[group_id][version].add(allocation.ip_address)
        for port in Port.select(Port.id, Port.allowed_address_pairs).where(
                Port.id.in_(list(member_ports))):
            for pair in port.allowed_address_pairs or []:
                version = "IPv6" if ":" in pair["ip_address"] else "IPv4"
                for group_id in member_ports[port.id]:
                    members[group_id][version].add(pair["ip_address"])
    stateful = {g.id: g.stateful for g in SecurityGroup.select().where(
        SecurityGroup.id.in_(list(members)))}
    return {group_id: {"stateful": stateful.get(group_id, True),
                       "rules": rules.get(group_id, []),
                       "member_ips": {v: sorted(ips) for v, ips in members[group_id].items()}}
            for group_id in sorted(members)}


def _guest_ports(facts: _Facts) -> tuple[list[dict], dict]:
    guests = [p for p in facts.ports if _is_guest(p)]
    groups = defaultdict(list)
    for row in PortSecurityGroup.select().where(
            PortSecurityGroup.port.in_([p.id for p in guests])):
        groups[row.port_id].append(row.security_group_id)
    ports = []
    for port in sorted(guests, key=lambda p: p.id):
        network = facts.networks[port.network_id]
        ports.append({
            "id": port.id, "network_id": port.network_id, "mac_address": port.mac_address,
            "tap": devices.tap(port.id), "bridge": _bridge(network, facts.mappings),
            "admin_state_up": port.admin_state_up,
            "port_security_enabled": port.port_security_enabled,
            "security_group_ids": sorted(groups[port.id]),
            "fixed_ips": facts.fixed_ips_of(port.id),
            "allowed_address_pairs": list(port.allowed_address_pairs or [])})
    return ports, {p["id"]: p["security_group_ids"] for p in ports if p["port_security_enabled"]}


def _hostname(ip_address: str) -> str:
    # Neutron's default DHCP hostname: host-10-0-0-5 / host-fd00--5.
    return "host-" + ip_address.replace(".", "-").replace(":", "-")


def _dhcp(facts: _Facts, dns_domain: str) -> list[dict]:
    servers = [p for p in facts.ports if p.device_owner == agents.DHCP_OWNER]
    if not servers or "dhcp" not in facts.modes:
        return []
    network_ids = [p.network_id for p in servers]
    hosts = defaultdict(list)
    clients = {p.id: p for p in Port.select().where(Port.network.in_(network_ids),
                                                     Port.device_owner != agents.DHCP_OWNER)}
    for allocation in IPAllocation.select().where(IPAllocation.network.in_(network_ids),
                                                  IPAllocation.port.in_(list(clients))):
        port = clients[allocation.port_id]
        hosts[port.network_id].append({
            "port_id": port.id, "mac_address": port.mac_address,
            "ip_address": allocation.ip_address, "subnet_id": allocation.subnet_id,
            "hostname": _hostname(allocation.ip_address),
            "extra_dhcp_opts": list(port.extra_dhcp_opts or [])})
    result = []
    for server in sorted(servers, key=lambda p: p.network_id):
        network = facts.networks[server.network_id]
        subnets = sorted((s for s in facts.subnets.values() if s.network_id == network.id),
                         key=lambda s: s.id)
        result.append({
            "network_id": network.id, "bridge": _bridge(network, facts.mappings),
            "mtu": network.mtu, "dns_domain": dns_domain,
            "port": {"id": server.id, "mac_address": server.mac_address,
                     "tap": devices.tap(server.id), "fixed_ips": facts.fixed_ips_of(server.id)},
            "subnets": [_subnet(s) for s in subnets],
            "hosts": sorted(hosts[network.id], key=lambda h: (h["ip_address"], h["port_id"]))})
    return result


def _router_port(facts: _Facts, port: Port, with_gateway: bool) -> dict:
    network = facts.networks[port.network_id]
    fixed_ips = []
    for ip in facts.fixed_ips_of(port.id):
        subnet = facts.subnets[ip["subnet_id"]]
        entry = {**ip, "prefixlen": ipaddress.ip_network(subnet.cidr).prefixlen,
                 "cidr": subnet.cidr}
        if with_gateway:
            entry["gateway_ip"] = subnet.gateway_ip
        fixed_ips.append(entry)
    return {"port_id": port.id, "mac_address": port.mac_address, "tap": devices.tap(port.id),
            "bridge": _bridge(network, facts.mappings), "network_id": network.id,
            "mtu": network.mtu, "fixed_ips": fixed_ips}


def _routers(facts: _Facts) -> list[dict]:
    if not facts.routers:
        return []
    by_router = defaultdict(list)
    for port in facts.ports:
        if port.device_owner in ROUTER_INTERFACE_OWNERS:
            by_router[port.device_id].append(port)
    ports = {p.id: p for p in facts.ports}
    floating = defaultdict(list)
    for fip in FloatingIP.select().where(FloatingIP.router_id.in_([r.id for r in facts.routers]),
                                         FloatingIP.port_id.is_null(False)):
        floating[fip.router_id].append({
            "id": fip.id, "floating_ip_address": fip.floating_ip_address,
            "fixed_ip_address": fip.fixed_ip_address, "port_id": fip.port_id})
    result = []
    for router in sorted(facts.routers, key=lambda r: r.id):
        gateway = ports.get(router.gw_port_id) if router.gw_port_id else None
        result.append({
            "id": router.id, "admin_state_up": router.admin_state_up,
            "enable_snat": router.enable_snat, "routes": list(router.routes or []),
            "gateway": _router_port(facts, gateway, True) if gateway else None,
            "interfaces": [_router_port(facts, p, False)
                           for p in sorted(by_router[router.id], key=lambda p: p.id)],
            "floating_ips": sorted(floating[router.id],
                                   key=lambda f: f["floating_ip_address"])})
    return result


def host_state(host: str, dns_domain: str = "openstacklocal") -> dict:
    facts = _Facts(host)
    peers = facts.peers()
    ports, port_groups = _guest_ports(facts)
    return {
        "host": host, "modes": sorted(facts.modes),
        "networks": [_network(n, facts.mappings, peers.get(n.id, []))
                     for n in sorted(facts.networks.values(), key=lambda n: n.id)],
        "ports": ports,
        "security_groups": _security_groups(port_groups),
        "dhcp": _dhcp(facts, dns_domain),
        "routers": _routers(facts),
    }
