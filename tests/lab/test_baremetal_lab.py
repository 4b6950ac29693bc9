"""Issue 7's acceptance on a 2-node lab: `stackbox lab up` VMs behind their BMCs, an
undercloud whose conductor PXE-boots them, driven as a user would with `stackbox node`, the
real python-ironicclient (`openstack baremetal ...`) and ipmitool. Root only (qemu:///system,
a bridge, dnsmasq)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import libvirt
import pytest

from tests.fixtures.baremetal_lab import (
    Lab,
    baremetal_settings,
    bmc_processes,
    build_ramdisk,
    free_network,
    stackbox,
    suffix,
    wait_for,
)
from tests.fixtures.undercloud import REPO, openstack_cli, start
from undercloud.lab import lab as lab_module

pytestmark = [pytest.mark.lab]
libvirt.registerErrorHandler(lambda context, error: None, None)


def _links() -> str:
    return subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout


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
    assert not bmc_processes(lab_dir)
    assert not os.path.exists(node["disk_path"])
    for log in lab.log_files():
        assert node["bmc"]["password"] not in log.read_text(errors="replace")


# ---- the acceptance: an undercloud drives the lab -------------------------------------------

# Short enough to see a silent node fail within the test; TCG PXE + ramdisk calls back in
# 15-40 s even with two nodes booting at once.
CALLBACK_TIMEOUT = 100
POWER_SYNC = 5
# In node a's config drive: the user's, so never in a log or an API answer.
DRIVE_SECRET = f"drive-secret-{suffix()}"


class Cloud:
    """The undercloud as a user reaches it: `openstack` (python-ironicclient) and `stackbox`."""

    def __init__(self, undercloud, clients_venv):
        self.undercloud = undercloud
        self.outputs = []   # everything the APIs answered, searched for passwords at the end
        self.openstack = openstack_cli(clients_venv, undercloud, timeout=300,
                                       outputs=self.outputs)

    def node(self, name: str) -> dict:
        return self.openstack("baremetal", "node", "show", name)

    def stackbox(self, *args, timeout=1200):
        result = stackbox(*args, "--config", str(self.undercloud.config_file), timeout=timeout)
        self.outputs.append(result.stdout + result.stderr)
        return result


@pytest.fixture(scope="module")
def world(tmp_path_factory, tiny_guest, clients_venv):
    """A 2-node lab on its own bridge and network, and an undercloud serving it."""
    folder = tempfile.mkdtemp(prefix="stackbox-bmlab-", dir="/var/tmp")
    os.chmod(folder, 0o755)
    bridge = f"sbxbm{suffix()}"
    lab = Lab(folder, 2, bridge, memory_mb=768, disk_gb=2)
    undercloud = None
    try:
        lab.up()
        data_dir = Path(folder) / "undercloud"
        build_ramdisk(data_dir)
        settings = baremetal_settings(bridge, free_network(),
                                      deploy_callback_timeout=CALLBACK_TIMEOUT,
                                      power_sync_interval=POWER_SYNC)
        undercloud = start(data_dir, ["identity", "image", "baremetal"],
                           {"baremetal": settings}, timeout=180)
        cloud = Cloud(undercloud, clients_venv)
        image = cloud.openstack(
            "image", "create", f"tiny-guest-{suffix()}", "--disk-format", "qcow2",
            "--container-format", "bare", "--public", "--file",
            str(tiny_guest["folder"] / "tiny-guest.qcow2"), "-f", "json")
        yield {"lab": lab, "cloud": cloud, "undercloud": undercloud, "image": image["id"],
               "a": lab.nodes[0]["name"], "b": lab.nodes[1]["name"]}
    finally:
        if undercloud is not None:
            undercloud.stop()
        result = lab.down()
        if not os.environ.get("STACKBOX_KEEP_LAB"):
            shutil.rmtree(folder, ignore_errors=True)
        assert result.returncode == 0, f"lab down:\n{result.stderr}"


def _settled(cloud, name, states, timeout):
    """The node once it is in one of `states` (and has no target), else AssertionError."""
    def check():
        node = cloud.node(name)
        return node if node["provision_state"] in states and \
            not node.get("target_provision_state") else None
    try:
        return wait_for(check, timeout, 3, f"{name} in {' or '.join(states)}")
    except AssertionError:
        node = cloud.node(name)
        raise AssertionError(f"{name} is {node['provision_state']} (target "
                             f"{node.get('target_provision_state')}), not "
                             f"{' or '.join(states)} after {timeout} s; last_error: "
                             f"{node.get('last_error')}") from None


def _power_agrees(world, name, expected=None):
    """ipmitool and the API's power_state agree (the conductor syncs every POWER_SYNC s)."""
    lab, cloud = world["lab"], world["cloud"]

    def check():
        api, bmc = cloud.node(name)["power_state"], lab.power(name)
        return (api, bmc) if api == bmc and (expected is None or bmc == expected) else None
    try:
        return wait_for(check, POWER_SYNC * 4 + 10, 1, f"{name}'s power state")
    except AssertionError:
        raise AssertionError(f"{name}: the API says {cloud.node(name)['power_state']}, "
                             f"ipmitool says {lab.power(name)}"
                             f"{', expected ' + expected if expected else ''}") from None


