"""The provisioning network on real objects: a bridge only this test uses, our dnsmasq and HTTP
server, and a qemu/TCG VM that network-boots from them. The tiny guest's kernel and initrd
stand in for the deploy ramdisk. Also: a Glance image published raw over that HTTP server."""
import hashlib
import ipaddress
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import libvirt
import pytest
import yaml

from tests.fixtures.ports import free_port
from undercloud.baremetal.drivers.provisioning import Provisioning, ProvisioningError
from undercloud.common import config as configuration
from undercloud.host import bridge, libvirtd
from undercloud.host.dnsmasq import running_argv

pytestmark = [pytest.mark.lab, pytest.mark.timeout(600)]
libvirt.registerErrorHandler(lambda context, error: None, None)


def _free_network() -> ipaddress.IPv4Network:
    """A 10.77.x.0/24 that no address or route on this host touches."""
    used = subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True).stdout
    used += subprocess.run(["ip", "-4", "route"], capture_output=True, text=True).stdout
    while True:
        network = ipaddress.IPv4Network(f"10.77.{secrets.randbelow(250) + 2}.0/24")
        if f"10.77.{network.network_address.packed[2]}." not in used:
            return network


def _config(data_dir: str, bridge: str, network: ipaddress.IPv4Network, extra=None):
    hosts = list(network.hosts())
    baremetal = {"provisioning_bridge": bridge, "provisioning_address": f"{hosts[0]}/24",
                 "dhcp_range": [str(hosts[9]), str(hosts[19])],
                 "inspection_range": [str(hosts[99]), str(hosts[109])],
                 "http_port": free_port()}
    values = {"data_dir": data_dir, "baremetal": baremetal,
              "ports": {"baremetal": free_port()}, "logging": {"level": "DEBUG"}}
    for key, value in (extra or {}).items():
        values.setdefault(key, {}).update(value)
    return configuration.load(environ={}, overrides=values)


def _domain_xml(name: str, mac: str, bridge: str, console: str, disk: str | None) -> str:
    disk_xml = f"""<disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/><source file='{disk}'/>
      <target dev='vda' bus='virtio'/></disk>""" if disk else ""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='network'/>
    <boot dev='hd'/>
    <bios useserial='yes'/>
  </os>
  <features><acpi/></features>
  <on_reboot>restart</on_reboot>
  <devices>
    {disk_xml}
    <interface type='bridge'>
      <mac address='{mac}'/><source bridge='{bridge}'/><model type='virtio'/>
    </interface>
    <serial type='pty'><log file='{console}' append='on'/><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
  </devices>
