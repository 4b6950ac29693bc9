"""A router is a namespace: qr- interfaces on tenant bridges, a qg- gateway on the external
bridge, forwarding on inside it only, routes, and NAT as Neutron's L3 agent writes it (SNAT of
internal subnets to the gateway address, DNAT/SNAT per floating IP, the metadata redirect).

`configure` runs inside the router's namespace (see namespaces.run_in); the iptables rules
are the whole of the namespace's tables, replaced atomically by one iptables-restore.
"""
import ipaddress
import logging

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from undercloud.network import devices
from undercloud.network.drivers import iptables
from undercloud.network.drivers.bridges import configure_interface
from undercloud.network.drivers.namespaces import write_sysctl

LOG = logging.getLogger(__name__)
METADATA_ADDRESS = "169.254.169.254"
EXTERNAL_MARK = "0x2/0xffff"   # packets that came in by the gateway (Neutron's mark)
RTPROT_STATIC = 4              # routes we add; the kernel's own (connected) ones are left alone


def _first_v4(fixed_ips):
    return next((ip for ip in fixed_ips if ipaddress.ip_address(ip["ip_address"]).version == 4),
                None)


def floating_ips(router: dict) -> list[dict]:
    """The router's floating IPs that are associated (and so need an address and NAT)."""
    if not router.get("gateway"):
        return []
    return [fip for fip in router.get("floating_ips") or [] if fip.get("fixed_ip_address")]


def rules_text(router: dict, metadata_port: int | None) -> str:
    """The namespace's filter, mangle and nat tables for iptables-restore."""
    gateway = router.get("gateway")
    qg = devices.router_gateway(gateway["port_id"]) if gateway else None
    gateway_v4 = _first_v4(gateway["fixed_ips"]) if gateway else None
    filters, mangle, nat = [], [], []
    if metadata_port:
        nat.append(f"-A PREROUTING -d {METADATA_ADDRESS}/32 -i qr-+ -p tcp -m tcp --dport 80 "
                   f"-j REDIRECT --to-ports {metadata_port}")
        if qg:
            filters.append(f"-A INPUT -i {qg} -p tcp -m tcp --dport {metadata_port} -j DROP")
    if qg:
        mangle.append(f"-A PREROUTING -i {qg} -j MARK --set-xmark {EXTERNAL_MARK}")
        for fip in floating_ips(router):
            nat += [f"-A PREROUTING -d {fip['floating_ip_address']}/32 "
                    f"-j DNAT --to-destination {fip['fixed_ip_address']}",
                    f"-A OUTPUT -d {fip['floating_ip_address']}/32 "
                    f"-j DNAT --to-destination {fip['fixed_ip_address']}"]
        # Between internal subnets nothing is translated.
        nat.append(f"-A POSTROUTING ! -o {qg} -m conntrack ! --ctstate DNAT -j ACCEPT")
        nat += [f"-A POSTROUTING -s {fip['fixed_ip_address']}/32 "
                f"-j SNAT --to-source {fip['floating_ip_address']}"
                for fip in floating_ips(router)]
        if router.get("enable_snat", True) and gateway_v4:
            address = gateway_v4["ip_address"]
            nat += [f"-A POSTROUTING -o {qg} -j SNAT --to-source {address}",
                    # A guest reaching another's floating IP from inside: replies come back here.
                    f"-A POSTROUTING -m mark ! --mark {EXTERNAL_MARK} -m conntrack "
                    f"--ctstate DNAT -j SNAT --to-source {address}"]
    tables = [("filter", ["INPUT", "FORWARD", "OUTPUT"], filters),
              ("mangle", ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"], mangle),
              ("nat", ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"], nat)]
    lines = []
    for table, chains, rules in tables:
        lines.append(f"*{table}")
        lines += [f":{chain} ACCEPT [0:0]" for chain in chains]
        lines += rules
        lines.append("COMMIT")
    return "\n".join(lines) + "\n"


def interfaces(router: dict) -> list[dict]:
    """Each veth of the router: {tap, name (inside), mac, mtu, bridge, addresses}."""
    found = []
    for port in router.get("interfaces") or []:
        found.append({"port_id": port["port_id"], "tap": port["tap"],
                      "name": devices.router_interface(port["port_id"]),
                      "mac": port["mac_address"], "mtu": port["mtu"], "bridge": port["bridge"],
                      "addresses": [f"{ip['ip_address']}/{ip['prefixlen']}"
                                    for ip in port["fixed_ips"]]})
    gateway = router.get("gateway")
    if gateway:
        addresses = [f"{ip['ip_address']}/{ip['prefixlen']}" for ip in gateway["fixed_ips"]]
        addresses += [f"{fip['floating_ip_address']}/32" for fip in floating_ips(router)]
        found.append({"port_id": gateway["port_id"], "tap": gateway["tap"],
                      "name": devices.router_gateway(gateway["port_id"]),
                      "mac": gateway["mac_address"], "mtu": gateway["mtu"],
                      "bridge": gateway["bridge"], "addresses": addresses})
    return found


def routes(router: dict) -> set[tuple[str, str]]:
    """(destination, next hop) pairs: the default route(s) by the gateway, then static ones."""
    wanted = set()
    gateway = router.get("gateway")
    for ip in (gateway or {}).get("fixed_ips") or []:
        if ip.get("gateway_ip"):
            default = "0.0.0.0/0" if ipaddress.ip_address(ip["gateway_ip"]).version == 4 \
                else "::/0"
            if default not in {destination for destination, _ in wanted}:
                wanted.add((default, ip["gateway_ip"]))
    for route in router.get("routes") or []:
        wanted.add((str(ipaddress.ip_network(route["destination"], strict=False)),
                    route["nexthop"]))
    return wanted


def configure(router: dict, rules: str, rules_changed: bool) -> list[str]:
    """Inside the router namespace: forwarding, interfaces, routes, rules. Returns the names
    of interfaces that are missing (their veths must be made again)."""
    forwarding = "1" if router.get("admin_state_up", True) else "0"
    write_sysctl("net.ipv4.ip_forward", forwarding)
    write_sysctl("net.ipv6.conf.all.forwarding", forwarding)
    missing = []
    with IPRoute() as ipr:
        for interface in interfaces(router):
            if not configure_interface(ipr, interface["name"], interface["addresses"],
                                       interface["mtu"], interface["mac"]):
                missing.append(interface["name"])
        if not missing:
            _set_routes(ipr, router)
    if rules_changed and not missing:
        iptables.restore(4, rules, noflush=False)
    return missing


def _set_routes(ipr, router: dict) -> None:
    wanted = routes(router)
    present = set()
    for family, default in ((2, "0.0.0.0"), (10, "::")):
        for route in ipr.route("dump", family=family, table=254, proto=RTPROT_STATIC):
            destination = f"{route.get('RTA_DST') or default}/{route['dst_len']}"
            present.add((destination, route.get("RTA_GATEWAY")))
    for destination, nexthop in sorted(present - wanted):
        LOG.info("router %s: removing route %s via %s", router["id"], destination, nexthop)
        ipr.route("del", dst=destination, gateway=nexthop, proto=RTPROT_STATIC)
    for destination, nexthop in sorted(wanted - present):
        LOG.info("router %s: route %s via %s", router["id"], destination, nexthop)
        try:
            ipr.route("replace", dst=destination, gateway=nexthop, proto=RTPROT_STATIC)
        except NetlinkError as exc:  # e.g. a next hop on no subnet of the router
            LOG.error("router %s: cannot route %s via %s: %s", router["id"], destination,
                      nexthop, exc)
