"""One dnsmasq per network, in the network's DHCP namespace, as Neutron's dnsmasq driver runs it.

Addresses come only from the hosts file (static mode), so a guest gets exactly its port's
address. A change of hosts or options rewrites the files and sends SIGHUP to that network's
dnsmasq alone (or restarts it, when per-port option tags are in play: see ensure); a change of
subnets (its command line) restarts it. Files live in
DATA_DIR/network/dhcp/<network>/; the pid file there is how a later agent finds it again.
"""
import ipaddress
import logging
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import time

from undercloud.common.files import read_if_exists, write_atomic
from undercloud.common.process import is_alive, terminate
from undercloud.host.dnsmasq import Paths, running_argv

LOG = logging.getLogger(__name__)
DNSMASQ = "/usr/sbin/dnsmasq"
LEASE_SECONDS = 86400
MAX_LEASES = 2 ** 24
DHCP_COOKIE = 0x63825363
DHCPRELEASE = 7
STOP_SECONDS = 5.0
# dnsmasq's DHCPv6/RA mode for a subnet's ipv6_address_mode.
IPV6_MODES = {"dhcpv6-stateful": "static", "dhcpv6-stateless": "ra-stateless",
              "slaac": "ra-only"}


class DhcpError(Exception):
    """dnsmasq would not start; the message has its own words."""


# ---- what dnsmasq is told -------------------------------------------------------------------


def served_subnets(entry: dict) -> list[dict]:
    return [subnet for subnet in entry["subnets"] if subnet.get("enable_dhcp", True)]


def _mode(subnet: dict) -> str | None:
    """dnsmasq's mode for the subnet's range; None: dnsmasq has nothing to do for it."""
    address_mode, ra_mode = subnet.get("ipv6_address_mode"), subnet.get("ipv6_ra_mode")
    if subnet["ip_version"] == 4 or (address_mode is None and ra_mode is None):
        return "static"  # Neutron's default for IPv6 subnets without modes
    if address_mode == "slaac" and ra_mode is None:
        return None      # addresses come from someone else's router advertisements
    return IPV6_MODES.get(address_mode)


def _hostname(host: dict) -> str:
    """A valid DNS label: the port's hostname, or host-<address> as Neutron names it."""
    name = re.sub(r"[^a-z0-9-]", "-", (host.get("hostname") or "").lower()).strip("-")[:63]
    if not name:
        name = "host-" + re.sub(r"[.:]", "-", host["ip_address"])
    return name


def _clean(value) -> str:
    """An option value for a one-line file: no line breaks."""
    return re.sub(r"[\r\n]", " ", str(value))


def argv(entry: dict, folder: str, interface: str, dns_domain: str,
         user: str | None = None) -> list[str]:
    """dnsmasq's command line for one network (its subnets; hosts and options are files)."""
    paths = Paths(folder)
    args = [DNSMASQ, "--conf-file=/dev/null", "--no-hosts", "--no-resolv", "--port=0",
            "--bind-interfaces", f"--interface={interface}", f"--pid-file={paths.pid}",
            f"--dhcp-hostsfile={paths.hosts}", f"--dhcp-optsfile={paths.opts}",
            f"--dhcp-leasefile={paths.leases}", f"--log-facility={paths.log}",
            f"--domain={entry.get('dns_domain') or dns_domain}"]
    if user:
        args.append(f"--user={user}")
    size, ra = 0, False
    for subnet in served_subnets(entry):
        mode = _mode(subnet)
        if mode is None:
            continue
        network = ipaddress.ip_network(subnet["cidr"])
        mask = str(network.netmask) if network.version == 4 else str(network.prefixlen)
        args.append(f"--dhcp-range=set:subnet-{subnet['id']},{network.network_address},"
                    f"{mode},{mask},{LEASE_SECONDS}s")
        size += network.num_addresses
        ra = ra or (network.version == 6 and subnet.get("ipv6_ra_mode") is not None)
    if any(subnet["ip_version"] == 4 for subnet in served_subnets(entry)):
        args.append("--dhcp-authoritative")
        if entry.get("mtu"):
            args.append(f"--dhcp-option-force=option:mtu,{entry['mtu']}")
    if ra:
        # Prefixes for SLAAC, but lifetime 0: the router, not this namespace, routes.
        args += ["--enable-ra", f"--ra-param={interface},600,0"]
    args.append(f"--dhcp-lease-max={min(max(size, 1), MAX_LEASES)}")
    return args


