"""The bare-metal conductor against real BMC emulators on 127.0.0.1, driven with the real
`openstack baremetal` CLI: power follows what `ipmitool` says, wrong credentials and silent
BMCs end in enroll with a clear last_error, and a node that never calls back ends in deploy
failed, powered off. No VMs: the lab's BMC (undercloud/lab/bmc.py) drives a domain of
libvirt's in-memory test driver, and a bare pyghmi BMC stands in for virtualbmc. Nodes, ports
and images are made, and states polled, with openstacksdk in-process.

The deploy test needs root (the conductor makes a provisioning bridge and runs dnsmasq)."""
import hashlib
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

import pytest

from tests.fixtures.baremetal_lab import baremetal_settings, free_network, suffix, wait_for
from tests.fixtures.ports import free_port
from tests.fixtures.undercloud import openstack_cli, record_answer, start
from undercloud.baremetal.drivers import ipmi
from undercloud.lab import bmcs

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(900)]

CALLBACK_TIMEOUT = 15
POWER_SYNC = 3
# Every BMC password the module uses, searched for at the end.
PASSWORDS = []
# pyghmi's BMC as virtualbmc runs it: it answers any cipher suite proposal with suite 3.
PLAIN_BMC = """
import json, sys
from pyghmi.ipmi import bmc

class PlainBmc(bmc.Bmc):
    power = "on"
    device = "default"
    def get_power_state(self): return self.power
    def power_on(self): self.power = "on"
    def power_off(self): self.power = "off"
    def power_shutdown(self): self.power = "off"
    def power_reset(self): pass
    def get_boot_device(self): return self.device
    def set_boot_device(self, device): self.device = device

settings = json.load(sys.stdin)
PlainBmc({settings["username"]: settings["password"]}, port=settings["port"],
         address="127.0.0.1").listen()
"""


class Bmc:
    """A BMC process on 127.0.0.1 and ipmitool pointed at it."""

    def __init__(self, port: int, password: str, stop):
        self.port, self.password, self.stop = port, password, stop

    def ipmitool(self, *args, password=None):
        return subprocess.run(["ipmitool", "-I", "lanplus", "-H", "127.0.0.1", "-p",
                               str(self.port), "-U", "admin", "-P", password or self.password,
                               *args], capture_output=True, text=True, timeout=60)

    def power(self) -> str:
        result = self.ipmitool("power", "status")
        assert result.returncode == 0, result.stderr
        return "power on" if result.stdout.strip().endswith("on") else "power off"


@pytest.fixture(scope="module")
def bmc_factory(tmp_path_factory):
    """Start BMCs: kind "lab" (bmc.py over a libvirt test-driver domain) or "plain"."""
    folder = tmp_path_factory.mktemp("bmcs")
    stops = []

    def make(kind: str = "lab") -> Bmc:
        port, password = free_port("udp"), f"pw-{secrets.token_hex(8)}"
        PASSWORDS.append(password)
        if kind == "lab":
            config = str(folder / f"bmc-{port}.json")
            pid = bmcs.start(f"node-{port}", {"type": "libvirt", "uri": "test:///default",
                                              "domain": "test"}, "127.0.0.1", port, "admin",
                             password, config, str(folder / f"bmc-{port}.log"))
            stop = lambda: bmcs.stop(pid, config)  # noqa: E731
        else:
            process = subprocess.Popen([sys.executable, "-c", PLAIN_BMC], stdin=subprocess.PIPE,
                                       text=True, start_new_session=True)
            process.stdin.write(json.dumps({"port": port, "username": "admin",
                                            "password": password}))
            process.stdin.close()
            wait_for(lambda: bmcs.answers("127.0.0.1", port), 30, 0.2, "the plain BMC")
            stop = lambda: (process.send_signal(signal.SIGTERM), process.wait(10))  # noqa
        stops.append(stop)
        return Bmc(port, password, stop)
    yield make
    for stop in stops:
        stop()


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("undercloud")
    ramdisk = data_dir / "fake-ramdisk"
    ramdisk.mkdir()
    for name in ("vmlinuz", "initrd.img"):   # never booted: the machines are in memory
        (ramdisk / name).write_bytes(b"not a kernel")
    settings = baremetal_settings(
        f"sbxcd{suffix()}", free_network(), deploy_kernel=str(ramdisk / "vmlinuz"),
        deploy_ramdisk=str(ramdisk / "initrd.img"), deploy_callback_timeout=CALLBACK_TIMEOUT,
        automated_clean=False, ipmi_timeout=2, ipmi_retries=1,
        power_sync_interval=POWER_SYNC, heartbeat_interval=1)
    serve = start(data_dir, ["identity", "image", "baremetal"], {"baremetal": settings})
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def outputs():
    """Everything the CLI printed and the SDK got back, searched for passwords at the end."""
    return []