</domain>"""


class Vm:
    """A qemu/TCG machine that boots from the network first (then its disk, if it has one)."""

    def __init__(self, connection, folder: str, bridge: str, disk: str | None = None):
        self.name = f"sbx-pxe-{secrets.token_hex(3)}"
        self.mac = "52:54:00:" + ":".join(f"{secrets.randbelow(256):02x}" for _ in range(3))
        self.console = os.path.join(folder, f"{self.name}.console.log")
        self.domain = connection.defineXML(_domain_xml(self.name, self.mac, bridge,
                                                       self.console, disk))

    def output(self) -> str:
        if not os.path.exists(self.console):
            return ""
        with open(self.console, "rb") as stream:
            return stream.read().decode(errors="replace")

    def wait_for(self, text: str, count: int = 1, timeout: float = 180) -> str:
        deadline = time.monotonic() + timeout
        while self.output().count(text) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} x{count} not on {self.name}'s console within "
                            f"{timeout} s; its tail:\n{self.output()[-3000:]}")
            time.sleep(0.2)
        return self.output()

    def remove(self):
        try:
            if self.domain.isActive():
                self.domain.destroy()
            self.domain.undefine()
        except libvirt.libvirtError:
            pass


def _wait_for_request(provisioning, path: str, count: int = 1, timeout: float = 180) -> list:
    deadline = time.monotonic() + timeout
    while True:
        found = [record for record in provisioning.http.records
                 if record["path"] == path and record["status"] == 200]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"no GET {path} x{count} within {timeout} s; requests: "
                        f"{list(provisioning.http.records)}")
        time.sleep(0.2)


def _leftovers(bridge: str, data_dir: str) -> list[str]:
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    processes = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True,
                               text=True).stdout
    found = [f"bridge {bridge}"] if f" {bridge}:" in links else []
    return found + [line for line in processes.splitlines()
                    if line.startswith("/usr/sbin/dnsmasq") and data_dir in line]


@pytest.fixture
def connection():
    libvirtd.ensure_running()
    connection = libvirt.open("qemu:///system")
    yield connection
    connection.close()


@pytest.fixture
def bridge_name():
    return f"sbxpxe{secrets.token_hex(3)}"


def test_a_vm_pxe_boots_the_ramdisk_then_its_disk_with_router_advertisements(
        connection, lab_dir, bridge_name, tiny_guest):
    network = _free_network()
    disk = os.path.join(lab_dir, "disk.qcow2")
    shutil.copyfile(tiny_guest["folder"] / "tiny-guest.qcow2", disk)   # qemu cannot read /tmp
    node_id = "1be26c0b-03f2-4d2e-ae87-c02d7f33c781"
    provisioning = vm = None
    try:
        config = _config(lab_dir, bridge_name, network, {"baremetal": {
            "deploy_kernel": str(tiny_guest["folder"] / "vmlinuz"),
            "deploy_ramdisk": str(tiny_guest["folder"] / "initrd.img")}})
        provisioning = Provisioning(config)
        provisioning.start()
        provisioning.start()   # idempotent: a conductor's repair pass
        vm = Vm(connection, lab_dir, bridge_name, disk)
        provisioning.prepare_boot(node_id, [vm.mac.upper()], "deploy")
        script = f"/ipxe/{vm.mac.replace(':', '-')}.ipxe"

        powered_on = time.time()
        vm.domain.create()
        fetched = _wait_for_request(provisioning, script)[0]
        _wait_for_request(provisioning, "/ramdisk/vmlinuz")
        _wait_for_request(provisioning, "/ramdisk/initrd.img")
        console = vm.wait_for("stackbox-guest: booting")
        print(f"\nPXE with router advertisements: {fetched['at'] - powered_on:.1f} s from "
              f"power on to the iPXE script")
        # The ramdisk's kernel got exactly the arguments the ramdisk reads.
        assert f"ipa-api-url={provisioning.agent_url} ipa-mode=deploy ipa-node={node_id} " \
               f"BOOTIF={vm.mac}" in console
        leased = ipaddress.IPv4Address(fetched["client"])
        first, last = map(ipaddress.IPv4Address, config["baremetal"]["dhcp_range"])
        assert first <= leased <= last
        dhcp_log = open(os.path.join(lab_dir, "logs", "baremetal-dnsmasq.log")).read()
        assert re.search(rf"DHCPACK\({bridge_name}\) {leased} {vm.mac}", dhcp_log)

        # Disk mode: the next boot leaves iPXE for the local disk (the tiny guest's syslinux).
        provisioning.prepare_boot(node_id, [vm.mac], "disk")
        vm.domain.reset()
        _wait_for_request(provisioning, script, count=2)
        vm.wait_for("stackbox-guest: booting", count=2)
        assert len(_wait_for_request(provisioning, "/ramdisk/vmlinuz")) == 1
        assert "SYSLINUX" in vm.output() or "syslinux" in vm.output().lower()

        # Cleaned up: the MAC is unknown again and no per-MAC script is served.
        provisioning.clean_up_boot(node_id, [vm.mac])
        with urllib.request.urlopen(f"{provisioning.agent_url}/ipxe/default.ipxe") as answer:
            assert b"ipa-mode=inspect" in answer.read()
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{provisioning.agent_url}{script}")
    finally:
        if vm:
            vm.remove()
        if provisioning:
            provisioning.stop()
    assert _leftovers(bridge_name, lab_dir) == []


def test_an_unknown_mac_boots_the_discovery_ramdisk(
        connection, lab_dir, bridge_name, tiny_guest):
    network = _free_network()
    provisioning = vm = None
    try:
        config = _config(lab_dir, bridge_name, network, {"baremetal": {
            "deploy_kernel": str(tiny_guest["folder"] / "vmlinuz"),
            "deploy_ramdisk": str(tiny_guest["folder"] / "initrd.img")}})
        provisioning = Provisioning(config)
        provisioning.start()
        vm = Vm(connection, lab_dir, bridge_name)
        powered_on = time.time()
        vm.domain.create()
        fetched = _wait_for_request(provisioning, "/ipxe/default.ipxe")[0]
        console = vm.wait_for("stackbox-guest: booting")
        print(f"\nPXE of an unknown MAC: {fetched['at'] - powered_on:.1f} s from power on to "
              f"the iPXE script")
        assert f"ipa-mode=inspect BOOTIF={vm.mac}" in console
        assert "ipa-node" not in console
        leased = ipaddress.IPv4Address(fetched["client"])
        first, last = map(ipaddress.IPv4Address, config["baremetal"]["inspection_range"])
        assert first <= leased <= last
    finally:
        if vm:
            vm.remove()
        if provisioning:
            provisioning.stop()
    assert _leftovers(bridge_name, lab_dir) == []


def _token(undercloud) -> str:
    auth = yaml.safe_load(undercloud.clouds_yaml.read_text())["clouds"]["stackbox"]["auth"]
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": auth["username"], "password": auth["password"], "domain": {"id": "default"}}}},
        "scope": {"project": {"name": auth["project_name"], "domain": {"id": "default"}}}}}
    request = urllib.request.Request(f"{undercloud.endpoint('identity')}/v3/auth/tokens",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["X-Subject-Token"]


def _upload(undercloud, token: str, path) -> str:
    def call(method, url, data, content_type):
        request = urllib.request.Request(f"{undercloud.endpoint('image')}{url}", data=data,
                                         method=method, headers={"X-Auth-Token": token,
                                                                 "Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()
    image = json.loads(call("POST", "/v2/images", json.dumps(
        {"name": "tiny-guest", "disk_format": "qcow2", "container_format": "bare"}).encode(),
        "application/json"))
    call("PUT", f"/v2/images/{image['id']}/file", path.read_bytes(), "application/octet-stream")
    return image["id"]


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.read()


def test_a_glance_image_is_published_raw_over_http(start_undercloud, lab_dir, bridge_name,
                                                   tiny_guest):
    undercloud = start_undercloud(["identity", "image"])
    token = _token(undercloud)
    image_id = _upload(undercloud, token, tiny_guest["folder"] / "tiny-guest.qcow2")
    config = _config(lab_dir, bridge_name, _free_network(),
                     {"ports": dict(undercloud.config["ports"])})
    provisioning = Provisioning(config)
    first_node, second_node = "0f7e2b7c-4d52-4d5e-9a0e-6b1c1a7f0001", \
        "0f7e2b7c-4d52-4d5e-9a0e-6b1c1a7f0002"
    try:
        provisioning.start()
        first = provisioning.prepare_image(token, image_id, first_node)
        second = provisioning.prepare_image(token, image_id, second_node)
        assert first["checksum_algo"] == "sha256"
        assert first["url"].startswith(f"{provisioning.agent_url}/images/")
        assert first["url"] != second["url"] and first["checksum"] == second["checksum"]

        data = _fetch(first["url"])
        assert hashlib.sha256(data).hexdigest() == first["checksum"]
        assert len(data) == first["size"] == 64 * 1024 * 1024   # the guest's virtual size
        assert data[510:512] == b"\x55\xaa"                      # raw: the MBR is at byte 0
        served = _wait_for_request(provisioning, f"/images/***/{first_node}.raw")
        assert served[-1]["bytes"] == first["size"]              # logged without its secret

        # Unpublished: that node's URL is gone, the other's still serves the same raw image.
        provisioning.unpublish_image(first_node)
        with pytest.raises(urllib.error.HTTPError) as gone:
            _fetch(first["url"])
        assert gone.value.code == 404
        assert hashlib.sha256(_fetch(second["url"])).hexdigest() == second["checksum"]
        provisioning.unpublish_image(second_node)
        assert os.listdir(os.path.join(lab_dir, "baremetal", "images", "raw")) == []

        # Without a valid token the image service refuses, and the error says so.
        with pytest.raises(ProvisioningError, match="HTTP 401"):
            provisioning.prepare_image("not-a-token", image_id, first_node)
    finally:
        provisioning.stop()
    assert _leftovers(bridge_name, lab_dir) == []


def _dnsmasq_pid(config) -> int | None:
    found = running_argv(config.path("baremetal", "dnsmasq"))
    return found and found[0]


def _addresses(bridge: str) -> str:
    return subprocess.run(["ip", "-o", "addr", "show", "dev", bridge], capture_output=True,
                          text=True).stdout


def test_a_restarted_conductor_takes_over_and_only_what_we_made_is_removed(lab_dir,
                                                                          bridge_name):
    network = _free_network()
    config = _config(lab_dir, bridge_name, network)
    address = f"{network.network_address + 1}/24"
    first = Provisioning(config)
    try:
        first.start()
        first.prepare_boot("node-1", ["52:54:00:aa:bb:01"], "disk")
        pid = _dnsmasq_pid(config)  # new nodes restart dnsmasq (see drivers/dnsmasq.ensure)
        first.http.stop()                             # the conductor "crashed": dnsmasq lives on

        second = Provisioning(config)
        second.start()
        assert _dnsmasq_pid(config) == pid
        assert b"sanboot" in _fetch(f"{second.agent_url}/ipxe/52-54-00-aa-bb-01.ipxe")
        second.stop()                                 # the bridge the first one made goes
        assert _leftovers(bridge_name, lab_dir) == []

        # A bridge someone else made stays; only our addresses leave it.
        subprocess.run(["ip", "link", "add", bridge_name, "type", "bridge"], check=True)
        third = Provisioning(config)
        third.start()
        assert address in _addresses(bridge_name)
        third.stop()
        assert _dnsmasq_pid(config) is None
        left = _addresses(bridge_name)
        assert address not in left and str(bridge.ula(bridge_name).ip) not in left
        assert subprocess.run(["ip", "link", "show", bridge_name]).returncode == 0
    finally:
        first.stop()
        subprocess.run(["ip", "link", "del", bridge_name], capture_output=True)
    assert _leftovers(bridge_name, lab_dir) == []
