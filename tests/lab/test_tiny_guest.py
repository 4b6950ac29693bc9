"""Our "cirros" under real qemu: it boots from its own disk through the libvirt driver, reads
its config drive, says so on the serial console, and powers off on ACPI's power button."""
import os
import time
import uuid

import pytest

from undercloud.compute.configdrive import ConfigDrive, Keypair
from undercloud.compute.drivers import power_state
from undercloud.compute.drivers.instance import Instance
from undercloud.host import disks

pytestmark = pytest.mark.lab
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeLabKeyFakeLabKeyFakeLabKeyFakeLab lab@stackbox"
USER_DATA = b"#!/bin/sh\necho \"stackbox-lab-marker $(hostname)\"\n"


def test_tiny_guest_boots_applies_its_config_drive_and_shuts_down_gracefully(
        tiny_guest, tiny_guest_stream, lab_dir, driver, wait_for_console):
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
    try:
        started = time.monotonic()
        driver.spawn(instance)
        console = wait_for_console(driver, instance_id, "stackbox-guest: ready", timeout=60)
        booted = time.monotonic() - started

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
            "stackbox-guest: ready",
        ]
        assert driver.power_state(instance_id) == power_state.RUNNING

        started = time.monotonic()
        assert driver.shutdown(instance_id, timeout=30) is True, "the guest ignored ACPI"
        stopped = time.monotonic() - started
        assert "stackbox-guest: power button pressed, powering off" in \
            driver.console_output(instance_id)
        assert driver.power_state(instance_id) == power_state.SHUTDOWN
        print(f"\ntiny guest: built in {tiny_guest['build_seconds']} s, ready {booted:.1f} s "
              f"after spawn ({driver.virt_type}), ACPI shutdown took {stopped:.1f} s")
    finally:
        driver.undefine(instance_id)
        disks.delete(files.folder)
        cache.remove("tiny-guest")

    assert driver.power_state(instance_id) == power_state.NOSTATE
    assert instance_id not in [info.uuid for info in driver.list_instances()]
    assert not os.path.exists(files.folder)
    assert cache.cached() == []