@pytest.fixture(scope="module")
def cli(undercloud, clients_venv, outputs):
    return openstack_cli(clients_venv, undercloud, timeout=180, outputs=outputs)


class Nodes:
    """Nodes arranged and watched with openstacksdk in-process (what a test's user does is the
    CLI's); every answer is kept in `outputs` for the password search."""

    def __init__(self, sdk, outputs: list):
        self.sdk, self.outputs = sdk, outputs

    def enroll(self, bmc: Bmc, password: str | None = None, port: int | None = None) -> dict:
        """A node behind that BMC (or that password and port) with one port."""
        if password:
            PASSWORDS.append(password)
        node = record_answer(self.outputs, self.sdk.baremetal.create_node(
            driver="ipmi", name=f"cd-{secrets.token_hex(3)}",
            driver_info={"ipmi_address": "127.0.0.1", "ipmi_port": port or bmc.port,
                         "ipmi_username": "admin", "ipmi_password": password or bmc.password}))
        mac = "52:54:00:" + ":".join(secrets.token_hex(1) for _ in range(3))
        self.sdk.baremetal.create_port(node_id=node.id, address=mac)
        return {"uuid": node.id, "mac": mac}

    def show(self, node: dict):
        return record_answer(self.outputs, self.sdk.baremetal.get_node(node["uuid"]))

    def wait_state(self, node: dict, state: str, timeout: float = 120):
        def reached():
            shown = self.show(node)
            return shown if shown.provision_state == state else None
        return wait_for(reached, timeout, 0.5, f"node {node['uuid']} in {state}")

    def wait_power(self, node: dict, power: str, timeout: float = 60):
        def reached():
            shown = self.show(node)
            return shown if shown.power_state == power and \
                shown.target_power_state is None else None
        return wait_for(reached, timeout, 0.5, f"node {node['uuid']} at {power}")

    def image_to_deploy(self, node: dict, disk: Path) -> str:
        """The raw disk uploaded as an image, and set as the node's image_source; its id."""
        image = self.sdk.image.create_image(f"cd-image-{secrets.token_hex(3)}",
                                            filename=str(disk), disk_format="raw",
                                            container_format="bare")
        self.set(node, "/instance_info/image_source", image.id)
        return image.id

    def set(self, node: dict, path: str, value):
        # The patch `openstack baremetal node set` sends (`--instance-info k=v`: /instance_info/k).
        self.sdk.baremetal.patch_node(node["uuid"], [{"op": "add", "path": path,
                                                      "value": value}])


@pytest.fixture(scope="module")
def nodes(sdk, outputs):
    return Nodes(sdk, outputs)


def test_manage_and_power_agree_with_ipmitool(cli, nodes, bmc_factory):
    bmc = bmc_factory("lab")
    node = nodes.enroll(bmc)
    cli("baremetal", "node", "manage", node["uuid"])
    shown = nodes.wait_state(node, "manageable")
    assert shown["power_state"] == bmc.power() == "power on"
    assert shown["last_error"] is None and shown["reservation"] is None
    cli("baremetal", "node", "power", "off", node["uuid"])
    assert nodes.wait_power(node, "power off")["last_error"] is None
    assert bmc.power() == "power off"
    cli("baremetal", "node", "power", "on", node["uuid"])
    nodes.wait_power(node, "power on")
    assert bmc.power() == "power on"
    # Behind the cloud's back: the periodic sync brings the API in line with the BMC.
    assert bmc.ipmitool("power", "off").returncode == 0
    nodes.wait_power(node, "power off", timeout=10 * POWER_SYNC)


def test_boot_device_reaches_the_bmc(cli, nodes, bmc_factory):
    bmc = bmc_factory("lab")
    node = nodes.enroll(bmc)
    cli("baremetal", "node", "manage", node["uuid"])
    nodes.wait_state(node, "manageable")
    cli("baremetal", "node", "boot", "device", "set", node["uuid"], "disk", "--persistent")
    assert "Boot Device Selector : Force Boot from default Hard-Drive" in \
        bmc.ipmitool("chassis", "bootparam", "get", "5").stdout
    shown = cli("baremetal", "node", "boot", "device", "show", node["uuid"], "-f", "json")
    assert shown == {"boot_device": "disk", "persistent": True}


