"""Our "cirros" under real qemu through the libvirt driver, one boot for all of it: it boots from
its own disk, reads its config drive (uuid, hostname, key, user_data) and says so on the serial
console; then pause, suspend to disk and back, NIC hot-plug on a Linux bridge, soft and hard
reboot, snapshot export, a graceful power-off on ACPI's button, and nothing left behind."""
import os
import subprocess
import time
import uuid

import pytest

from undercloud.compute.configdrive import ConfigDrive, Keypair
from undercloud.compute.drivers import power_state
from undercloud.compute.drivers.instance import Instance, Nic
from undercloud.host import disks

pytestmark = pytest.mark.lab
READY = "stackbox-guest: ready"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeLabKeyFakeLabKeyFakeLabKeyFakeLab lab@stackbox"
USER_DATA = b"#!/bin/sh\necho \"stackbox-lab-marker $(hostname)\"\n"


@pytest.fixture
def bridge():
    name = f"sbxlab{os.getpid() % 100000}"
    subprocess.run(["ip", "link", "add", name, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", name, "up"], check=True)
    yield name
    subprocess.run(["ip", "link", "del", name], check=False)


def ports_of(bridge):
    output = subprocess.run(["ip", "-o", "link", "show", "master", bridge],
                            capture_output=True, text=True, check=True).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in output.splitlines()]


def test_lifecycle(tiny_guest, tiny_guest_stream, lab_dir, driver, wait_for_console, bridge):
    cache = disks.ImageCache(os.path.join(lab_dir, "_base"))
    checksum = {"sha256": tiny_guest["files"]["tiny-guest.qcow2"]["sha256"]}
    base = cache.fetch("tiny-guest", tiny_guest_stream, checksum)
    instance_id = str(uuid.uuid4())
    files = disks.instance_files(os.path.join(lab_dir, "instances"), instance_id)
    disks.create_overlay(base.path, files.disk, size_gb=1)
    ConfigDrive(uuid=instance_id, name="vm1", keys=[Keypair("lab", KEY)],
                user_data=USER_DATA).write(files.config_drive)
    instance = Instance(uuid=instance_id, name=f"instance-{instance_id}", vcpus=1,
                        memory_mb=128, disk_path=files.disk,
                        config_drive_path=files.config_drive, console_log_path=files.console_log)
    tap = f"tap{instance_id[:8]}"
    timings = {}
    try:
        started = time.monotonic()
        driver.spawn(instance)
        console = wait_for_console(driver, instance_id, READY)
        timings["boot"] = time.monotonic() - started
        steps = [line for line in console.splitlines()
                 if line.startswith(("stackbox-guest:", "stackbox-lab-marker"))]
        assert steps == [
            f"stackbox-guest: booting, kernel {tiny_guest['kernel']}",
            "stackbox-guest: drivers loaded",
            "stackbox-guest: power button armed",
            "stackbox-guest: config drive /dev/sr0",
            f"stackbox-guest: uuid {instance_id}",
            "stackbox-guest: hostname vm1",
            "stackbox-guest: ssh key installed for root (lab)",
            "stackbox-lab-marker vm1",
            "stackbox-guest: user_data ran, exit 0",
            READY,
        ]

        driver.pause(instance_id)
        assert driver.power_state(instance_id) == power_state.PAUSED
        snapshot = disks.export_snapshot(files.disk, os.path.join(lab_dir, "snap.qcow2"),
                                         force_share=True)
        assert (snapshot.format, snapshot.backing_file) == ("qcow2", None)
        driver.unpause(instance_id)
        assert driver.power_state(instance_id) == power_state.RUNNING

        driver.suspend(instance_id)
        assert driver.power_state(instance_id) == power_state.SUSPENDED
        driver.resume(instance_id)
        assert driver.power_state(instance_id) == power_state.RUNNING
        # Restored from memory, not booted again.
        assert driver.console_output(instance_id).count(READY) == 1

        driver.attach_interface(instance_id, Nic("fa:16:3e:5b:0c:01", bridge=bridge, tap=tap))
        assert ports_of(bridge) == [tap]
        driver.detach_interface(instance_id, "fa:16:3e:5b:0c:01")
        deadline = time.monotonic() + 20
        while ports_of(bridge) and time.monotonic() < deadline:  # the guest acks the unplug
            time.sleep(0.2)
        assert ports_of(bridge) == []

        started = time.monotonic()
        assert driver.reboot(instance_id, timeout=30) == "soft"
        wait_for_console(driver, instance_id, READY, count=2)
        timings["soft reboot"] = time.monotonic() - started
        started = time.monotonic()
        assert driver.reboot(instance_id, hard=True) == "hard"
        wait_for_console(driver, instance_id, READY, count=3)
        timings["hard reboot"] = time.monotonic() - started
        assert driver.power_state(instance_id) == power_state.RUNNING

        started = time.monotonic()
        assert driver.shutdown(instance_id, timeout=30) is True, "the guest ignored ACPI"
        timings["ACPI power-off"] = time.monotonic() - started
        assert "stackbox-guest: power button pressed, powering off" in \
            driver.console_output(instance_id)
        assert driver.power_state(instance_id) == power_state.SHUTDOWN
        print(f"\ntiny guest built in {tiny_guest['build_seconds']} s ({driver.virt_type}); "
              + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))
    finally:
        driver.undefine(instance_id)
        disks.delete(files.folder)
        disks.delete(os.path.join(lab_dir, "snap.qcow2"))
        cache.remove("tiny-guest")

    assert driver.power_state(instance_id) == power_state.NOSTATE
    assert os.listdir(os.path.join(lab_dir, "instances")) == []
    assert cache.cached() == []
    assert instance_id not in [info.uuid for info in driver.list_instances()]