def hosts_text(entry: dict) -> str:
    """One line per port address on a DHCP subnet: MAC, the port's tag, name, address."""
    subnets = {subnet["id"]: subnet for subnet in served_subnets(entry)}
    lines = []
    for host in entry["hosts"]:
        subnet = subnets.get(host["subnet_id"])
        if subnet is None or _mode(subnet) != "static":
            continue
        address = host["ip_address"]
        if subnet["ip_version"] == 6:
            address = f"[{address}]"
        tag = f"set:port-{host['port_id']}," if host.get("extra_dhcp_opts") else ""
        lines.append(f"{host['mac_address']},{tag}{_hostname(host)},{address}")
    return "".join(line + "\n" for line in lines)


def _routes(subnet: dict, entry: dict) -> list[str]:
    """Option 121: host routes, the network's other IPv4 subnets on-link, then the default."""
    routes = [f"{route['destination']},{route['nexthop']}"
              for route in subnet.get("host_routes") or []]
    routes += [f"{other['cidr']},0.0.0.0" for other in entry["subnets"]
               if other["ip_version"] == 4 and other["id"] != subnet["id"]]
    if routes and subnet.get("gateway_ip"):
        routes.append(f"0.0.0.0/0,{subnet['gateway_ip']}")
    return routes


def opts_text(entry: dict, default_dns: list[str]) -> str:
    """Per subnet: gateway, resolvers, static routes; per port: its extra DHCP options."""
    lines = []
    for subnet in served_subnets(entry):
        tag = f"tag:subnet-{subnet['id']}"
        servers = subnet.get("dns_nameservers") or default_dns
        if subnet["ip_version"] == 4:
            # An empty router option tells clients there is no gateway (Neutron does the same).
            lines.append(f"{tag},option:router" +
                         (f",{subnet['gateway_ip']}" if subnet.get("gateway_ip") else ""))
            servers = [s for s in servers if ipaddress.ip_address(s).version == 4]
            if servers:
                lines.append(f"{tag},option:dns-server,{','.join(servers)}")
            routes = _routes(subnet, entry)
            if routes:
                lines.append(f"{tag},option:classless-static-route,{','.join(routes)}")
                lines.append(f"{tag},249,{','.join(routes)}")
        else:
            servers = [s for s in servers if ipaddress.ip_address(s).version == 6]
            if servers and _mode(subnet) is not None:
                lines.append(f"{tag},option6:dns-server,"
                             + ",".join(f"[{server}]" for server in servers))
    written = set()
    for host in entry["hosts"]:
        for option in host.get("extra_dhcp_opts") or []:
            version = int(option.get("ip_version") or 4)
            name = str(option["opt_name"])
            if name.isdigit():
                key = name if version == 4 else f"option6:{name}"
            else:
                key = f"option:{name}" if version == 4 else f"option6:{name}"
            line = f"tag:port-{host['port_id']},{key},{_clean(option['opt_value'])}"
            if line not in written:
                written.add(line)
                lines.append(line)
    return "".join(line + "\n" for line in lines)


# ---- the process ----------------------------------------------------------------------------


def ensure(network_id: str, folder: str, command: list[str], hosts: str, opts: str,
           interface: str, servers: list[str]) -> None:
    """Make dnsmasq run `command` with these files; call it inside the DHCP namespace (it
    starts the process there, and releases leases from there). `servers` are the DHCP port's
    IPv4 addresses."""
    os.makedirs(folder, mode=0o755, exist_ok=True)
    os.chmod(folder, 0o755)
    paths = Paths(folder)
    changed = False
    for path, text in ((paths.hosts, hosts), (paths.opts, opts)):
        if read_if_exists(path) != text:
            write_atomic(path, text, mode=0o644)
            changed = True
    current = running_argv(folder)
    # dnsmasq 2.90 (Debian 12) dies on SIGHUP when a "set:" host line matches a current lease;
    # networks with per-port options (tagged lines) restart instead.
    tagged = ",set:" in hosts
    if current and current[1] == command and not (changed and tagged):
        if changed:
            LOG.info("network %s: DHCP hosts or options changed; reloading dnsmasq (pid %d)",
                     network_id, current[0])
            os.kill(current[0], signal.SIGHUP)
            for address, mac in stale_leases(folder, hosts):
                server = _server_for(address, servers)
                if server:
                    LOG.info("network %s: releasing the lease of %s to %s", network_id,
                             address, mac)
                    release(interface, server, address, mac)
        return
    if current:
        LOG.info("network %s: %s changed; restarting dnsmasq (pid %d)", network_id,
                 "tagged hosts" if current[1] == command else "subnets", current[0])
        terminate(current[0], STOP_SECONDS)
    _forget_stale_leases(folder, hosts)
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise DhcpError(f"network {network_id}: dnsmasq would not start: "
                        f"{(result.stderr or result.stdout).strip()}")
    started = running_argv(folder)
    LOG.info("network %s: dnsmasq started (pid %s)", network_id, started and started[0])


