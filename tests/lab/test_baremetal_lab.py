"""Issue 7's acceptance on a 2-node lab: `stackbox lab up` VMs behind their BMCs, an
undercloud whose conductor PXE-boots them, driven as a user would with `stackbox node`, the
real python-ironicclient (`openstack baremetal ...`) and ipmitool. Root only (qemu:///system,
a bridge, dnsmasq)."""
import os
import subprocess

import libvirt
import pytest

from tests.fixtures.baremetal_lab import Lab, suffix, wait_for

pytestmark = [pytest.mark.lab]
libvirt.registerErrorHandler(lambda context, error: None, None)


def _links() -> str:
    return subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout


def _bmc_processes(folder: str) -> list[str]:
    processes = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in processes.splitlines()
            if "undercloud.lab.bmc" in line and folder in line]


@pytest.fixture
def root():
    if os.geteuid() != 0:
        pytest.skip("the lab runs qemu:///system and makes a bridge: root only")


@pytest.mark.timeout(300)
def test_lab_up_gives_vms_behind_bmcs_and_down_removes_them(root, lab_dir):
    """The lab alone (no undercloud): a VM's BMC powers it on into network boot."""
    bridge = f"sbxlab{suffix()}"
    lab = Lab(lab_dir, 1, bridge, memory_mb=256)
    try:
        lab.up()
        [node] = lab.nodes
        assert f" {bridge}:" in _links()
        with open(os.path.join(lab_dir, "nodes.yaml")) as nodes_file:
            assert f"pm_port: {node['bmc']['port']}" in nodes_file.read()
        assert lab.power(node["name"]) == "power off"
        assert lab.ipmitool(node["name"], "chassis", "bootdev", "pxe").returncode == 0
        assert lab.ipmitool(node["name"], "power", "on").returncode == 0
        assert lab.power(node["name"]) == "power on"
        # Network boot first: iPXE asks for an address on the provisioning bridge.
        wait_for(lambda: f"Configuring (net0 {node['mac']})" in lab.console(node["name"]),
                 120, 0.5, "iPXE on the console")
        wrong = lab.ipmitool(node["name"], "power", "status", password="not-the-password")
        assert wrong.returncode != 0 and "RMCP+ session" in wrong.stderr
    finally:
        result = lab.down()
    assert result.returncode == 0, result.stderr
    connection = libvirt.open("qemu:///system")
    try:
        assert lab.name not in " ".join(connection.listDefinedDomains())
    finally:
        connection.close()
    assert f" {bridge}:" not in _links()
    assert not _bmc_processes(lab_dir)
    assert not os.path.exists(node["disk_path"])
    for log in lab.log_files():
        assert node["bmc"]["password"] not in log.read_text(errors="replace")
