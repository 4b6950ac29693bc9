"""Acceptance (1) on a real qemu guest (TCG): the real CLI boots the tiny guest with a config
drive, a key and user data; its console shows it read them; a guest destroyed behind our back
turns SHUTOFF; delete leaves no domain, disk or cached image."""
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures.undercloud import listed, openstack_cli, start

MARKER = "stackbox-user-data-marker-7f3a"


def _virsh(*args) -> str:
    return subprocess.run(["virsh", "-c", "qemu:///system", *args], capture_output=True,
                          text=True, check=False).stdout


def _wait(check, what, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {timeout} s")


def test_boot_console_shutoff_and_delete(tiny_guest, lab_dir, clients_venv):
    started = time.monotonic()
    cloud = start(Path(lab_dir) / "undercloud", ["identity", "image", "compute", "metadata"],
                  {"compute": {"virt_uri": "qemu:///system", "host": "lab1",
                               "report_interval": 1, "power_sync_interval": 1}})
    work = Path(lab_dir)

    cli = openstack_cli(clients_venv, cloud, logs=("compute",))

    try:
        cli("image", "create", "--disk-format", "qcow2", "--container-format", "bare",
            "--public", "--file", str(tiny_guest["folder"] / "tiny-guest.qcow2"), "tiny")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(work / "id_k1")], check=True)
        cli("keypair", "create", "--public-key", str(work / "id_k1.pub"), "k1")
        script = work / "script.sh"
        script.write_text(f"#!/bin/sh\necho {MARKER}\n")
        _wait(lambda: listed(cli, "hypervisor", "list"), "host report", 30)
        server = cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--nic",
                     "none", "--config-drive", "true", "--key-name", "k1", "--user-data",
                     str(script), "--wait", "vm1", "-f", "json")
        assert server["status"] == "ACTIVE"
        uuid = server["id"]
        console = _wait(lambda: (lambda text: text if "stackbox-guest: ready" in text
                                 else None)(cli("console", "log", "show", "vm1")),
                        "the guest's ready line", 60)
        assert f"stackbox-guest: uuid {uuid}" in console
        assert "stackbox-guest: ssh key installed for root (k1)" in console
        assert MARKER in console and "stackbox-guest: user_data ran, exit 0" in console

        def status_is(wanted):
            return lambda: (lambda s: s if s["status"] == wanted else None)(
                cli("server", "show", "vm1", "-f", "json"))

        # Every action on the real hypervisor, as the issue lists them.
        cli("server", "stop", "vm1")
        _wait(status_is("SHUTOFF"), "SHUTOFF after stop", 90)
        cli("server", "start", "vm1")
        _wait(status_is("ACTIVE"), "ACTIVE after start", 60)
        cli("server", "reboot", "--hard", "--wait", "vm1")
        cli("server", "rebuild", "--image", "tiny", "--wait", "vm1")
        cli("server", "resize", "--flavor", "m1.small", "--wait", "vm1")
        _wait(status_is("VERIFY_RESIZE"), "VERIFY_RESIZE", 60)
        cli("server", "resize", "confirm", "vm1")
        resized = _wait(status_is("ACTIVE"), "ACTIVE after resize confirm", 60)
        flavor = resized["flavor"]  # a name, or Nova 2.47's embedded flavor
        assert "m1.small" in (flavor.get("original_name") or flavor.get("name")
                              if isinstance(flavor, dict) else flavor)

        _virsh("destroy", f"instance-{uuid}")
        stopped = _wait(lambda: (lambda s: s if s["status"] == "SHUTOFF" else None)(
            cli("server", "show", "vm1", "-f", "json")), "SHUTOFF after virsh destroy", 15)
        assert stopped["OS-EXT-STS:power_state"] in (4, "Shutdown")

        cli("server", "delete", "--wait", "vm1")
        assert f"instance-{uuid}" not in _virsh("list", "--all", "--name")
        data = Path(cloud.config["data_dir"]) / "compute"
        assert os.listdir(data / "instances") == []
        assert [name for name in os.listdir(data / "_base") if not name.startswith(".")] == []
    finally:
        cloud.stop()
        for name in _virsh("list", "--all", "--name").split():  # a failed run's guest
            if str(work) in _virsh("dumpxml", name):
                _virsh("destroy", name)
                _virsh("undefine", name, "--managed-save")
        print(f"lab compute boot took {time.monotonic() - started:.1f} s")