def test_a_bmc_that_answers_suite_3_to_every_proposal_is_managed(cli, nodes, bmc_factory):
    bmc = bmc_factory("plain")
    node = nodes.enroll(bmc)
    cli("baremetal", "node", "manage", node["uuid"])
    shown = nodes.wait_state(node, "manageable")
    assert shown["power_state"] == bmc.power() == "power on"


def test_wrong_password_leaves_the_node_in_enroll_with_a_clear_error(cli, nodes, bmc_factory):
    bmc = bmc_factory("lab")
    node = nodes.enroll(bmc, password=f"wrong-{secrets.token_hex(6)}")
    cli("baremetal", "node", "manage", node["uuid"])
    shown = nodes.wait_state(node, "enroll")
    assert shown["last_error"].startswith(
        f"Failed to validate power driver interface for node {node['uuid']}: the BMC at "
        f"127.0.0.1:{bmc.port} rejected the credentials of user 'admin'")


def test_a_silent_bmc_does_not_hold_up_another(bmc_factory):
    bmc = bmc_factory("lab")
    silent = ipmi.Bmc("127.0.0.1", free_port("udp"), "admin", "whatever", timeout=2, retries=1)
    outcome = []
    waiting = threading.Thread(target=lambda: outcome.append(_error(silent.power_state)))
    waiting.start()
    try:
        answered = ipmi.Bmc("127.0.0.1", bmc.port, "admin", bmc.password, timeout=2,
                            retries=1).power_state()
        assert waiting.is_alive(), "the silent BMC's call should still be waiting"
    finally:
        waiting.join()
    assert answered == bmc.power()
    assert outcome == ["unreachable"]


def _error(call) -> str | None:
    try:
        call()
    except ipmi.IpmiError as exc:
        return exc.kind
    return None


