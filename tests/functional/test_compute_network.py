"""Servers on Neutron ports with the real `openstack` CLI: compute asks the network server for
ports, the host's network agent plugs them (real bridges), and libvirt's test driver plays the
hypervisor. Addresses, ports, interfaces and floating IPs as the user sees them."""
import json
import secrets
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

SERVICES = ["identity", "image", "compute", "metadata", "network"]
HOST = "fakenet1"


def _run(*command, check=True):
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=60)


@pytest.fixture(scope="module")
def outside_bridge():
    """The bridge the flat "external" physical network maps to; nothing is routed through it."""
    name = f"sbxcn{secrets.token_hex(3)}"
    _run("ip", "link", "add", name, "type", "bridge")
    yield name
    _run("ip", "link", "del", name, check=False)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory, clients_venv, outside_bridge):
    from tests.fixtures.undercloud import start
    undercloud = start(tmp_path_factory.mktemp("compute-network"), SERVICES, {
        "compute": {"virt_uri": "test:///default", "host": HOST, "report_interval": 1,
                    "power_sync_interval": 2, "reconcile_interval": 2},
        "network": {"host": HOST, "agent_modes": ["l2"], "report_interval": 1,
                    "reconcile_interval": 5,
                    "physical_mappings": {"external": outside_bridge}}})
    image = undercloud.data_dir / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "64M"], check=True)

    def cli(*args, check=True):
        command = [str(clients_venv / "bin" / "openstack"), *args]
        if args[1:2] in (("list",), ("show",), ("create",)) and "-f" not in args:
            command += ["-f", "json"]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                env=undercloud.client_env())
        if check:
            assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}\n" \
                f"{undercloud.log('compute')[-3000:]}\n{undercloud.log('network')[-3000:]}"
        return json.loads(result.stdout) if result.stdout.strip()[:1] in ("{", "[") else result

    try:
        cli("image", "create", "--disk-format", "qcow2", "--container-format", "bare",
            "--public", "--file", str(image), "tiny")
        cli("network", "create", "net1")
        cli("subnet", "create", "--network", "net1", "--subnet-range", "10.20.0.0/24", "sub1")
        _wait(lambda: any(h["Hypervisor Hostname"] == HOST
                          for h in cli("hypervisor", "list")), "the compute host's report")
        _wait(lambda: any(a["Host"] == HOST for a in cli("network", "agent", "list", "-f", "json")),
              "the network agent's report")
    except BaseException:
        undercloud.stop()  # a failed setup must not leave a serve running
        raise
    undercloud.cli = cli
    yield undercloud
    undercloud.stop()


def _wait(check, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {timeout} s")


def _addresses(cli, server) -> list[str]:
    # The CLI shows {network: [address, ...]}.
    return [address for addresses in cli("server", "show", server)["addresses"].values()
            for address in addresses]


def _ports(cli, server) -> list[dict]:
    return cli("port", "list", "--server", server)


def test_a_server_on_a_network_gets_a_bound_port_that_goes_with_it(cloud):
    cli = cloud.cli
    server = cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--network",
                 "net1", "--wait", "vm1")
    assert server["status"] == "ACTIVE", server.get("fault")
    address, = _addresses(cli, "vm1")
    assert address.startswith("10.20.0.")
    port, = _ports(cli, "vm1")
    shown = cli("port", "show", port["ID"])
    assert (shown["binding_host_id"], shown["device_owner"]) == (HOST, "compute:nova")
    assert shown["fixed_ips"][0]["ip_address"] == address
    _wait(lambda: cli("port", "show", port["ID"])["status"] == "ACTIVE", "ACTIVE port")
    cli("server", "delete", "--wait", "vm1")
    assert cli("port", "list", "--network", "net1", "--device-owner", "compute:nova") == []


