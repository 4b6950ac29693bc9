"""The provisioning network's dnsmasq: DHCP, TFTP for PXE firmware that is not iPXE, and IPv6
router advertisements, bound to the provisioning bridge alone (no DNS).

Nodes whose boot the conductor prepared are "known": a hosts-file line per MAC tags them,
they lease from dhcp_range, and iPXE gets their own script's URL. Every other MAC leases from
inspection_range and gets the default script (discovery). A change of nodes rewrites the
hosts and options files and sends SIGHUP; only a changed command line restarts dnsmasq.
"""
import ipaddress
import logging
import os
import subprocess

from undercloud.baremetal.drivers import ipxe
from undercloud.common.files import read_if_exists, write_atomic
from undercloud.common.process import terminate
from undercloud.host.dnsmasq import Paths, running_argv

LOG = logging.getLogger(__name__)
DNSMASQ = "/usr/sbin/dnsmasq"
# Short leases: nodes come and go, and each range holds only a few addresses.
LEASE = "10m"
# Seconds between router advertisements; iPXE solicits one and gets it at once.
RA_INTERVAL = 60
STOP_SECONDS = 5.0
# The PXE firmware's client architecture (DHCP option 93): 7 and 9 are x86-64 UEFI.
UEFI_ARCHITECTURES = (7, 9)
BIOS_LOADER, UEFI_LOADER = "undionly.kpxe", "ipxe.efi"


class DnsmasqError(Exception):
    """dnsmasq would not start; the message has its own words."""


def tag(mac: str) -> str:
    """The tag a node's hosts-file line sets, which its options match."""
    return "mac-" + mac.replace(":", "")


def argv(paths: Paths, interface: str, address: ipaddress.IPv4Interface,
         dhcp_range: list[str], inspection_range: list[str], tftp_root: str, log_file: str,
         router_advertisements: bool = True, user: str | None = None) -> list[str]:
    """dnsmasq's command line; nodes and their boot files are in the hosts and options files."""
    netmask = address.network.netmask
    args = [DNSMASQ, "--conf-file=/dev/null", "--no-hosts", "--no-resolv", "--port=0",
            "--bind-interfaces", f"--interface={interface}", f"--pid-file={paths.pid}",
            f"--dhcp-hostsfile={paths.hosts}", f"--dhcp-optsfile={paths.opts}",
            f"--dhcp-leasefile={paths.leases}", f"--log-facility={log_file}", "--log-dhcp",
            "--dhcp-authoritative",
            # Answer the first DISCOVER: a ping check costs every booting node a retry.
            "--no-ping",
            # iPXE and the ramdisk send different client ids; one node, one address.
            "--dhcp-ignore-clid",
            f"--dhcp-range=tag:known,set:nodes,{dhcp_range[0]},{dhcp_range[1]},{netmask},"
            f"{LEASE}",
            f"--dhcp-range=tag:!known,set:inspection,{inspection_range[0]},"
            f"{inspection_range[1]},{netmask},{LEASE}",
            # An empty router option: nodes get no default route through us.
            "--dhcp-option=option:router",
            "--dhcp-match=set:ipxe,175", "--dhcp-userclass=set:ipxe,iPXE",
            *[f"--dhcp-match=set:uefi,option:client-arch,{arch}" for arch in UEFI_ARCHITECTURES],
            # Firmware that is not iPXE chain-loads iPXE over TFTP; the first match wins.
            f"--dhcp-boot=tag:!ipxe,tag:uefi,{UEFI_LOADER}",
            f"--dhcp-boot=tag:!ipxe,{BIOS_LOADER}",
            "--enable-tftp", f"--tftp-root={tftp_root}"]
    if router_advertisements:
        # Without a router advertisement iPXE waits 13 s for IPv6 before it boots. Lifetime 0:
        # we advertise a prefix, never a default route.
        args += ["--enable-ra", f"--ra-param={interface},{RA_INTERVAL},0",
                 f"--dhcp-range=::,constructor:{interface},ra-only,64"]
    if user:
        args.append(f"--user={user}")
    return args


def hosts_text(boots: dict[str, dict]) -> str:
    """One line per prepared MAC ({mac: {"node", "mode"}}): it makes the MAC known and tagged."""
    return "".join(f"{mac},set:{tag(mac)}\n" for mac in sorted(boots))


def opts_text(boots: dict[str, dict], base_url: str) -> str:
    """iPXE's boot file: each known MAC's own script, the default one for unknown MACs."""
    lines = [f"tag:ipxe,tag:!known,option:bootfile-name,{base_url}/ipxe/{ipxe.DEFAULT_SCRIPT}"]
    lines += [f"tag:ipxe,tag:{tag(mac)},option:bootfile-name,"
              f"{base_url}/ipxe/{ipxe.script_name(mac)}" for mac in sorted(boots)]
    return "".join(line + "\n" for line in lines)


def _write(paths: Paths, hosts: str, opts: str) -> bool:
    """Write the files that differ; True when one did."""
    changed = False
    for path, text in ((paths.hosts, hosts), (paths.opts, opts)):
        if read_if_exists(path) != text:
            write_atomic(path, text, mode=0o644)
            changed = True
    return changed


def ensure(paths: Paths, command: list[str], hosts: str, opts: str) -> None:
    """Make dnsmasq run `command` with these files, (re)starting it when they changed.

    Never SIGHUP: dnsmasq 2.90 (Debian 12) dies silently when it re-reads a hosts file whose
    "mac,set:tag" line matches a current lease, which every second boot here would hit. A
    restart keeps the leases (they live in the lease file) and takes milliseconds.
    """
    os.makedirs(paths.folder, mode=0o755, exist_ok=True)
    os.chmod(paths.folder, 0o755)
    changed = _write(paths, hosts, opts)
    current = running_argv(paths.folder)
    if current and current[1] == command and not changed:
        return
    if current:
        LOG.info("provisioning dnsmasq: %s changed; restarting (pid %d)",
                 "its nodes" if current[1] == command else "its settings", current[0])
        terminate(current[0], STOP_SECONDS)
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        raise DnsmasqError(f"the provisioning network's dnsmasq would not start: "
                           f"{(result.stderr or result.stdout).strip()}")
    started = running_argv(paths.folder)
    LOG.info("provisioning dnsmasq started (pid %s)", started and started[0])


def reload(paths: Paths, command: list[str], hosts: str, opts: str) -> None:
    """New node files for the running dnsmasq (a restart: see ensure)."""
    if running_argv(paths.folder):
        ensure(paths, command, hosts, opts)
    else:
        _write(paths, hosts, opts)


def stop(paths: Paths) -> None:
    """Stop dnsmasq, keeping its files (and leases) for the next start."""
    current = running_argv(paths.folder)
    if current:
        LOG.info("stopping the provisioning dnsmasq (pid %d)", current[0])
        terminate(current[0], STOP_SECONDS)
