"""The whole appliance as the README runs it: one `stackbox serve` with every service on, the
default config and ports, and only this lab on top (its data dir, and an `external` physical
network on a bridge the test makes). In that one cloud, with the real `openstack` CLI and
`stackbox`: a tenant network behind a router with a floating IP on the external network, a
bare-metal node introspected beside it (its bare-metal port next to the network's ports), a
real qemu/TCG guest that leases its address, and a catalog of exactly the services that
answer. Then server delete, `lab down` and stopping serve leave nothing of it on the host."""
import ipaddress
import itertools
import json
import re
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures import processes
from tests.fixtures.baremetal_lab import (
    Lab,
    bmc_processes,
    build_ramdisk,
    free_network,
    stackbox,
    wait_for,
)
from tests.fixtures.network_lab import Made, domains_of, remove_guests, run
from tests.fixtures.undercloud import openstack_cli, start
from undercloud import services as registry
from undercloud.common import config as configuration

pytestmark = [pytest.mark.lab, pytest.mark.timeout(900)]

# The services a default serve answers for (the planned ones are not served), by catalog type.
BUILT = {s.catalog_type for s in registry.SERVICES.values() if s.catalog_type and not s.planned}


def _check_defaults_are_free(defaults) -> None:
    """Default ports and the default provisioning network (br-ctlplane, 192.168.24.0/24, which
    `stackbox lab up` and the conductor both use) must be this test's alone: fail up front,
    naming what holds them, rather than somewhere inside serve."""
    ports = {defaults.port(s.name): s.name for s in registry.enabled(defaults["services"])}
    ports[defaults["bus"]["port"]] = "bus"
    ports[defaults["baremetal"]["http_port"]] = "baremetal http"
    taken = [f"{ports[int(line.split()[3].rsplit(':', 1)[1])]}: {line}"
             for line in run("ss", "-Hltnp").stdout.splitlines()
             if int(line.split()[3].rsplit(":", 1)[1]) in ports]
    assert not taken, ("this test serves on the default ports, as `stackbox serve` does; they "
                       "are taken (another undercloud running?):\n" + "\n".join(taken))
    bridge = defaults["baremetal"]["provisioning_bridge"]
    network = ipaddress.IPv4Interface(defaults["baremetal"]["provisioning_address"]).network
    links = run("ip", "-o", "link", "show").stdout.split()
    routes = run("ip", "-4", "route").stdout.split()
    assert f"{bridge}:" not in links and not any(
        ipaddress.IPv4Network(word).overlaps(network) for word in routes
        if re.fullmatch(r"[\d.]+/\d+", word)), \
        (f"the default provisioning network ({bridge}, {network}) is in use on this host "
         "(another undercloud or lab running?): this test uses it as `stackbox serve` does")


@pytest.fixture
def external_bridge():
    """The `external` physical network: a bridge with a host-side address in a private range
    no address or route of this host touches. Nothing routes off the machine."""
    name = f"sbxext{secrets.token_hex(3)}"
    network = free_network()
    run("ip", "link", "add", name, "type", "bridge")
    run("ip", "addr", "add", f"{network[1]}/{network.prefixlen}", "dev", name)
    run("ip", "link", "set", name, "up")
    yield name, network
    run("ip", "link", "del", name, check=False)


def _ready(console: str) -> str | None:
    """The console once the tiny guest has said it is ready (after its network came up)."""
    return console if "stackbox-guest: ready" in console else None


def _pings(address: str) -> bool:
    return run("busybox", "ping", "-c", "1", "-W", "1", address, check=False).returncode == 0