def _mbr_signature(disk_path: str) -> bytes:
    """Bytes 510-511 of the VM's disk (55 aa when it holds a partition table)."""
    with tempfile.NamedTemporaryFile() as first_sector:
        subprocess.run(["qemu-img", "dd", "-U", "-f", "qcow2", "-O", "raw", "bs=512",
                        "count=1", f"if={disk_path}", f"of={first_sector.name}"],
                       check=True, capture_output=True)
        return Path(first_sector.name).read_bytes()[510:512]


@pytest.mark.timeout(1500)
def test_1_a_wrong_bmc_password_leaves_the_node_in_enroll(world):
    cloud, b = world["cloud"], world["b"]
    imported = cloud.stackbox("node", "import", os.path.join(world["lab"].folder, "nodes.yaml"))
    assert imported.returncode == 0, imported.stderr
    assert f"Created node {b}" in imported.stdout
    again = cloud.stackbox("node", "import", os.path.join(world["lab"].folder,
                                                         "instackenv.json"))
    assert again.returncode == 0 and f"Updated node {b}" in again.stdout, again.stderr
    node = cloud.node(b)
    assert node["driver_info"]["ipmi_password"] == "******"
    cloud.openstack("baremetal", "node", "set", b, "--driver-info",
                    "ipmi_password=not-the-password")
    cloud.openstack("baremetal", "node", "manage", b)
    node = _settled(cloud, b, ("enroll", "manageable"), 120)
    assert node["provision_state"] == "enroll"
    error = (node["last_error"] or "").lower()
    assert any(word in error for word in ("password", "authenticat", "credential")), error
    cloud.openstack("baremetal", "node", "set", b, "--driver-info",
                    f"ipmi_password={world['lab'].node(b)['bmc']['password']}")