def stale_leases(folder: str, hosts: str) -> list[tuple[str, str]]:
    """(address, MAC) of the IPv4 leases dnsmasq holds that no host line gives any more: a
    new port may get that address, and dnsmasq would refuse it while the old lease lasts."""
    wanted = set()
    for line in hosts.splitlines():
        fields = line.split(",")
        wanted.add((fields[-1], fields[0].lower()))
    stale = []
    for line in (read_if_exists(Paths(folder).leases) or "").splitlines():
        fields = line.split()
        if len(fields) >= 3 and ":" in fields[1] and "." in fields[2] and \
                (fields[2], fields[1].lower()) not in wanted:
            stale.append((fields[2], fields[1].lower()))
    return stale


def _forget_stale_leases(folder: str, hosts: str) -> None:
    """Before a start: the lease file without the leases no host line gives any more."""
    stale = {f" {mac} {address} " for address, mac in stale_leases(folder, hosts)}
    if stale:
        path = Paths(folder).leases
        kept = [line for line in read_if_exists(path).splitlines(keepends=True)
                if not any(entry in line.lower() for entry in stale)]
        write_atomic(path, "".join(kept), mode=0o644)


def _server_for(address: str, servers: list[str]) -> str | None:
    for server in servers:
        if ipaddress.ip_address(address) in ipaddress.ip_interface(server).network:
            return str(ipaddress.ip_interface(server).ip)
    return None


def release_packet(server: str, address: str, mac: str) -> bytes:
    """A DHCPRELEASE from the lease's client (what dnsmasq's dhcp_release sends)."""
    chaddr = bytes.fromhex(mac.replace(":", "")).ljust(16, b"\0")
    header = struct.pack("!BBBBIHH4s4s4s4s16s64s128sI", 1, 1, 6, 0, random.getrandbits(32),
                         0, 0, socket.inet_aton(address), bytes(4), bytes(4), bytes(4),
                         chaddr, bytes(64), bytes(128), DHCP_COOKIE)
    options = bytes([53, 1, DHCPRELEASE, 54, 4]) + socket.inet_aton(server) + bytes([255])
    return header + options


def release(interface: str, server: str, address: str, mac: str) -> None:
    """Tell the dnsmasq on `interface` (in this thread's namespace) to drop a lease."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        sender.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        sender.sendto(release_packet(server, address, mac), (server, 67))


def stop(network_id: str, folder: str) -> None:
    """Stop the network's dnsmasq, keeping its files (and leases) for the next one."""
    current = running_argv(folder)
    if current:
        LOG.info("network %s: stopping dnsmasq (pid %d)", network_id, current[0])
        terminate(current[0], STOP_SECONDS)


def remove(folders: dict[str, str]) -> None:
    """Stop these networks' dnsmasq ({network id: folder}), all at once, and forget their
    files."""
    stopping = []
    for network_id, folder in sorted(folders.items()):
        current = running_argv(folder)
        if current:
            LOG.info("network %s: stopping dnsmasq (pid %d)", network_id, current[0])
            try:
                os.kill(current[0], signal.SIGTERM)
                stopping.append(current[0])
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + STOP_SECONDS
    while stopping and time.monotonic() < deadline:
        stopping = [pid for pid in stopping if is_alive(pid)]
        time.sleep(0.005 if stopping else 0)
    for pid in stopping:
        os.kill(pid, signal.SIGKILL)
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
