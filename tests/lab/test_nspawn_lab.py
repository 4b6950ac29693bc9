"""`stackbox lab up --kind nspawn`: deployed servers as nspawn hosts behind BMCs, driven as a
user would with `stackbox lab`, ssh (with the written inventory) and ipmitool. Root only (a
bridge, containers). Its own bridge and network: br-nslab, 10.252.0.0/24."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fixtures.baremetal_lab import stackbox, suffix, wait_for
from tests.fixtures.ports import free_ports

pytestmark = [pytest.mark.lab]
BRIDGE = "br-nslab"
FIRST_ADDRESS = "10.252.0.10"
ANSIBLE = Path(sys.executable).parent / "ansible"


@pytest.fixture
def root():
    if os.geteuid() != 0:
        pytest.skip("the nspawn lab makes a bridge and containers: root only")
    assert shutil.which("systemd-nspawn"), "systemd-nspawn is missing (Debian: systemd-container)"


class NspawnLab:
    def __init__(self, folder: str):
        self.folder = folder
        self.name = f"ns{suffix()}"
        self.first_bmc_port = free_ports(3, "udp")

    def stackbox(self, *args):
        return stackbox("lab", *args, "--lab-dir", self.folder, "--data-dir", self.folder,
                        timeout=300)

    def up(self, count: int):
        return self.stackbox("up", "--kind", "nspawn", "--nodes", str(count), "--name",
                             self.name, "--bridge", BRIDGE, "--first-address", FIRST_ADDRESS,
                             "--first-bmc-port", str(self.first_bmc_port))

    @property
    def state(self) -> dict:
        return json.loads((Path(self.folder) / "lab.json").read_text())

    def inventory(self) -> dict:
        text = (Path(self.folder) / "deployed-servers.yaml").read_text()
        return yaml.safe_load(text)["all"]

    def ssh(self, host: str, *command: str) -> subprocess.CompletedProcess:
        """ssh as the inventory says, checking the host key as Ansible would."""
        inventory = self.inventory()
        entry = inventory["hosts"][host]
        return subprocess.run(
            ["ssh", *inventory["vars"]["ansible_ssh_common_args"].split(),
             "-i", entry["ansible_ssh_private_key_file"], "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=3",
             f"{entry['ansible_user']}@{entry['ansible_host']}", *command],
            capture_output=True, text=True, timeout=30)

    def ipmitool(self, host: str, *args) -> subprocess.CompletedProcess:
        node = next(node for node in self.state["nodes"] if node["name"] == host)
        bmc = node["bmc"]
        return subprocess.run(["ipmitool", "-I", "lanplus", "-H", bmc["address"], "-p",
                               str(bmc["port"]), "-U", bmc["username"], "-P", bmc["password"],
                               *args], capture_output=True, text=True, timeout=60)

    def processes(self) -> list[str]:
        listing = subprocess.run(["ps", "-ww", "-eo", "args"], capture_output=True,
                                 text=True).stdout
        return [line for line in listing.splitlines() if self.folder in line]

    def links(self) -> list[str]:
        listing = subprocess.run(["ip", "-o", "link", "show"], capture_output=True,
                                 text=True).stdout
        return [line.split(":")[1].strip().split("@")[0] for line in listing.splitlines()]


@pytest.mark.timeout(240)
def test_nspawn_hosts_behind_bmcs_grow_and_go(root, lab_dir):
    lab = NspawnLab(lab_dir)
    first, second, third = (f"{lab.name}-{index}" for index in range(3))
    try:
        result = lab.up(2)
        assert result.returncode == 0, f"lab up failed:\n{result.stdout}{result.stderr}"
        assert f"{first:<14}{'10.252.0.10':<17}" in result.stdout
        assert "running, ssh answers" in result.stdout
        assert sorted(lab.inventory()["hosts"]) == [first, second]
        for host in (first, second):
            answer = lab.ssh(host, "hostname")
            assert answer.returncode == 0, answer.stderr
            assert answer.stdout.strip() == host
        machine_ids = {lab.ssh(host, "cat", "/etc/machine-id").stdout for host in (first, second)}
        assert len(machine_ids) == 2
        if ANSIBLE.exists():
            ping = subprocess.run([str(ANSIBLE), "all", "-i",
                                   str(Path(lab_dir) / "deployed-servers.yaml"), "-m", "ping"],
                                  capture_output=True, text=True, timeout=120)
            assert ping.returncode == 0, ping.stdout + ping.stderr

        # The BMC pulls the plug and powers the host on again.
        assert lab.ipmitool(second, "power", "off").returncode == 0
        assert lab.ipmitool(second, "power", "status").stdout.strip().endswith("off")
        assert f"vb-{second}" not in lab.links()
        assert lab.ssh(second, "true").returncode != 0
        status = lab.stackbox("status")
        assert status.returncode == 1 and "stopped" in status.stdout
        assert lab.ipmitool(second, "power", "on").returncode == 0
        assert lab.ipmitool(second, "power", "status").stdout.strip().endswith("on")
        wait_for(lambda: lab.ssh(second, "true").returncode == 0, 60, 0.5,
                 f"ssh into {second} after power on")

        # One more host; the running ones are left as they are.
        running = {node["name"]: node["pid"] for node in lab.state["nodes"]}
        result = lab.up(3)
        assert result.returncode == 0, f"lab up --nodes 3 failed:\n{result.stdout}{result.stderr}"
        assert lab.state["nodes"][0]["pid"] == running[first]
        assert lab.ssh(third, "hostname").stdout.strip() == third
        status = lab.stackbox("status")
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("running  yes") == 3
    finally:
        passwords = [node["bmc"]["password"] for node in lab.state["nodes"]] \
            if (Path(lab_dir) / "lab.json").exists() else []
        down = lab.stackbox("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not lab.processes()
    assert not [link for link in lab.links() if link.startswith(f"vb-{lab.name}")]
    assert BRIDGE not in lab.links()
    assert not (Path(lab_dir) / "hosts").exists()
    assert not (Path(lab_dir) / "lab.json").exists()
    for log in (Path(lab_dir) / "logs").glob("*"):
        assert not any(password in log.read_text(errors="replace") for password in passwords)
