"""The overcloud node's disk under real qemu: built from the cached rootfs in seconds, written
to a 3 GiB disk with a config drive partition at its end (as the deploy ramdisk leaves it), it
boots to systemd, grows its root into the disk, takes its hostname, SSH key and static address
from the config drive and answers SSH; a reboot finds all done."""
import json
import os
import random
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from undercloud.compute.drivers.instance import Instance, Nic
from undercloud.host import disks

pytestmark = pytest.mark.lab
BUILD = Path(__file__).resolve().parents[2] / "images" / "overcloud-node" / "build"
MIB = 1024 * 1024
DISK_BYTES = 3 * 1024 * MIB
CONFIG_DRIVE_SECTORS = 131072  # 64 MiB at the disk's end, as the contract's part 2 says
MAC = "52:54:00:79:00:10"
HOSTNAME = "overcloud-node-0"


@pytest.fixture(scope="module")
def node_disk(tmp_path_factory):
    """The built disk: manifest.json's content plus its folder."""
    if os.geteuid() != 0:
        pytest.skip("lab tests run qemu:///system and need root")
    output = tmp_path_factory.mktemp("overcloud-node-disk")
    # The rootfs and the kernel are cached under ~/.cache/stackbox: only the disk is built.
    result = subprocess.run([sys.executable, str(BUILD), "--disk", str(output)],
                            capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr
    print(f"\n{result.stderr.strip()}")
    manifest = json.loads((output / "manifest.json").read_text())
    assert manifest["build_seconds"] < 60, "the disk takes seconds once the rootfs is cached"
    manifest["folder"] = output
    return manifest


@pytest.fixture
def bridge():
    """A bridge on a free 10.79.x.1/24, with nothing routed or forwarded beyond it."""
    name = f"sbnd{os.getpid() % 100000}"
    taken = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    prefix = f"10.79.{random.choice([n for n in range(1, 250) if f' 10.79.{n}.' not in taken])}"
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "addr", "add", f"{prefix}.1/24", "dev", name], check=True)
        subprocess.run(["ip", "link", "set", name, "up"], check=True)
        yield name, prefix
    finally:
        subprocess.run(["ip", "link", "del", name], check=False)


@pytest.fixture
def ssh_key(lab_dir):
    path = os.path.join(lab_dir, "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lab@stackbox",
                    "-f", path], check=True)
    return path


def add_config_drive(raw, folder, meta_data, network_data):
    """The deploy ramdisk's job, small: an ISO labelled config-2 in a new last MBR entry."""
    latest = os.path.join(folder, "config-drive", "openstack", "latest")
    os.makedirs(latest)
    for name, document in (("meta_data.json", meta_data), ("network_data.json", network_data)):
        with open(os.path.join(latest, name), "w") as stream:
            json.dump(document, stream)
    iso = os.path.join(folder, "config-drive.iso")
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-V", "config-2", "-J", "-r",
                    "-o", iso, os.path.join(folder, "config-drive")], check=True,
                   capture_output=True)
    sectors = os.path.getsize(raw) // 512
    start = (sectors - CONFIG_DRIVE_SECTORS) // 2048 * 2048
    with open(raw, "r+b") as disk, open(iso, "rb") as image:
        mbr = bytearray(disk.read(512))
        slot = next(446 + 16 * n for n in range(4) if mbr[446 + 16 * n + 4] == 0)
        mbr[slot:slot + 16] = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x83,
                                          b"\xfe\xff\xff", start, sectors - start)
        disk.seek(0)
        disk.write(mbr)
        disk.seek(start * 512)
        disk.write(image.read())
    return start


def ssh(key, address, *command):
    return subprocess.run(
        ["ssh", "-i", key, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5",
         f"root@{address}", *command], capture_output=True, text=True, timeout=120)


def wait_for_ssh(key, address, timeout):
    deadline = time.monotonic() + timeout
    while True:
        result = ssh(key, address, "true")
        if result.returncode == 0:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"no SSH to {address} within {timeout} s: {result.stderr.strip()}")
        time.sleep(2)


