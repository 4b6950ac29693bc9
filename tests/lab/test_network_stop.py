"""Stopping serve removes the data plane it made, even for networks that still exist (and the
next start builds them again from the database)."""
import os
import subprocess
import time

import pytest

from tests.fixtures.undercloud import openstack_cli, start
from undercloud.network import devices

pytestmark = pytest.mark.lab


def _namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def _wait(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(os.geteuid() != 0, reason="the network data plane needs root")
def test_stop_removes_live_networks_and_start_rebuilds_them(tmp_path, clients_venv):
    services = ["identity", "network"]
    extra = {"network": {"host": "stopcheck", "report_interval": 1}}
    cloud = start(tmp_path / "undercloud", services, extra)
    try:
        cli = openstack_cli(clients_venv, cloud)
        network = cli("network", "create", "n1")["id"]
        cli("subnet", "create", "--network", "n1", "--subnet-range", "10.203.0.0/24", "s1")
        namespace = devices.dhcp_namespace(network)
        assert _wait(lambda: namespace in _namespaces(), 30)
    finally:
        cloud.stop()
    assert namespace not in _namespaces()
    assert not os.path.exists(f"/sys/class/net/{devices.bridge(network)}")

    again = start(tmp_path / "undercloud", services, extra)
    try:
        assert _wait(lambda: namespace in _namespaces(), 30)
    finally:
        again.stop()
    assert namespace not in _namespaces()