def test_a_users_port_is_kept_and_ports_attach_and_detach(cloud):
    cli = cloud.cli
    cli("port", "create", "--network", "net1", "--fixed-ip", "ip-address=10.20.0.77", "mine")
    cli("port", "create", "--network", "net1", "extra")
    server = cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--port", "mine",
                 "--wait", "vm2")
    assert server["status"] == "ACTIVE", server.get("fault")
    assert _addresses(cli, "vm2") == ["10.20.0.77"]
    cli("server", "add", "port", "vm2", "extra")
    extra = cli("port", "show", "extra")
    assert extra["device_id"] == server["id"]
    assert extra["fixed_ips"][0]["ip_address"] in _addresses(cli, "vm2")
    both = {cli("port", "show", "mine")["id"], extra["id"]}
    assert {p["ID"] for p in cli("port", "list", "--server", "vm2")} == both
    _, body = _compute(cloud, "GET", f"/servers/{server['id']}/os-interface")
    assert {i["port_id"] for i in body["interfaceAttachments"]} == both
    cli("server", "remove", "port", "vm2", "extra")
    _wait(lambda: _addresses(cli, "vm2") == ["10.20.0.77"], "extra's address to go")
    _wait(lambda: cli("port", "show", "extra")["device_id"] == "", "extra to be free")
    cli("server", "delete", "--wait", "vm2")
    kept = cli("port", "show", "mine")
    assert (kept["device_id"], kept["binding_host_id"]) == ("", "")
    cli("port", "delete", "mine", "extra")


def test_a_floating_ip_shows_in_the_servers_addresses(cloud):
    cli = cloud.cli
    cli("network", "create", "--external", "--provider-network-type", "flat",
        "--provider-physical-network", "external", "public")
    cli("subnet", "create", "--network", "public", "--subnet-range", "172.25.251.0/24",
        "--no-dhcp", "public-sub")
    cli("router", "create", "r1")
    cli("router", "set", "--external-gateway", "public", "r1")
    cli("router", "add", "subnet", "r1", "sub1")
    server = cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--network",
                 "net1", "--wait", "vm3")
    floating = cli("floating", "ip", "create", "public", "-f", "json")["floating_ip_address"]
    cli("server", "add", "floating", "ip", "vm3", floating)
    _wait(lambda: floating in _addresses(cli, "vm3"), "the floating IP in vm3's addresses")
    _, body = _compute(cloud, "GET", f"/servers/{server['id']}/ips")
    assert [(a["addr"], a["OS-EXT-IPS:type"]) for a in body["addresses"]["net1"]] == \
        [(_addresses(cli, "vm3")[0], "fixed"), (floating, "floating")]
    cli("server", "remove", "floating", "ip", "vm3", floating)
    _wait(lambda: floating not in _addresses(cli, "vm3"), "the floating IP to leave vm3")
    cli("server", "delete", "--wait", "vm3")
    cli("floating", "ip", "delete", floating)
    cli("router", "remove", "subnet", "r1", "sub1")
    cli("router", "delete", "r1")


def _compute(cloud, method, path, body=None):
    token = cloud.cli("token", "issue", "-f", "json")["id"]
    request = urllib.request.Request(
        f"{cloud.endpoint('compute')}/v2.1{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Auth-Token": token, "Content-Type": "application/json",
                 "OpenStack-API-Version": "compute 2.79"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_bad_networks_are_refused_at_create(cloud):
    image = cloud.cli("image", "show", "tiny")["id"]
    server = {"name": "bad", "imageRef": image, "flavorRef": "1"}
    status, body = _compute(cloud, "POST", "/servers", {"server": {
        **server, "networks": [{"uuid": str(uuid.uuid4())}]}})
    assert status == 400 and "could not be found" in body["badRequest"]["message"]
    status, body = _compute(cloud, "POST", "/servers", {"server": {
        **server, "networks": [{"uuid": "a-b-c-d-e-f-g-h-i-j"}]}})
    assert status == 400 and "not in proper format" in body["badRequest"]["message"]
    cloud.cli("port", "create", "--network", "net1", "--device", "elsewhere", "busy")
    busy = cloud.cli("port", "show", "busy")["id"]
    status, body = _compute(cloud, "POST", "/servers", {"server": {
        **server, "networks": [{"port": busy}]}})
    assert status == 409 and "still in use" in body["conflictingRequest"]["message"]
    cloud.cli("port", "delete", "busy")
