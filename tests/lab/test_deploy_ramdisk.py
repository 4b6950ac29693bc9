"""The deploy/discovery ramdisk under real qemu (TCG), booted straight from its kernel and
initramfs with a NIC on a test bridge where a test dnsmasq leases addresses, talking to a fake
bare metal API on the bridge: inspection reports the VM as it was started, deploy writes the
tiny guest and its config drive onto the blank disk (and reports bad checksums and missing
images), clean wipes it. Root only; every name carries a random suffix."""
import hashlib
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fixtures.network_lab import run, suffix
from undercloud.baremetal import configdrive

pytestmark = pytest.mark.lab
BUILD = Path(__file__).resolve().parents[2] / "images" / "deploy-ramdisk" / "build"
MIB = 1024 * 1024
DISK_BYTES = 128 * MIB
# The config drive's partition: the disk's last 64 MiB, in 512-byte sectors.
DRIVE_START = (DISK_BYTES - 64 * MIB) // 512
MEMORY_MB = 384
# What the bare metal PXE helper puts on the kernel line: /dev/console ends up the screen, so
# this also checks the agent's lines reach the serial console.
CONSOLE_ARGS = "console=ttyS0,115200n8 console=tty0"


@pytest.fixture(scope="session")
def deploy_ramdisk(tmp_path_factory):
    """The built ramdisk: a folder with vmlinuz, initrd.img, manifest.json."""
    if os.geteuid() != 0:
        pytest.skip("the ramdisk lab makes bridges and taps and needs root")
    output = tmp_path_factory.mktemp("deploy-ramdisk")
    result = subprocess.run([sys.executable, str(BUILD), "--output", str(output), "--quiet"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return output


class FakeBaremetalAPI:
    """The agent endpoints of the bare metal API as the ramdisk sees them, plus the image
    download; it answers heartbeats with the queued commands, one per heartbeat."""

    def __init__(self, address, node_id, images=None):
        self.node_id = node_id
        self.token = uuid.uuid4().hex
        self.images = images or {}
        self.commands = []
        self.inventories, self.lookups, self.heartbeats = [], [], []
        self.server = ThreadingHTTPServer((address, 0), self._handler())
        self.url = f"http://{address}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, document):
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.startswith("/v1/lookup?addresses="):
                    api.lookups.append(self.path.split("=", 1)[1].split(","))
                    return self.answer(200, {
                        "node": {"uuid": api.node_id, "properties": {}, "instance_info": {},
                                 "driver_internal_info": {}},
                        "config": {"heartbeat_timeout": 300, "agent_token": api.token}})
                if self.path.startswith("/images/") and self.path[8:] in api.images:
                    with open(api.images[self.path[8:]], "rb") as image:
                        self.send_response(200)
                        self.send_header("Content-Length", str(os.fstat(image.fileno()).st_size))
                        self.end_headers()
                        shutil.copyfileobj(image, self.wfile)
                    return None
                return self.answer(404, {"error_message": "not found"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path == "/v1/continue_inspection":
                    api.inventories.append(body["inventory"])
                    return self.answer(202, {"uuid": api.node_id})
                if self.path == f"/v1/heartbeat/{api.node_id}":
                    if body.get("agent_token") != api.token:
                        return self.answer(401, {"error_message": "bad token"})
                    api.heartbeats.append(body)
                    command = api.commands.pop(0) if api.commands else None
                    return self.answer(202, {"command": command})
                return self.answer(404, {"error_message": "not found"})

        return Handler


class ProvisioningNetwork:
    """A bridge on a private /24 with a dnsmasq leasing addresses on it, and nothing else."""

    def __init__(self, folder):
        self.folder = folder
        self.bridge, self.taps, self.dnsmasq = f"sbrd{suffix()}", [], None
        taken = run("ip", "-4", "-o", "addr").stdout
        third = random.choice([n for n in range(1, 250) if f" 10.78.{n}." not in taken])
        self.prefix = f"10.78.{third}"
        self.address = f"{self.prefix}.1"
        run("ip", "link", "add", self.bridge, "type", "bridge")
        run("ip", "addr", "add", f"{self.address}/24", "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        self.dnsmasq = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-hosts",
             "--no-resolv", "--port=0", "--bind-interfaces", f"--interface={self.bridge}",
             "--dhcp-authoritative", "--leasefile-ro",
             f"--dhcp-range={self.prefix}.10,{self.prefix}.50,255.255.255.0,1h",
             f"--log-facility={folder}/dnsmasq.log", "--log-dhcp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def tap(self):
        name = f"sbrt{suffix()}"
        run("ip", "tuntap", "add", name, "mode", "tap")
        self.taps.append(name)
        run("ip", "link", "set", name, "master", self.bridge)
        run("ip", "link", "set", name, "up")
        return name

    def remove(self):
        if self.dnsmasq:
            self.dnsmasq.terminate()
            self.dnsmasq.wait(10)
        for name in [*self.taps, self.bridge]:
            run("ip", "link", "del", name, check=False)


@pytest.fixture
def network(tmp_path):
    network = ProvisioningNetwork(tmp_path)
    try:
        yield network
    finally:
        network.remove()


class Machine:
    """A qemu TCG VM that boots the ramdisk directly, with one blank virtio disk and a virtio NIC
    on the provisioning bridge; it ends when the ramdisk powers off or reboots (-no-reboot)."""

    def __init__(self, ramdisk, folder, network, mode, api, disk=None):
        self.folder = folder
        self.mac = "52:54:00:" + ":".join(f"{random.randrange(256):02x}" for _ in range(3))
        self.serial = f"SB-{suffix()}"
        self.disk = disk or folder / "disk.raw"
        if disk is None:
            with open(self.disk, "wb") as stream:
                stream.truncate(DISK_BYTES)
        self.console = folder / f"console-{mode}.log"
        bootif = "01-" + self.mac.replace(":", "-")
        self.process = subprocess.Popen(
            ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-smp", "2", "-m", str(MEMORY_MB),
             "-nodefaults", "-display", "none", "-no-reboot", "-serial", f"file:{self.console}",
             "-kernel", str(ramdisk / "vmlinuz"), "-initrd", str(ramdisk / "initrd.img"),
             "-append", f"{CONSOLE_ARGS} ipa-api-url={api.url} ipa-mode={mode} "
                        f"ipa-node={api.node_id} BOOTIF={bootif}",
             "-smbios", f"type=1,manufacturer=Stackbox Lab,product=ramdisk-vm,"
                        f"serial={self.serial}",
             "-drive", f"file={self.disk},format=raw,if=none,id=disk0",
             "-device", f"virtio-blk-pci,drive=disk0,serial={self.serial}-disk",
             "-netdev", f"tap,id=nic0,ifname={network.tap()},script=no,downscript=no",
             "-device", f"virtio-net-pci,netdev=nic0,mac={self.mac},romfile="],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def lines(self):
        text = self.console.read_text(errors="replace") if self.console.exists() else ""
        return [line.strip() for line in text.splitlines()
                if line.startswith("stackbox-ramdisk:")]

    def wait_until_off(self, timeout=240):
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the VM did not power off within {timeout} s; its console:\n"
                        + self.console.read_text(errors="replace")[-4000:])
        lines = self.lines()
        assert lines, f"qemu ended with nothing on the console: {self.process.stderr.read()}"
        return lines

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def boot_from_disk(disk, console, timeout=120) -> list[str]:
    """Boot `disk` (no NIC) in qemu TCG until its tiny guest says ready; its console lines."""
    process = subprocess.Popen(
        ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "256", "-nodefaults",
         "-display", "none", "-serial", f"file:{console}",
         "-drive", f"file={disk},format=raw,if=virtio"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            text = console.read_text(errors="replace") if console.exists() else ""
            if "stackbox-guest: ready" in text:
                return [line.strip() for line in text.splitlines()]
            time.sleep(0.5)
        pytest.fail(f"the tiny guest did not get ready from its disk within {timeout} s; "
                    f"its console:\n{console.read_text(errors='replace')[-4000:]}")
    finally:
        process.kill()
        process.wait(10)


@pytest.fixture
def machines():
    started = []
    yield started
    for machine in started:
        machine.kill()


def test_inspection_reports_the_vm_as_it_was_started(deploy_ramdisk, network, machines,
                                                     tmp_path):
    api = FakeBaremetalAPI(network.address, str(uuid.uuid4()))
    try:
        started = time.monotonic()
        machine = Machine(deploy_ramdisk, tmp_path, network, "inspect", api)
        machines.append(machine)
        lines = machine.wait_until_off()
        elapsed = time.monotonic() - started
    finally:
        api.close()

    assert lines[0] == "stackbox-ramdisk: up"
    assert lines[1].startswith(f"stackbox-ramdisk: dhcp {network.prefix}.")
    address = lines[1].rsplit(" ", 1)[1]
    assert lines[2:] == ["stackbox-ramdisk: inventory posted",
                         f"stackbox-ramdisk: node {api.node_id}",
                         "stackbox-ramdisk: powering off"]
    [inventory] = api.inventories
    assert inventory["cpu"]["count"] == 2
    assert inventory["cpu"]["architecture"] == "x86_64"
    assert inventory["memory"]["physical_mb"] == MEMORY_MB
    assert 0 < inventory["memory"]["total"] <= MEMORY_MB * MIB
    assert inventory["disks"] == [{"name": "/dev/vda", "size": DISK_BYTES, "model": None,
                                   "vendor": "0x1af4", "serial": f"{machine.serial}-disk",
                                   "rotational": True}]
    assert inventory["interfaces"] == [{"name": "eth0", "mac_address": machine.mac,
                                        "ipv4_address": address}]
    assert inventory["system_vendor"] == {"manufacturer": "Stackbox Lab",
                                          "product_name": "ramdisk-vm",
                                          "serial_number": machine.serial}
    assert inventory["boot"] == {"current_boot_mode": "bios", "pxe_interface": machine.mac}
    assert inventory["bmc_address"] is None
    print(f"\nramdisk inspection: powered off {elapsed:.1f} s after qemu started (TCG)")


def test_deploy_writes_the_image_and_reports_bad_ones_then_clean_wipes_it(
        deploy_ramdisk, network, machines, tiny_guest, tmp_path):
    image = tmp_path / "tiny.raw"
    run("qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw",
        str(tiny_guest["folder"] / "tiny-guest.qcow2"), str(image))
    image_bytes = image.read_bytes()
    checksum = hashlib.sha256(image_bytes).hexdigest()
    # The bad checksum is checked on a small image: TCG hashes slowly.
    small = tmp_path / "small.raw"
    small.write_bytes(image_bytes[:MIB])
    node_id = str(uuid.uuid4())
    drive = tmp_path / "configdrive.iso"
    drive_size = configdrive.write(node_id, "lab-node", {"meta_data": {"hostname": "lab"}},
                                   str(drive))
    api = FakeBaremetalAPI(network.address, node_id,
                           {"tiny.raw": image, "small.raw": small, "configdrive.iso": drive})

    def write_image(url, checksum, algo="sha256", **configdrive_params):
        return {"name": "write_image", "params": {
            "url": url, "checksum": checksum, "checksum_algo": algo, "disk_format": "raw",
            "target_disk": None, **configdrive_params}}
    try:
        api.commands = [write_image(f"{api.url}/images/missing.raw", checksum),
                        write_image(f"{api.url}/images/small.raw", "0" * 64),
                        write_image(f"{api.url}/images/tiny.raw", checksum.upper(),
                                    configdrive_url=f"{api.url}/images/configdrive.iso",
                                    configdrive_size=drive_size),
                        {"name": "reboot", "params": {}}]
        started = time.monotonic()
        deploying = Machine(deploy_ramdisk, tmp_path, network, "deploy", api)
        machines.append(deploying)
        deploy_lines = deploying.wait_until_off()
        deploy_results = [beat["command_result"] for beat in api.heartbeats]
        deployed = time.monotonic() - started
        written = deploying.disk.read_bytes()
        guest_lines = boot_from_disk(deploying.disk, tmp_path / "console-guest.log")

        api.heartbeats, api.lookups = [], []
        api.commands = [{"name": "erase_devices", "params": {}},
                        {"name": "power_off", "params": {}}]
        started = time.monotonic()
        cleaning = Machine(deploy_ramdisk, tmp_path, network, "clean", api,
                           disk=deploying.disk)
        machines.append(cleaning)
        clean_lines = cleaning.wait_until_off()
        clean_results = [beat["command_result"] for beat in api.heartbeats]
        clean_lookups = api.lookups
        cleaned = time.monotonic() - started
    finally:
        api.close()

    assert deploy_lines[2:] == [
        f"stackbox-ramdisk: lookup {api.node_id}",
        "stackbox-ramdisk: command write_image",
        f"stackbox-ramdisk: command write_image failed: downloading {api.url}/images/"
        "missing.raw failed: server returned error: HTTP/1.0 404 Not Found",
        "stackbox-ramdisk: command write_image",
        f"stackbox-ramdisk: command write_image failed: checksum mismatch for {api.url}/images/"
        f"small.raw: its sha256 is {hashlib.sha256(image_bytes[:MIB]).hexdigest()}, "
        f"expected {'0' * 64}",
        "stackbox-ramdisk: command write_image",
        f"stackbox-ramdisk: image written {len(image_bytes)} bytes sha256 ok",
        f"stackbox-ramdisk: config drive written {drive_size} bytes at sector {DRIVE_START}",
        "stackbox-ramdisk: command reboot",
        "stackbox-ramdisk: rebooting"]
    assert [result and result["status"] for result in deploy_results] == \
        [None, "FAILED", "FAILED", "SUCCEEDED"]
    assert "404" in deploy_results[1]["error"]
    assert "checksum mismatch" in deploy_results[2]["error"]
    assert deploy_results[3] == {"name": "write_image", "status": "SUCCEEDED", "error": None}
    # The image's MBR gained the config drive's entry in its second slot, the disk's last
    # 64 MiB (the tiny guest fills the first 64 MiB); the rest is the image, then zeros.
    drive_entry = bytes([0, 0xFE, 0xFF, 0xFF, 0x83, 0xFE, 0xFF, 0xFF]) + \
        struct.pack("<II", DRIVE_START, DISK_BYTES // 512 - DRIVE_START)
    assert written[446 + 16:446 + 32] == drive_entry
    assert written[:462] + written[478:len(image_bytes)] == image_bytes[:462] + \
        image_bytes[478:]
    drive_at = DRIVE_START * 512
    assert written[len(image_bytes):drive_at] == bytes(drive_at - len(image_bytes))
    assert written[drive_at:drive_at + drive_size] == drive.read_bytes()
    assert written[drive_at + drive_size:] == bytes(DISK_BYTES - drive_at - drive_size)

    # The tiny guest, booted from that disk, finds the drive in its partition.
    assert "stackbox-guest: config drive /dev/vda2" in guest_lines
    assert "stackbox-guest: hostname lab" in guest_lines

    assert clean_lookups == [[cleaning.mac]]
    assert clean_lines[2:] == [f"stackbox-ramdisk: lookup {api.node_id}",
                               "stackbox-ramdisk: command erase_devices",
                               "stackbox-ramdisk: erased /dev/vda",
                               "stackbox-ramdisk: command power_off",
                               "stackbox-ramdisk: powering off"]
    assert clean_results == [None, {"name": "erase_devices", "status": "SUCCEEDED",
                                    "error": None}]
    wiped = cleaning.disk.read_bytes()
    # The MBR, the FAT partition's boot sector at 1 MiB and the disk's last MiB are zero now.
    assert wiped[:2 * MIB] == bytes(2 * MIB)
    assert wiped[-MIB:] == bytes(MIB)
    assert image_bytes[:512] != bytes(512) and image_bytes[MIB:MIB + 512] != bytes(512)
    print(f"\nramdisk deploy of {len(image_bytes) // MIB} MiB (and two failures): {deployed:.1f} s;"
          f" clean: {cleaned:.1f} s, from qemu's start to its end (TCG)")
