"""Security groups on guest taps, as Neutron's linuxbridge iptables firewall does them.

br_netfilter sends bridged traffic through iptables FORWARD, where `-m physdev` tells which tap
it enters or leaves by. One agent chain, hooked from FORWARD once, sends each protected port's
traffic to its ingress chain (to the guest) and egress chain (from the guest, after the
anti-spoofing chain); both RETURN what the port's groups allow and DROP the rest, and the
agent chain ACCEPTs what both let through. Every change is one iptables-restore --noflush
per family, touching only our own chains.
"""
import ipaddress
import logging
import socket
from dataclasses import dataclass, field

from pyroute2 import Conntrack
from pyroute2.netlink.exceptions import NetlinkError

from undercloud.network.devices import PREFIX_LENGTH
from undercloud.network.drivers import iptables

LOG = logging.getLogger(__name__)
ETHERTYPES = {4: "IPv4", 6: "IPv6"}
# Neutron's protocol names; iptables gets these as numbers, except those with port matches.
PROTOCOL_NUMBERS = {
    "ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "icmp": 1, "icmpv6": 58, "igmp": 2,
    "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44, "ipv6-icmp": 58, "ipv6-nonxt": 59,
    "ipv6-opts": 60, "ipv6-route": 43, "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132,
    "tcp": 6, "udp": 17, "udplite": 136, "vrrp": 112}
WITH_PORTS = {6: "tcp", 17: "udp", 132: "sctp", 33: "dccp"}
ICMP = {4: 1, 6: 58}
# ICMPv6 a guest must receive (MLD query, router advertisement, neighbour solicit/advert).
ICMPV6_INGRESS = (130, 134, 135, 136)
# ICMPv6 a guest may send from :: while it has no address (MLD report, RS, NS for DAD, MLDv2).
ICMPV6_UNSPECIFIED = (131, 133, 135, 143)


def chain_names(port_id: str) -> tuple[str, str, str]:
    """The port's ingress, egress and anti-spoofing chains."""
    short = port_id[:PREFIX_LENGTH]
    return f"sbx-i-{short}", f"sbx-o-{short}", f"sbx-s-{short}"


@dataclass
class RuleSet:
    """One family's chains (ours, in order) and rules (iptables-restore lines)."""
    chains: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    # Each protected port's own lines and addresses, to tell whose rules lost something.
    ports: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)

    def text(self, stale=(), hook: str | None = None, unhook: str | None = None) -> str:
        """The restore input; declaring a chain flushes it, so stale ones can then go."""
        lines = ["*filter"]
        if unhook:
            lines.append(f"-D FORWARD -j {unhook}")
        lines += [f":{chain} - [0:0]" for chain in list(self.chains) + sorted(stale)]
        if hook:
            lines.append(f"-I FORWARD 1 -j {hook}")
        lines += self.rules
        lines += [f"-X {chain}" for chain in sorted(stale)]
        lines.append("COMMIT")
        return "\n".join(lines) + "\n"


def _network(prefix: str, version: int) -> str | None:
    network = ipaddress.ip_network(prefix, strict=False)
    return str(network) if network.version == version else None


def _protocol(rule: dict, version: int) -> int | None:
    protocol = rule.get("protocol")
    if protocol in (None, "", "any"):
        return None
    number = int(protocol) if str(protocol).isdigit() else PROTOCOL_NUMBERS[protocol.lower()]
    return ICMP[version] if number in ICMP.values() else number


def _protocol_match(rule: dict, version: int) -> list[str]:
    number = _protocol(rule, version)
    if number is None:
        return []
    low, high = rule.get("port_range_min"), rule.get("port_range_max")
    if number == ICMP[version]:
        name, module, option = (("icmp", "icmp", "--icmp-type") if version == 4
                                else ("ipv6-icmp", "icmp6", "--icmpv6-type"))
        if low is None:
            return ["-p", name]
        icmp_type = str(low) if high is None else f"{low}/{high}"
        return ["-p", name, "-m", module, option, icmp_type]
    if number in WITH_PORTS:
        name = WITH_PORTS[number]
        low, high = low or 1, high or 65535
        if (low, high) == (1, 65535):
            return ["-p", name]
        return ["-p", name, "-m", name, "--dport", str(low) if low == high else f"{low}:{high}"]
    return ["-p", str(number)]