def _version_document(url: str) -> dict:
    """The JSON an endpoint answers at its URL: a version (200) or the versions (300)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    assert status in (200, 300), f"{url} answered {status}: {body[:300]!r}"
    document = json.loads(body)
    assert "version" in document or "versions" in document, f"{url}: {document}"
    return document


def test_every_service_in_one_cloud(tiny_guest, lab_dir, clients_venv, external_bridge):
    steps = [("start", time.monotonic())]
    data_dir = Path(lab_dir) / "stackbox"
    defaults = configuration.load(environ={}, overrides={"data_dir": str(data_dir)})
    _check_defaults_are_free(defaults)
    bridge, outside = external_bridge
    data_dir.mkdir(mode=0o751)   # as serve makes it: qemu (libvirt-qemu) reaches disks below
    build_ramdisk(data_dir)
    # Exactly the README's `stackbox serve`: no services list, default ports and settings.
    cloud = start(data_dir, extra={"network": {"physical_mappings": {"external": bridge}}},
                  shipped=True, timeout=180)
    steps.append(("serve up", time.monotonic()))
    cli = openstack_cli(clients_venv, cloud, timeout=300)
    # `lab up` without --bridge, into its default LAB_DIR: on the config's default bridge.
    lab = Lab(str(data_dir / "lab"), 1, None, memory_mb=256, disk_gb=1,
              config_file=cloud.config_file)
    made = Made(cloud.config)
    failed = True
    try:
        # 1. A tenant network behind a router, and a floating IP on the external network.
        hosts = list(outside.hosts())
        cli("network", "create", "--external", "--provider-network-type", "flat",
            "--provider-physical-network", "external", "public")
        cli("subnet", "create", "--network", "public", "--subnet-range", str(outside),
            "--gateway", str(hosts[0]), "--no-dhcp", "--allocation-pool",
            f"start={hosts[99]},end={hosts[119]}", "public-subnet")
        # A VNI of its own (the default would be 1), so another cloud on this host (a
        # functional test's agent) never shares the VXLAN device.
        cli("network", "create", "--provider-network-type", "vxlan", "--provider-segment",
            str(secrets.randbelow(1_000_000) + 100_000), "private")
        cli("subnet", "create", "--network", "private", "--subnet-range", "10.0.0.0/24",
            "private-subnet")
        cli("router", "create", "r1")
        cli("router", "set", "--external-gateway", "public", "r1")
        cli("router", "add", "subnet", "r1", "private-subnet")
        ports = [cli("port", "create", "--network", "private", name) for name in ("p1", "p2")]
        floating = cli("floating", "ip", "create", "public")["floating_ip_address"]
        assert ipaddress.IPv4Address(floating) in outside
        steps.append(("network", time.monotonic()))

        # 2. A bare-metal node beside it: lab up, import, introspect to manageable.
        lab.up()
        assert lab.bridge == defaults["baremetal"]["provisioning_bridge"]
        [vm] = lab.nodes
        node = vm["name"]
        result = stackbox("node", "import", str(Path(lab.folder) / "nodes.yaml"),
                          "--config", str(cloud.config_file))
        assert result.returncode == 0 and f"Created node {node}" in result.stdout, \
            result.stdout + result.stderr
        result = stackbox("node", "introspect", "--all", "--timeout", "600",
                          "--config", str(cloud.config_file), timeout=660)
        assert result.returncode == 0, result.stdout + result.stderr
        shown = cli("baremetal", "node", "show", node)
        assert shown["provision_state"] == "manageable", shown["last_error"]
        assert shown["properties"]["memory_mb"] == vm["memory_mb"]
        # The ramdisk leased its address on the default provisioning network.
        inventory = cli("baremetal", "node", "inventory", "save", node)["inventory"]
        [nic] = [nic for nic in inventory["interfaces"] if nic["mac_address"] == vm["mac"]]
        assert ipaddress.IPv4Address(nic["ipv4_address"]) in ipaddress.IPv4Interface(
            defaults["baremetal"]["provisioning_address"]).network, inventory["interfaces"]
        # The node's bare-metal port and the network's ports live side by side.
        assert [p["address"] for p in cli("baremetal", "port", "list", "--node", node)] == \
            [vm["mac"]]
        network_ports = {p["ID"]: p["MAC Address"] for p in cli("port", "list")}
        assert {p["id"] for p in ports} <= set(network_ports)
        assert vm["mac"] not in network_ports.values()
        assert len(cli("baremetal", "port", "list")) == 1
        steps.append(("baremetal", time.monotonic()))

        # 3. A real guest on the tenant network: it leases its address; the floating IP.
        cli("image", "create", "--disk-format", "qcow2", "--container-format", "bare",
            "--public", "--file", str(tiny_guest["folder"] / "tiny-guest.qcow2"), "tiny")
        wait_for(lambda: cli("hypervisor", "list"), 60, 1, "the compute host's report")
        server = cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny",
                     "--network", "private", "--wait", "vm1")
        assert server["status"] == "ACTIVE", server
        [address] = re.findall(r"10\.0\.0\.\d+", json.dumps(server["addresses"]))
        console = wait_for(lambda: _ready(cli("console", "log", "show", "vm1")), 240, 2,
                           "the guest's ready line on its console")
        assert f"stackbox-guest: network eth0 {address} dhcp" in console, console[-3000:]
        cli("server", "add", "floating", "ip", "vm1", floating)
        wait_for(lambda: floating in json.dumps(cli("server", "show", "vm1")["addresses"]),
                 60, 1, "the floating IP in vm1's addresses")
        # From the external bridge's host side (this test's bridge), through the router's NAT.
        cli("security", "group", "rule", "create", "--ingress", "--protocol", "icmp", "default")
        wait_for(lambda: _pings(floating), 60, 1, f"an answer from vm1's floating IP {floating}")
        steps.append(("guest", time.monotonic()))

        # 4. The catalog lists exactly the services that answer, and each one answers.
        catalog = cli("catalog", "list")
        assert {entry["Type"] for entry in catalog} == BUILT == \
            {"identity", "image", "compute", "network", "baremetal"}, catalog
        for entry in catalog:
            urls = {endpoint["url"] for endpoint in entry["Endpoints"]}
            assert urls, entry
            for url in urls:
                _version_document(url)
        steps.append(("catalog", time.monotonic()))
        # What the leftover check below looks for is there now, so it cannot pass vacuously.
        # (Two dnsmasq: the private network's and the conductor's; either may be restarting.)
        made.add(cli)
        wait_for(lambda: {"namespaces", "links", "chains"} <= set(made.left())
                 and len(made.left().get("dnsmasq", ())) == 2, 10, 0.5,
                 "namespaces, links, chains and two dnsmasq of this cloud on the host")
        failed = False
    finally:
        if failed:
            for name in ("serve", "api", "network", "compute", "baremetal"):
                print(f"---- {name}.log ----\n{cloud.log(name)[-4000:]}", file=sys.stderr)
            try:
                made.add(cli)   # whatever this cloud made, to look for once it is gone
            except (AssertionError, subprocess.SubprocessError, ValueError):
                pass            # the failure that brought us here is the one to report
        teardown = []
        try:
            deleted = cli("server", "delete", "--wait", "vm1", check=False, timeout=120)
            teardown.append(("server delete", deleted.returncode, deleted.stderr))
        except subprocess.SubprocessError as exc:
            teardown.append(("server delete", -1, str(exc)))
        down = lab.down()
        teardown.append(("lab down", down.returncode, down.stdout + down.stderr))
        children = processes.descendants(cloud.process.pid)
        teardown.append(("serve stop", cloud.stop(timeout=30), cloud.output.read_text()[-2000:]))
        domains = domains_of(data_dir)
        remove_guests(data_dir)   # only a failed run leaves any
    steps.append(("teardown", time.monotonic()))
    print("whole appliance: " + ", ".join(f"{name} {end - begin:.0f} s"
                                          for (_, begin), (name, end) in itertools.pairwise(steps)))
    assert all(code == 0 for _, code, _ in teardown), teardown

    # Nothing of this cloud is left: data plane, provisioning network, guests, BMCs, processes.
    made.names.add(defaults["baremetal"]["provisioning_bridge"])
    assert not made.left(), f"left behind: {made.left()}"
    assert not domains, f"libvirt domains left behind: {domains}"
    assert not bmc_processes(lab.folder)
    assert not [pid for pid in children if processes.alive(pid)]
    address = defaults["baremetal"]["provisioning_address"].split("/")[0]
    assert f" {address}/" not in run("ip", "-o", "-4", "addr").stdout