def test_a_silent_bmc_fails_within_seconds(cli, nodes):
    node = nodes.enroll(None, password="whatever", port=free_port("udp"))
    cli("baremetal", "node", "manage", node["uuid"])
    shown = nodes.wait_state(node, "enroll", timeout=60)
    assert "did not answer" in shown["last_error"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the provisioning network needs root")
def test_a_node_that_never_calls_back_fails_deploy_powered_off(cli, nodes, bmc_factory,
                                                              tmp_path):
    bmc = bmc_factory("lab")
    node = nodes.enroll(bmc)
    cli("baremetal", "node", "manage", node["uuid"])
    nodes.wait_state(node, "manageable")
    cli("baremetal", "node", "provide", node["uuid"])
    nodes.wait_state(node, "available")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    nodes.image_to_deploy(node, disk)
    cli("baremetal", "node", "deploy", node["uuid"])
    waiting = nodes.wait_state(node, "wait call-back")
    assert waiting["power_state"] == bmc.power() == "power on"
    failed = nodes.wait_state(node, "deploy failed", timeout=CALLBACK_TIMEOUT + 60)
    assert failed["last_error"] == (f"Timeout reached while waiting for callback for node "
                                    f"{node['uuid']}")
    assert failed["power_state"] == bmc.power() == "power off"


class Ramdisk:
    """The deploy/discovery ramdisk's side of the contract (rpcapi.py), spoken as its agent
    does: no Keystone token, the agent token from lookup."""

    def __init__(self, undercloud):
        self.endpoint = urllib.parse.urlsplit(undercloud.endpoint("baremetal"))
        self.token = None

    def _send(self, method: str, path: str, body=None):
        connection = http.client.HTTPConnection(self.endpoint.hostname, self.endpoint.port,
                                                timeout=60)
        connection.request(method, path, json.dumps(body) if body is not None else None,
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, json.loads(data) if data else None

    def lookup(self, mac: str) -> str:
        status, answer = self._send("GET", f"/v1/lookup?addresses={mac}")
        assert status == 200, answer
        self.token = answer["config"]["agent_token"]
        return answer["node"]["uuid"]

    def heartbeat(self, node_id: str, result=None):
        status, answer = self._send("POST", f"/v1/heartbeat/{node_id}", {
            "agent_token": self.token, "agent_version": "test", "callback_url": "",
            "command_result": result})
        assert status == 202, answer
        return answer["command"]

    def inventory(self, inventory: dict) -> str:
        status, answer = self._send("POST", "/v1/continue_inspection",
                                    {"inventory": inventory})
        assert status == 202, answer
        return answer["uuid"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the provisioning network needs root")
def test_inspection_records_what_the_ramdisk_reports(cli, nodes, bmc_factory, undercloud):
    bmc = bmc_factory("lab")
    node = nodes.enroll(bmc)
    mac = node["mac"]
    cli("baremetal", "node", "manage", node["uuid"])
    nodes.wait_state(node, "manageable")
    cli("baremetal", "node", "inspect", node["uuid"])
    assert nodes.wait_state(node, "inspect wait")["power_state"] == bmc.power() == "power on"
    other_mac = "52:54:00:" + ":".join(secrets.token_hex(1) for _ in range(3))
    assert Ramdisk(undercloud).inventory({
        "cpu": {"count": 2, "architecture": "x86_64"},
        "memory": {"total": 1 << 31, "physical_mb": 2048},
        "disks": [{"name": "/dev/vda", "size": 20 * 1024 ** 3}],
        "interfaces": [{"name": "eth0", "mac_address": mac},
                       {"name": "eth1", "mac_address": other_mac}],
        "boot": {"current_boot_mode": "bios", "pxe_interface": mac}}) == node["uuid"]
    shown = nodes.wait_state(node, "manageable")
    assert {key: shown["properties"][key] for key in ("cpus", "memory_mb", "local_gb",
                                                      "cpu_arch")} == {
        "cpus": 2, "memory_mb": 2048, "local_gb": 19, "cpu_arch": "x86_64"}
    assert shown["power_state"] == bmc.power() == "power off"
    ports = cli("baremetal", "port", "list", "--node", node["uuid"])
    assert {port["address"] for port in ports} == {mac, other_mac}


@pytest.mark.skipif(os.geteuid() != 0, reason="the provisioning network needs root")
def test_a_ramdisk_that_writes_the_image_makes_the_node_active(cli, nodes, bmc_factory,
                                                                undercloud, tmp_path):
    bmc = bmc_factory("lab")
    node = nodes.enroll(bmc)
    mac = node["mac"]
    cli("baremetal", "node", "manage", node["uuid"])
    nodes.wait_state(node, "manageable")
    cli("baremetal", "node", "provide", node["uuid"])
    nodes.wait_state(node, "available")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\0" * 1024 * 1024)
    image = nodes.image_to_deploy(node, disk)
    cli("baremetal", "node", "deploy", node["uuid"])
    nodes.wait_state(node, "wait call-back")
    ramdisk = Ramdisk(undercloud)
    assert ramdisk.lookup(mac) == node["uuid"]
    command = ramdisk.heartbeat(node["uuid"])
    assert command["name"] == "write_image"
    assert command["params"]["checksum"] == hashlib.sha256(disk.read_bytes()).hexdigest()
    assert ramdisk.heartbeat(node["uuid"], {"name": "write_image",
                                            "status": "SUCCEEDED"}) is None
    shown = nodes.wait_state(node, "active")
    assert shown["power_state"] == bmc.power() == "power on"
    assert "Force Boot from default Hard-Drive" in \
        bmc.ipmitool("chassis", "bootparam", "get", "5").stdout
    assert shown["instance_info"]["image_source"] == image
    # Undeploy cleans: the ramdisk boots again, with a new agent token, and erases.
    nodes.set(node, "/automated_clean", True)
    cli("baremetal", "node", "undeploy", node["uuid"])
    shown = nodes.wait_state(node, "clean wait")
    assert shown["instance_info"] == {} and shown["power_state"] == bmc.power() == "power on"
    ramdisk = Ramdisk(undercloud)
    assert ramdisk.lookup(mac) == node["uuid"]
    assert ramdisk.heartbeat(node["uuid"]) == {"name": "erase_devices", "params": {}}
    ramdisk.heartbeat(node["uuid"], {"name": "erase_devices", "status": "SUCCEEDED"})
    shown = nodes.wait_state(node, "available")
    assert shown["power_state"] == bmc.power() == "power off"


def test_no_password_in_logs_or_api_output(undercloud, outputs):
    """Last: every password this module used, searched in the CLI's output and in every
    file of the cloud (logs, database, provisioning folders)."""
    assert len(PASSWORDS) >= 5
    text = "\n".join(outputs)
    files = [path for path in Path(undercloud.data_dir).rglob("*") if path.is_file()]
    contents = [path.read_bytes() for path in files]
    for password in PASSWORDS:
        assert password not in text
        leaks = [str(path) for path, content in zip(files, contents)
                 if password.encode() in content]
        assert not leaks, f"a BMC password is in {leaks}"