def rule_lines(chain: str, rule: dict, version: int, security_groups: dict) -> list[str]:
    """One security group rule as iptables lines in the port's chain ([] when it does not
    apply to this family, or its remote group has no members)."""
    if rule.get("ethertype", "IPv4") != ETHERTYPES[version]:
        return []
    side = "-s" if rule["direction"] == "ingress" else "-d"
    remotes = [None]
    if rule.get("remote_group_id"):
        group = security_groups.get(rule["remote_group_id"]) or {}
        members = (group.get("member_ips") or {}).get(ETHERTYPES[version], [])
        remotes = sorted({_network(ip, version) for ip in members} - {None})
    elif rule.get("remote_ip_prefix"):
        remote = _network(rule["remote_ip_prefix"], version)
        if remote is None:
            return []
        remotes = [None] if ipaddress.ip_network(remote).prefixlen == 0 else [remote]
    match = _protocol_match(rule, version)
    return [" ".join(["-A", chain] + ([side, remote] if remote else []) + match +
                     ["-j", "RETURN"]) for remote in remotes]


def _link_local(mac: str) -> str:
    """The port's IPv6 link-local address (EUI-64 from its MAC)."""
    octets = [int(part, 16) for part in mac.split(":")]
    octets[0] ^= 0x02
    eui = octets[:3] + [0xFF, 0xFE] + octets[3:]
    return str(ipaddress.IPv6Address(bytes([0xFE, 0x80] + [0] * 6 + eui)))


def _sources(port: dict, version: int) -> list[tuple[str, str]]:
    """(address or network, MAC) pairs the guest may send from."""
    mac = port["mac_address"]
    sources = [(ip["ip_address"], mac) for ip in port.get("fixed_ips") or []]
    if version == 6:
        sources.append((_link_local(mac), mac))
    sources += [(pair["ip_address"], pair.get("mac_address") or mac)
                for pair in port.get("allowed_address_pairs") or []]
    found = []
    for address, source_mac in sources:
        network = _network(address, version)
        if network and (network, source_mac) not in found:
            found.append((network, source_mac))
    return found


def _port_rules(port: dict, version: int, security_groups: dict) -> list[str]:
    ingress, egress, spoof = chain_names(port["id"])
    groups = [security_groups.get(group_id) or {"rules": []}
              for group_id in port.get("security_group_ids") or []]
    stateful = not groups or any(group.get("stateful", True) for group in groups)
    lines = []
    # Ingress: replies, DHCP answers and IPv6 neighbour discovery, then the groups' rules.
    if stateful:
        lines.append(f"-A {ingress} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN")
    if version == 4:
        lines.append(f"-A {ingress} -p udp -m udp --sport 67 --dport 68 -j RETURN")
    else:
        lines += [f"-A {ingress} -p ipv6-icmp -m icmp6 --icmpv6-type {icmp_type} -j RETURN"
                  for icmp_type in ICMPV6_INGRESS]
        lines.append(f"-A {ingress} -p udp -m udp --sport 547 --dport 546 -j RETURN")
    if stateful:
        lines.append(f"-A {ingress} -m conntrack --ctstate INVALID -j DROP")
    egress_rules = []
    for group in groups:
        for rule in group.get("rules") or []:
            chain = ingress if rule["direction"] == "ingress" else egress
            produced = rule_lines(chain, rule, version, security_groups)
            (lines if chain == ingress else egress_rules).extend(produced)
    lines.append(f"-A {ingress} -j DROP")
    # Egress: address discovery first, then only the port's own addresses, no DHCP or RA
    # service from guests, then the groups' rules.
    if version == 4:
        lines.append(f"-A {egress} -s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp "
                     f"--sport 68 --dport 67 -j RETURN")
    else:
        lines += [f"-A {egress} -s ::/128 -d ff02::/16 -p ipv6-icmp -m icmp6 "
                  f"--icmpv6-type {icmp_type} -j RETURN" for icmp_type in ICMPV6_UNSPECIFIED]
    lines.append(f"-A {egress} -j {spoof}")
    if version == 4:
        lines += [f"-A {egress} -p udp -m udp --sport 68 --dport 67 -j RETURN",
                  f"-A {egress} -p udp -m udp --sport 67 --dport 68 -j DROP"]
    else:
        lines += [f"-A {egress} -p ipv6-icmp -m icmp6 --icmpv6-type 134 -j DROP",
                  f"-A {egress} -p ipv6-icmp -j RETURN",
                  f"-A {egress} -p udp -m udp --sport 546 --dport 547 -j RETURN",
                  f"-A {egress} -p udp -m udp --sport 547 --dport 546 -j DROP"]
    if stateful:
        lines += [f"-A {egress} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
                  f"-A {egress} -m conntrack --ctstate INVALID -j DROP"]
    lines += egress_rules
    lines.append(f"-A {egress} -j DROP")
    lines += [f"-A {spoof} -s {source} -m mac --mac-source {mac} -j RETURN"
              for source, mac in _sources(port, version)]
    lines.append(f"-A {spoof} -j DROP")
    return lines