def test_the_node_disk_boots_applies_its_config_drive_and_answers_ssh(
        node_disk, lab_dir, driver, wait_for_console, bridge, ssh_key):
    bridge_name, prefix = bridge
    address = f"{prefix}.10"
    raw = os.path.join(lab_dir, "disk.raw")
    subprocess.run(["qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw",
                    str(node_disk["folder"] / "overcloud-node.qcow2"), raw], check=True)
    os.truncate(raw, DISK_BYTES)
    instance_id = str(uuid.uuid4())
    with open(f"{ssh_key}.pub") as stream:
        public_key = stream.read().strip()
    config_drive_start = add_config_drive(
        raw, lab_dir,
        {"uuid": instance_id, "hostname": HOSTNAME, "public_keys": {"lab": public_key}},
        {"links": [{"id": "nic0", "type": "phy", "ethernet_mac_address": MAC}],
         "networks": [{"id": "ctlplane", "type": "ipv4", "link": "nic0",
                       "ip_address": address, "netmask": "255.255.255.0"}]})
    disk = os.path.join(lab_dir, "disk.qcow2")  # the domain's disk: an overlay on the raw one
    disks.create_overlay(raw, disk)
    instance = Instance(uuid=instance_id, name=f"overcloud-node-{instance_id}", vcpus=2,
                        memory_mb=1536, disk_path=disk,
                        console_log_path=os.path.join(lab_dir, "console.log"),
                        nics=[Nic(mac=MAC, bridge=bridge_name)])
    _, root = node_disk["partitions"]
    try:
        started = time.monotonic()
        driver.spawn(instance)
        console = wait_for_console(driver, instance_id, "stackbox-node: switching root",
                                   timeout=300)
        wait_for_ssh(ssh_key, address, timeout=600)
        to_ssh = time.monotonic() - started

        steps = [line for line in console.splitlines() if line.startswith("stackbox-node:")]
        assert steps == [
            f"stackbox-node: booting, kernel {node_disk['kernel']}",
            "stackbox-node: drivers loaded",
            "stackbox-node: root /dev/vda2",
            f"stackbox-node: root partition grown to {config_drive_start - root['start']} "
            "sectors",
            "stackbox-node: config drive /dev/vda3",
            f"stackbox-node: instance {instance_id}",
            f"stackbox-node: hostname {HOSTNAME}",
            "stackbox-node: ssh keys 1",
            f"stackbox-node: network {MAC} {address}/24 static",
            "stackbox-node: switching root",
        ]
        assert ssh(ssh_key, address, "hostname").stdout.strip() == HOSTNAME
        state = ssh(ssh_key, address, "systemctl", "is-system-running", "--wait").stdout.strip()
        failed = ssh(ssh_key, address, "systemctl", "--failed", "--plain", "--no-legend").stdout
        assert state in ("running", "degraded"), state
        assert failed.strip() == "", f"failed units:\n{failed}"
        root_bytes = int(ssh(ssh_key, address, "df", "-B1", "--output=size", "/").stdout
                         .split()[-1])
        assert root_bytes > root["sectors"] * 512
        assert ssh(ssh_key, address, "python3", "--version").stdout.startswith("Python 3.")
        routes = ssh(ssh_key, address, "ip", "-4", "route").stdout
        assert "default" not in routes and f"{prefix}.0/24" in routes

        ssh(ssh_key, address, "systemctl", "reboot")
        console = wait_for_console(driver, instance_id, "stackbox-node: switching root",
                                   count=2, timeout=300)
        wait_for_ssh(ssh_key, address, timeout=300)
        again = [line for line in console.splitlines() if line.startswith("stackbox-node:")]
        assert again[len(steps):] == [
            *steps[:3],
            f"stackbox-node: root partition has {config_drive_start - root['start']} sectors, "
            "no free space after it",
            "stackbox-node: config drive /dev/vda3",
            f"stackbox-node: instance {instance_id} already configured",
            "stackbox-node: switching root",
        ]
        assert ssh(ssh_key, address, "hostname").stdout.strip() == HOSTNAME
        image = node_disk["files"]["overcloud-node.qcow2"]
        print(f"overcloud node disk: built in {node_disk['build_seconds']} s, qcow2 "
              f"{image['bytes'] / MIB:.0f} MiB, raw {image['virtual_bytes'] / MIB:.0f} MiB "
              f"(test disk {DISK_BYTES // MIB} MiB), root fs {root_bytes / MIB:.0f} MiB after "
              f"growing; power-on to SSH {to_ssh:.0f} s ({driver.virt_type}); system {state}")
    finally:
        driver.undefine(instance_id)
