"""The provisioning network as the conductor uses it: the bridge and its addresses, dnsmasq
(DHCP, TFTP, router advertisements), the HTTP server, each node's iPXE script, and deploy
images and config drives published over HTTP.

Which MAC boots what is kept in DATA_DIR/baremetal/boots.json; the scripts, dnsmasq's files
and the leases follow from it, so a restarted conductor serves exactly what the last one
prepared (and reconciles it against the DB by preparing again).
"""
import contextlib
import filecmp
import ipaddress
import json
import logging
import os
import shutil
import threading

from undercloud.baremetal.drivers import dnsmasq, ipxe
from undercloud.baremetal.drivers.configdrives import ConfigDrives
from undercloud.baremetal.drivers.http import HttpError, HttpServer
from undercloud.baremetal.drivers.images import DeployImages, ImageError
from undercloud.client.images import ImageClient
from undercloud.common.files import read_if_exists, write_atomic
from undercloud.common.logging import log_file
from undercloud.host import bridge
from undercloud.host.configdrive import ConfigDriveError
from undercloud.host.dnsmasq import Paths, user_for

LOG = logging.getLogger(__name__)
# Debian's ipxe package: iPXE for PXE firmware that is not iPXE already.
IPXE_LOADERS = {dnsmasq.BIOS_LOADER: "/usr/lib/ipxe/undionly.kpxe",
                dnsmasq.UEFI_LOADER: "/usr/lib/ipxe/ipxe.efi"}


class ProvisioningError(Exception):
    """The provisioning network or an image is not ready; the message says why and what to do."""


@contextlib.contextmanager


def _reported():
    """The drivers' own errors, as the one error the conductor handles."""
    try:
        yield
    except (bridge.BridgeError, dnsmasq.DnsmasqError, HttpError, ImageError, ConfigDriveError,
            OSError) as exc:
        raise ProvisioningError(str(exc)) from None