def build(version: int, top: str, ports: list[dict], security_groups: dict,
          bridges: list[str]) -> RuleSet:
    """The agent chain `top` and every guest port's chains for one IP family."""
    ruleset = RuleSet(chains=[top])
    port_rules = []
    for port in sorted(ports, key=lambda p: p["tap"]):
        tap = port["tap"]
        if not port.get("admin_state_up", True):
            ruleset.rules += [f"-A {top} -m physdev --physdev-out {tap} --physdev-is-bridged "
                              f"-j DROP",
                              f"-A {top} -m physdev --physdev-in {tap} --physdev-is-bridged "
                              f"-j DROP"]
            continue
        if not port.get("port_security_enabled", True):
            continue
        ingress, egress, spoof = chain_names(port["id"])
        ruleset.chains += [ingress, egress, spoof]
        ruleset.rules += [f"-A {top} -m physdev --physdev-out {tap} --physdev-is-bridged "
                          f"-j {ingress}",
                          f"-A {top} -m physdev --physdev-in {tap} --physdev-is-bridged "
                          f"-j {egress}"]
        lines = _port_rules(port, version, security_groups)
        ruleset.ports[port["id"]] = (set(lines), {ip["ip_address"] for ip in
                                                  port.get("fixed_ips") or []})
        port_rules += lines
    # What the ports' chains let through, and the DHCP and router ports' traffic.
    ruleset.rules += [f"-A {top} -o {bridge} -m physdev --physdev-is-bridged -j ACCEPT"
                      for bridge in sorted(set(bridges))]
    ruleset.rules += port_rules
    return ruleset


class Firewall:
    """Applies RuleSets to the host's iptables, recording our chains in the ledger."""

    def __init__(self, ledger, top_chain: str):
        self.ledger = ledger
        self.top = top_chain
        self._applied: dict[int, str] = {}
        self._ports: dict[int, dict] = {4: {}, 6: {}}

    def apply(self, ports: list[dict], security_groups: dict, bridges: list[str]) -> None:
        """The rules for these ports; with no ports and no bridges, not even our hook."""
        for version in (4, 6):
            ruleset = build(version, self.top, ports, security_groups, bridges) \
                if ports or bridges else None
            self._restore(version, ruleset)

    def clear(self) -> None:
        for version in (4, 6):
            self._restore(version, None)

    def _restore(self, version: int, ruleset: RuleSet | None) -> None:
        """Make the family's chains `ruleset` (None: none of ours, not even the hook)."""
        recorded = {name.split("/", 1)[1] for name in self.ledger.names("chains")
                    if name.startswith(f"ipv{version}/")}
        if ruleset is None and not recorded:
            return  # nothing of ours to remove; no need to read the tables
        saved = iptables.save(version)
        present = iptables.chains(saved)
        hooked = iptables.has_rule(saved, f"-A FORWARD -j {self.top}")
        ruleset = ruleset or RuleSet()
        wanted = set(ruleset.chains)
        stale = (recorded & present) - wanted
        text = ruleset.text()
        unchanged = text == self._applied.get(version) and wanted <= present and not stale
        if wanted and not (unchanged and hooked):
            self.ledger.add("chains", *[f"ipv{version}/{chain}" for chain in wanted])
            iptables.restore(version, ruleset.text(stale=stale,
                                                   hook=None if hooked else self.top))
            self._applied[version] = text
            LOG.info("firewall: IPv%d rules applied (%d chains, %d removed)", version,
                     len(wanted), len(stale))
            self._forget_flows(version, ruleset.ports)
        elif not wanted and (hooked or stale):
            iptables.restore(version, ruleset.text(stale=stale,
                                                   unhook=self.top if hooked else None))
            self._applied.pop(version, None)
            LOG.info("firewall: IPv%d chains removed (%d)", version, len(stale))
        self.ledger.discard("chains", *[f"ipv{version}/{chain}" for chain in recorded - wanted])

    def _forget_flows(self, version: int, ports: dict) -> None:
        """Ports whose rules lost something: their tracked connections are dropped, so each
        flow is judged again by the rules now in place (as Neutron does)."""
        before, self._ports[version] = self._ports[version], ports
        addresses = set()
        for port_id, (lines, port_addresses) in before.items():
            if lines - ports.get(port_id, (set(), set()))[0]:
                addresses |= port_addresses
        addresses = {a for a in addresses if ipaddress.ip_address(a).version == version}
        if addresses:
            forgotten = forget_flows(version, addresses)
            LOG.info("firewall: rules of %s narrowed; %d tracked connections dropped",
                     ", ".join(sorted(addresses)), forgotten)


def forget_flows(version: int, addresses: set[str]) -> int:
    """Delete this namespace's conntrack entries from or to any of `addresses`."""
    count = 0
    with Conntrack(nfgen_family=socket.AF_INET if version == 4 else socket.AF_INET6) as table:
        for entry in list(table.dump_entries()):
            if {entry.tuple_orig.saddr, entry.tuple_orig.daddr} & addresses:
                try:
                    table.delete(entry)
                    count += 1
                except NetlinkError:
                    pass  # it ended by itself meanwhile
    return count
