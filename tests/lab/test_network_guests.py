"""Network acceptance on real qemu guests, driven by the real CLI: two tiny guests on a tenant
network behind a router get DHCP, reach the metadata service and ping each other; a floating IP
answers the "outside" (the host side of a bridge this test makes); removing the ICMP rule stops
that; teardown, then stopping serve, leave no namespace, device, chain or dnsmasq behind."""
import json
import secrets
import subprocess
import time
from pathlib import Path

import pytest

from tests.fixtures.network_lab import Made, remove_guests
from tests.fixtures.undercloud import listed, openstack_cli, start

# "Outside": a private range on a bridge only this test uses; nothing routes off the machine.
OUTSIDE_CIDR, OUTSIDE_HOST = "172.25.250.0/24", "172.25.250.1"
GUEST_A, GUEST_B = "10.10.0.11", "10.10.0.12"


def _run(*command, check=True) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=60)


@pytest.fixture
def outside_bridge():
    name = f"sbxout{secrets.token_hex(3)}"
    _run("ip", "link", "add", name, "type", "bridge")
    _run("ip", "addr", "add", f"{OUTSIDE_HOST}/24", "dev", name)
    _run("ip", "link", "set", name, "up")
    yield name
    _run("ip", "link", "del", name, check=False)


def wait_for(check, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"no {message} within {timeout} s")


def _pings(address: str) -> bool:
    return _run("busybox", "ping", "-c", "1", "-W", "1", address, check=False).returncode == 0


def _user_data(folder: Path, name: str, peer: str) -> Path:
    # The guest pings its peer for up to a minute and prints the outcome on its console.
    script = folder / f"{name}.sh"
    script.write_text("#!/bin/sh\n"
                      "for i in $(seq 60); do\n"
                      f"  if ping -c 1 -W 1 {peer} >/dev/null 2>&1; then\n"
                      f"    echo \"lab-ping {peer} ok\"; exit 0\n"
                      "  fi\n"
                      "  sleep 1\n"
                      "done\n"
                      f"echo \"lab-ping {peer} failed\"; exit 1\n")
    return script


def test_two_guests_router_floating_ip_security_group_and_cleanup(
        tiny_guest, lab_dir, clients_venv, outside_bridge):
    work = Path(lab_dir)
    cloud = start(work / "undercloud",
                  ["identity", "image", "compute", "metadata", "network"],
                  {"compute": {"virt_uri": "qemu:///system", "host": "lab1",
                               "report_interval": 1, "power_sync_interval": 5},
                   "network": {"host": "lab1", "report_interval": 1, "reconcile_interval": 5,
                               "physical_mappings": {"external": outside_bridge}}})
    made = Made(cloud.config)

    cli = openstack_cli(clients_venv, cloud, timeout=180, logs=("network", "compute"))

    def console(name, wanted, timeout=120):
        return wait_for(lambda: (lambda text: text if wanted in text else None)(
            cli("console", "log", "show", name)), timeout=timeout,
            message=f"{name}'s console to show {wanted!r}")

    try:
        cli("image", "create", "--disk-format", "qcow2", "--container-format", "bare",
            "--public", "--file", str(tiny_guest["folder"] / "tiny-guest.qcow2"), "tiny")
        cli("network", "create", "--external", "--provider-network-type", "flat",
            "--provider-physical-network", "external", "public")
        cli("subnet", "create", "--network", "public", "--subnet-range", OUTSIDE_CIDR,
            "--gateway", OUTSIDE_HOST, "--no-dhcp", "--allocation-pool",
            "start=172.25.250.100,end=172.25.250.150", "public-subnet")
        # A VNI of its own, so a cloud another test runs on this host never shares the device.
        cli("network", "create", "--provider-network-type", "vxlan", "--provider-segment",
            str(secrets.randbelow(1_000_000) + 100_000), "private")
        cli("subnet", "create", "--network", "private", "--subnet-range", "10.10.0.0/24",
            "private-subnet")
        cli("router", "create", "r1")
        cli("router", "set", "--external-gateway", "public", "r1")
        cli("router", "add", "subnet", "r1", "private-subnet")
        group = cli("security", "group", "create", "lab", "-f", "json")["id"]
        icmp = cli("security", "group", "rule", "create", "--ingress", "--protocol", "icmp",
                   group, "-f", "json")["id"]
        cli("security", "group", "rule", "create", "--ingress", "--remote-group", group, group)
        for name, address in (("pa", GUEST_A), ("pb", GUEST_B)):
            cli("port", "create", "--network", "private", "--security-group", group,
                "--fixed-ip", f"subnet=private-subnet,ip-address={address}", name)
        wait_for(lambda: listed(cli, "hypervisor", "list"), timeout=60,
                 message="the compute host's report")
        for name, port, peer in (("vmA", "pa", GUEST_B), ("vmB", "pb", GUEST_A)):
            cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--port", port,
                "--user-data", str(_user_data(work, name, peer)), name)
        for name in ("vmA", "vmB"):
            wait_for(lambda name=name: cli("server", "show", name, "-f", "json")["status"]
                     == "ACTIVE",
                     timeout=180, message=f"{name} ACTIVE")

        # 1. DHCP, the metadata service (user_data came from it: no config drive) and the ping.
        for name, address, peer in (("vmA", GUEST_A, GUEST_B), ("vmB", GUEST_B, GUEST_A)):
            text = console(name, "stackbox-guest: ready", timeout=240)
            assert f"stackbox-guest: network eth0 {address} dhcp" in text, text
            assert "stackbox-guest: metadata service http://169.254.169.254" in text, text
            assert f"lab-ping {peer} ok" in text, text
        assert GUEST_A in json.dumps(cli("server", "show", "vmA", "-f", "json")["addresses"])

        # 2. A floating IP on guest A answers the outside.
        floating = cli("floating", "ip", "create", "public", "-f", "json")["floating_ip_address"]
        cli("server", "add", "floating", "ip", "vmA", floating)
        wait_for(lambda: _pings(floating), timeout=60, message=f"ping of {floating}")
        wait_for(lambda: floating in json.dumps(cli("server", "show", "vmA", "-f",
                                                    "json")["addresses"]),
                 timeout=60, message="the floating IP in vmA's addresses")

        # 3. Without the ICMP rule, the outside's pings are dropped.
        cli("security", "group", "rule", "delete", icmp)
        wait_for(lambda: not _pings(floating), timeout=60, message="ping to stop")
        assert not any(_pings(floating) for _ in range(3))

        # 4. Teardown leaves nothing; neither does stopping serve.
        made.add(cli)
        cli("server", "delete", "--wait", "vmA", "vmB")
        cli("floating", "ip", "delete", floating)
        cli("router", "remove", "subnet", "r1", "private-subnet")
        cli("router", "unset", "--external-gateway", "r1")
        cli("router", "delete", "r1")
        cli("port", "delete", "pa", "pb")
        cli("network", "delete", "private", "public")
        wait_for(lambda: not made.left(), timeout=60,
                 message=f"the data plane to be gone: {made.left()}")
    finally:
        try:
            made.add(cli)  # a failed run's resources: stopping serve must remove them too
        except (AssertionError, subprocess.SubprocessError):
            pass  # the failure that brought us here is the one to report
        cloud.stop()
        remove_guests(work)
    assert not made.left(), f"stopping serve left {made.left()}"
