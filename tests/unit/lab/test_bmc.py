"""The lab's BMC emulator, as a separate process in front of libvirt's test driver, driven
by the clients a user and the conductor use: ipmitool and pyghmi."""
import shutil
import subprocess

import pytest
from pyghmi import exceptions as pyghmi_exceptions
from pyghmi.ipmi import command

from tests.fixtures.ports import free_port
from undercloud.lab import bmcs

PASSWORD = "lab-bmc-secret-1"


@pytest.fixture
def bmc(tmp_path):
    port = free_port("udp")
    config, log = str(tmp_path / "bmc.json"), str(tmp_path / "bmc.log")
    # Its own test:///default: the stock domain "test", running at first.
    pid = bmcs.start("test", {"type": "libvirt", "uri": "test:///default", "domain": "test"},
                     "127.0.0.1", port, "admin", PASSWORD, config, log)
    yield {"port": port, "pid": pid, "config": config, "log": log}
    bmcs.stop(pid, config)


def ipmitool(bmc, *args, password=PASSWORD, user="admin"):
    tool = shutil.which("ipmitool")
    if tool is None:
        pytest.fail("ipmitool is missing: scripts/install installs it")
    return subprocess.run([tool, "-I", "lanplus", "-H", "127.0.0.1", "-p", str(bmc["port"]),
                           "-U", user, "-P", password, "-N", "1", "-R", "1", *args],
                          capture_output=True, text=True, timeout=30)


def test_ipmitool_power_and_boot_device(bmc):
    assert ipmitool(bmc, "power", "status").stdout.strip() == "Chassis Power is on"
    assert ipmitool(bmc, "power", "off").returncode == 0
    assert ipmitool(bmc, "power", "status").stdout.strip() == "Chassis Power is off"
    refused = ipmitool(bmc, "power", "reset")
    assert refused.returncode != 0 and "not supported in present state" in refused.stderr
    assert ipmitool(bmc, "power", "on").returncode == 0
    assert ipmitool(bmc, "power", "status").stdout.strip() == "Chassis Power is on"
    assert ipmitool(bmc, "chassis", "bootdev", "pxe").returncode == 0
    assert "Force PXE" in ipmitool(bmc, "chassis", "bootparam", "get", "5").stdout
    assert ipmitool(bmc, "chassis", "bootdev", "disk").returncode == 0
    assert "Hard-Drive" in ipmitool(bmc, "chassis", "bootparam", "get", "5").stdout
    assert "Invalid data field" in ipmitool(bmc, "chassis", "bootdev", "cdrom").stderr


def test_a_wrong_password_or_user_fails_authentication(bmc):
    for user, password in (("admin", "wrong"), ("nobody", PASSWORD)):
        result = ipmitool(bmc, "power", "status", user=user, password=password)
        assert result.returncode != 0
        assert "Unable to establish IPMI v2 / RMCP+ session" in result.stderr


def test_pyghmi_with_its_default_cipher_suite_falls_back_to_suite_3(bmc):
    client = command.Command(bmc="127.0.0.1", userid="admin", password=PASSWORD,
                             port=bmc["port"])
    client.set_power("off", wait=True)
    assert client.get_power() == {"powerstate": "off"}
    client.set_bootdev("network")
    assert client.get_bootdev()["bootdev"] == "network"
    with pytest.raises(pyghmi_exceptions.IpmiException, match="Incorrect password"):
        command.Command(bmc="127.0.0.1", userid="admin", password="wrong", port=bmc["port"])


def test_the_log_names_the_machine_and_never_the_password(bmc):
    ipmitool(bmc, "power", "off")
    ipmitool(bmc, "power", "status", password="wrong")
    log = open(bmc["log"]).read()
    assert "test: power off" in log
    assert PASSWORD not in log


def test_a_missing_machine_answers_node_busy(tmp_path):
    port = free_port("udp")
    config = str(tmp_path / "bmc.json")
    pid = bmcs.start("gone", {"type": "libvirt", "uri": "test:///default", "domain": "gone"},
                     "127.0.0.1", port, "admin", PASSWORD, config, str(tmp_path / "bmc.log"))
    try:
        result = ipmitool({"port": port}, "power", "on")
        assert result.returncode != 0 and "Node busy" in result.stderr
        assert "domain gone" in (tmp_path / "bmc.log").read_text()
    finally:
        bmcs.stop(pid, config)


def test_stop_ends_the_process_and_its_port(bmc):
    assert bmcs.running(bmc["pid"], bmc["config"])
    assert bmcs.answers("127.0.0.1", bmc["port"])
    bmcs.stop(bmc["pid"], bmc["config"])
    assert not bmcs.running(bmc["pid"], bmc["config"])
    assert bmcs.port_is_free("127.0.0.1", bmc["port"])