class Provisioning:
    def __init__(self, config):
        section = config["baremetal"]
        self.config = config
        self.bridge = section["provisioning_bridge"]
        try:
            self.address = ipaddress.IPv4Interface(section["provisioning_address"])
            for start, end in (section["dhcp_range"], section["inspection_range"]):
                if not {ipaddress.IPv4Address(start), ipaddress.IPv4Address(end)} <= \
                        set(self.address.network):
                    raise ValueError(f"the range {start}-{end} is outside "
                                     f"{self.address.network}")
        except ValueError as exc:
            raise ProvisioningError(f"baremetal.provisioning_address, dhcp_range and "
                                    f"inspection_range must be one IPv4 network: {exc}") from None
        self.folder = config.path("baremetal")
        self.boots_path = os.path.join(self.folder, "boots.json")
        self.bridge_record = os.path.join(self.folder, "bridge.json")
        self.dnsmasq_paths = Paths(os.path.join(self.folder, "dnsmasq"))
        self.tftp_root = os.path.join(self.folder, "tftp")
        self.http_root = os.path.join(self.folder, "http")
        self.ramdisk = {
            "/ramdisk/vmlinuz": section["deploy_kernel"]
            or os.path.join(self.folder, "ramdisk", "vmlinuz"),
            "/ramdisk/initrd.img": section["deploy_ramdisk"]
            or os.path.join(self.folder, "ramdisk", "initrd.img")}
        self.http = HttpServer(str(self.address.ip), section["http_port"], self.http_root,
                               self.ramdisk, config.endpoint("baremetal"),
                               config["api"]["max_body_bytes"],
                               repo_root=config.path("repo"))
        self.images = DeployImages(os.path.join(self.folder, "images"),
                                   os.path.join(self.http_root, "images"), ImageClient(config))
        self.configdrives = ConfigDrives(os.path.join(self.http_root, "configdrives"))
        self._lock = threading.Lock()

    @property
    def agent_url(self) -> str:
        """Where the ramdisk reaches the API (through the HTTP server's proxy), and where
        it fetches scripts, the ramdisk and images."""
        return f"http://{self.address.ip}:{self.http.port}"

    # ---- the network ---------------------------------------------------------------------------

    def start(self) -> None:
        """Bridge, addresses, dnsmasq and the HTTP server; again after a crash, or to repair."""
        if os.geteuid() != 0:
            raise ProvisioningError("the provisioning network needs root (a bridge, dnsmasq "
                                    "on ports 67 and 69); run the conductor as root")
        with _reported(), self._lock:
            os.makedirs(self.folder, mode=0o755, exist_ok=True)
            # The ULA carries router advertisements: without them iPXE waits ~13 s for IPv6.
            addresses = [self.address, bridge.ula(self.bridge)]
            bridge.ensure(self.bridge, addresses, self.bridge_record)
            self._install_loaders()
            self.images.clean_leftovers()
            self.configdrives.clean_leftovers()
            boots = self._boots()
            self._write_scripts(boots)
            dnsmasq.ensure(self.dnsmasq_paths, self._dnsmasq_argv(),
                           dnsmasq.hosts_text(boots), dnsmasq.opts_text(boots, self.agent_url))
            self.http.start()
        missing = [path for path in self.ramdisk.values() if not os.path.exists(path)]
        if missing:
            LOG.warning("the deploy ramdisk is missing (%s): nodes cannot inspect, deploy or "
                        "clean until images/deploy-ramdisk/build --output %s has run",
                        ", ".join(missing), os.path.join(self.folder, "ramdisk"))

    def stop(self) -> None:
        """Stop the HTTP server and dnsmasq; remove the bridge, or the addresses, we made.
        Which MAC boots what stays recorded for the next start."""
        with _reported(), self._lock:
            self.http.stop()
            dnsmasq.stop(self.dnsmasq_paths)
            bridge.remove(self.bridge_record)

    def _dnsmasq_argv(self) -> list[str]:
        section = self.config["baremetal"]
        return dnsmasq.argv(
            self.dnsmasq_paths, self.bridge, self.address, section["dhcp_range"],
            section["inspection_range"], self.tftp_root,
            log_file(self.config, "baremetal-dnsmasq"), user=user_for(self.folder))

    def _install_loaders(self) -> None:
        os.makedirs(self.tftp_root, mode=0o755, exist_ok=True)
        for name, source in IPXE_LOADERS.items():
            target = os.path.join(self.tftp_root, name)
            if not os.path.exists(source):
                LOG.warning("%s is missing (Debian package ipxe): PXE firmware that is not "
                            "iPXE cannot boot nodes", source)
            elif not os.path.exists(target) or not filecmp.cmp(source, target, shallow=False):
                shutil.copyfile(source, target + ".tmp")
                os.chmod(target + ".tmp", 0o644)
                os.replace(target + ".tmp", target)

    # ---- what each node boots ------------------------------------------------------------------

    def prepare_boot(self, node_id: str, macs: list[str], mode: str) -> None:
        """Network-boot the ramdisk (mode inspect, deploy or clean) or the local disk (mode
        disk) on the node's next PXE boot from any of `macs`."""
        if mode not in ipxe.MODES:
            raise ProvisioningError(f"node {node_id}: boot mode {mode!r} is not one of "
                                    f"{', '.join(ipxe.MODES)}")
        macs = _macs(node_id, macs)
        if mode in ipxe.RAMDISK_MODES:
            missing = [path for path in self.ramdisk.values() if not os.path.exists(path)]
            if missing:
                raise ProvisioningError(
                    f"node {node_id} cannot {mode}: the deploy ramdisk is missing "
                    f"({', '.join(missing)}); build it with images/deploy-ramdisk/build "
                    f"--output {os.path.join(self.folder, 'ramdisk')}")
        with _reported(), self._lock:
            boots = self._boots()
            for mac, boot in list(boots.items()):
                if boot["node"] == node_id and mac not in macs:
                    del boots[mac]
            for mac in macs:
                if boots.get(mac, {}).get("node", node_id) != node_id:
                    LOG.warning("MAC %s moves from node %s to node %s", mac,
                                boots[mac]["node"], node_id)
                boots[mac] = {"node": node_id, "mode": mode}
            self._save(boots)
        LOG.info("node %s boots %s from %s", node_id,
                 "its local disk" if mode == "disk" else f"the ramdisk to {mode}",
                 ", ".join(macs) or "no known MAC")

    def clean_up_boot(self, node_id: str, macs: list[str]) -> None:
        """Forget the node's boot: its MACs become unknown (discovery) again."""
        macs = _macs(node_id, macs)
        with _reported(), self._lock:
            boots = {mac: boot for mac, boot in self._boots().items()
                     if mac not in macs and boot["node"] != node_id}
            self._save(boots)
        LOG.info("node %s: network boot cleaned up", node_id)

    def _boots(self) -> dict[str, dict]:
        try:
            with open(self.boots_path) as stream:
                return json.load(stream)
        except FileNotFoundError:
            return {}

    def _save(self, boots: dict[str, dict]) -> None:
        """Scripts first, then dnsmasq: a node that DHCPs at once finds its script."""
        self._write_scripts(boots)
        write_atomic(self.boots_path, json.dumps(boots, indent=1, sort_keys=True))
        dnsmasq.reload(self.dnsmasq_paths, self._dnsmasq_argv(), dnsmasq.hosts_text(boots),
                       dnsmasq.opts_text(boots, self.agent_url))

    def _write_scripts(self, boots: dict[str, dict]) -> None:
        folder = os.path.join(self.http_root, "ipxe")
        os.makedirs(folder, mode=0o755, exist_ok=True)
        wanted = {ipxe.DEFAULT_SCRIPT: ipxe.default_script(self.agent_url)}
        for mac, boot in boots.items():
            wanted[ipxe.script_name(mac)] = ipxe.script(self.agent_url, boot["mode"],
                                                        boot["node"], mac)
        for name, text in wanted.items():
            path = os.path.join(folder, name)
            if read_if_exists(path) != text:
                write_atomic(path, text, mode=0o644)
        for name in set(os.listdir(folder)) - set(wanted):
            if name.endswith(".ipxe"):
                os.unlink(os.path.join(folder, name))

    # ---- deploy images -------------------------------------------------------------------------

    def prepare_image(self, token: str, image_id: str, node_id: str) -> dict:
        """The image as raw over HTTP for this node: {"url", "checksum", "checksum_algo":
        "sha256", "size"}. Downloaded with `token` (the user's) and cached while in use."""
        with _reported():
            published = self.images.publish(token, image_id, node_id)
        return {"url": f"{self.agent_url}/images/{published['path']}",
                "checksum": published["checksum"], "checksum_algo": "sha256",
                "size": published["size"]}

    def unpublish_image(self, node_id: str) -> None:
        with _reported():
            self.images.unpublish(node_id)

    def prepare_configdrive(self, node_id: str, node_name: str | None, value) -> dict:
        """The node's config drive (Ironic's "configdrive" value) as an ISO over HTTP:
        {"url", "size"}; configdrive.InvalidConfigDrive when the value is no config drive."""
        with _reported():
            published = self.configdrives.publish(node_id, node_name, value)
        return {"url": f"{self.agent_url}/configdrives/{published['path']}",
                "size": published["size"]}

    def unpublish_configdrive(self, node_id: str) -> None:
        with _reported():
            self.configdrives.unpublish(node_id)


def _macs(node_id: str, macs: list[str]) -> list[str]:
    found = [str(mac).strip().lower() for mac in macs]
    wrong = [mac for mac in found if not ipxe.MAC.match(mac)]
    if wrong:
        raise ProvisioningError(f"node {node_id}: {', '.join(wrong)} is not a MAC address "
                                f"like 52:54:00:12:34:56")
    return sorted(set(found))