@pytest.mark.timeout(1800)
def test_2_introspection_reports_each_vm(world):
    lab, cloud, a, b = world["lab"], world["cloud"], world["a"], world["b"]
    # Node b with `stackbox node introspect`, node a with python-ironicclient, at once.
    tool = subprocess.Popen([sys.executable, "-m", "undercloud.cmd.main", "node", "introspect",
                             b, "--provide", "--config", str(world["undercloud"].config_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=str(REPO))
    try:
        cloud.openstack("baremetal", "node", "manage", a, "--wait", "120")
        _power_agrees(world, a)
        cloud.openstack("baremetal", "node", "inspect", a, "--wait", "900", timeout=960)
        _power_agrees(world, a)
        cloud.openstack("baremetal", "node", "provide", a, "--wait", "900", timeout=960)
        output, _ = tool.communicate(timeout=1200)
    finally:
        if tool.poll() is None:
            tool.kill()
    cloud.outputs.append(output)
    assert tool.returncode == 0, output
    for name in (a, b):
        node = _settled(cloud, name, ("available",), 60)
        _power_agrees(world, name)
        vm = lab.node(name)
        inventory = cloud.openstack("baremetal", "node", "inventory", "save",
                                    name)["inventory"]
        assert inventory["memory"]["physical_mb"] == vm["memory_mb"]
        assert inventory["cpu"]["count"] == vm["cpus"]
        assert [disk["size"] for disk in inventory["disks"]] == [vm["disk_gb"] * 1024 ** 3]
        assert vm["mac"] in [nic["mac_address"] for nic in inventory["interfaces"]]
        assert node["properties"]["memory_mb"] == vm["memory_mb"]


@pytest.mark.timeout(1800)
def test_3_deploy_boots_the_image_from_disk_and_a_silent_node_fails(world):
    lab, cloud, a, b = world["lab"], world["cloud"], world["a"], world["b"]
    for name in (a, b):
        cloud.openstack("baremetal", "node", "set", name, "--instance-info",
                        f"image_source={world['image']}")
    # Node b's cable is pulled: its ramdisk never calls back.
    lab_module.unplug(lab.folder, b)
    cloud.openstack("baremetal", "node", "deploy", b)
    # Ironic builds the drive from JSON; meta_data's name defaults to the node's.
    drive = {"meta_data": {"meta": {"secret": DRIVE_SECRET}}}
    cloud.openstack("baremetal", "node", "deploy", a, "--config-drive", json.dumps(drive),
                    "--wait", "1200", timeout=1260)
    node = cloud.node(a)
    assert node["provision_state"] == "active", node["last_error"]
    assert node["instance_info"]["configdrive"] == "******"
    wait_for(lambda: "stackbox-guest: ready" in lab.console(a), 300, 2,
             f"the tiny guest booting from {a}'s disk")
    # The ramdisk put the drive in a partition after the image's one.
    assert "stackbox-guest: config drive /dev/vda2" in lab.console(a)
    assert f"stackbox-guest: hostname {a}" in lab.console(a)
    _power_agrees(world, a, "power on")
    assert _mbr_signature(lab.node(a)["disk_path"]) == b"\x55\xaa"
    node = _settled(cloud, b, ("deploy failed",), CALLBACK_TIMEOUT + 300)
    assert "time" in (node["last_error"] or "").lower(), node["last_error"]
    _power_agrees(world, b, "power off")


@pytest.mark.timeout(1200)
def test_4_undeploy_cleans_the_node_back_to_available(world):
    lab, cloud, a = world["lab"], world["cloud"], world["a"]
    cloud.openstack("baremetal", "node", "undeploy", a, "--wait", "900", timeout=960)
    node = cloud.node(a)
    assert node["provision_state"] == "available", node["last_error"]
    _power_agrees(world, a, "power off")
    assert _mbr_signature(lab.node(a)["disk_path"]) != b"\x55\xaa"


def test_5_no_bmc_password_in_any_log_or_api_output(world):
    lab, cloud = world["lab"], world["cloud"]
    passwords = [password.encode() for password in lab.passwords()]
    files = [path for path in Path(world["undercloud"].data_dir).rglob("*") if path.is_file()]
    files += lab.log_files()
    leaks = [f"{path}" for path in files for password in passwords
             if password in path.read_bytes()]
    leaks += [f"API output {index}" for index, text in enumerate(cloud.outputs)
              for password in passwords if password.decode() in text]
    assert not leaks, f"a BMC password appears in: {', '.join(leaks)}"
    # The files above are the ones that exist: the logs did record the work.
    assert any(path.name.endswith(".log") and path.stat().st_size for path in files)


def test_6_no_config_drive_content_in_any_log_or_api_output(world):
    logs = [path for path in Path(world["undercloud"].data_dir).rglob("*.log")
            if path.is_file()]
    leaks = [str(path) for path in logs if DRIVE_SECRET.encode() in path.read_bytes()]
    leaks += [f"API output {index}" for index, text in enumerate(world["cloud"].outputs)
              if DRIVE_SECRET in text]
    assert not leaks, f"the config drive's content appears in: {', '.join(leaks)}"
    assert logs
