"""Servers on Neutron ports with the real `openstack` CLI: compute asks the network server for
ports, the host's network agent plugs them (real bridges), and libvirt's test driver plays the
hypervisor. Addresses, ports, interfaces and floating IPs as they follow the user's commands,
read back (and what a test only arranges, made) with openstacksdk in-process."""
import json
import secrets
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

from tests.fixtures.undercloud import openstack_cli, start, wait_for_server

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
def undercloud(tmp_path_factory, outside_bridge):
    serve = start(tmp_path_factory.mktemp("compute-network"), SERVICES, {
        "compute": {"virt_uri": "test:///default", "host": HOST, "report_interval": 1,
                    "power_sync_interval": 2, "reconcile_interval": 2},
        "network": {"host": HOST, "agent_modes": ["l2"], "report_interval": 1,
                    "reconcile_interval": 5,
                    "physical_mappings": {"external": outside_bridge}}})
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def cli(undercloud, clients_venv):
    # A failed command shows what compute and network logged.
    return openstack_cli(clients_venv, undercloud, logs=("compute", "network"))


@pytest.fixture(scope="module", autouse=True)
def net1(undercloud, sdk):
    """Every test's `tiny` image and net1 (sub1, 10.20.0.0/24), once the compute host and the
    network agent reported."""
    image = undercloud.data_dir / "tiny.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(image), "64M"], check=True)
    sdk.image.create_image("tiny", filename=str(image), disk_format="qcow2",
                           container_format="bare", visibility="public")
    network = sdk.network.create_network(name="net1")
    sdk.network.create_subnet(network_id=network.id, name="sub1", ip_version=4,
                              cidr="10.20.0.0/24")
    _wait(lambda: any(h.name == HOST for h in sdk.compute.hypervisors()),
          "the compute host's report")
    _wait(lambda: any(a.host == HOST for a in sdk.network.agents()),
          "the network agent's report")
    return network


def _wait(check, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {timeout} s")


def _addresses(sdk, server_id) -> list[str]:
    # The addresses `openstack server show` lists, in the order the API gives them.
    return [address["addr"] for addresses in sdk.compute.get_server(server_id).addresses.values()
            for address in addresses]


def _ports(sdk, server_id) -> list:
    return list(sdk.network.ports(device_id=server_id))


def test_a_server_on_a_network_gets_a_bound_port_that_goes_with_it(cli, sdk, net1):
    server = cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--network",
                 "net1", "--wait", "vm1")
    assert server["status"] == "ACTIVE", server.get("fault")
    address, = _addresses(sdk, server["id"])
    assert address.startswith("10.20.0.")
    port, = _ports(sdk, server["id"])
    assert (port.binding_host_id, port.device_owner) == (HOST, "compute:nova")
    assert port.fixed_ips[0]["ip_address"] == address
    _wait(lambda: sdk.network.get_port(port.id).status == "ACTIVE", "ACTIVE port")
    cli("server", "delete", "--wait", "vm1")
    assert list(sdk.network.ports(network_id=net1.id, device_owner="compute:nova")) == []


def test_a_users_port_is_kept_and_ports_attach_and_detach(undercloud, cli, sdk, net1):
    mine = sdk.network.create_port(network_id=net1.id, name="mine",
                                   fixed_ips=[{"ip_address": "10.20.0.77"}])
    extra = sdk.network.create_port(network_id=net1.id, name="extra")
    server = cli("server", "create", "--image", "tiny", "--flavor", "m1.tiny", "--port", "mine",
                 "--wait", "vm2")
    assert server["status"] == "ACTIVE", server.get("fault")
    assert _addresses(sdk, server["id"]) == ["10.20.0.77"]
    cli("server", "add", "port", "vm2", "extra")
    extra = sdk.network.get_port(extra)
    assert extra.device_id == server["id"]
    assert extra.fixed_ips[0]["ip_address"] in _addresses(sdk, server["id"])
    both = {mine.id, extra.id}
    assert {p.id for p in _ports(sdk, server["id"])} == both
    _, body = _compute(undercloud, sdk, "GET", f"/servers/{server['id']}/os-interface")
    assert {i["port_id"] for i in body["interfaceAttachments"]} == both
    cli("server", "remove", "port", "vm2", "extra")
    _wait(lambda: _addresses(sdk, server["id"]) == ["10.20.0.77"], "extra's address to go")
    _wait(lambda: sdk.network.get_port(extra).device_id == "", "extra to be free")
    cli("server", "delete", "--wait", "vm2")
    kept = sdk.network.get_port(mine)
    assert (kept.device_id, kept.binding_host_id) == ("", "")
    sdk.network.delete_port(mine)
    sdk.network.delete_port(extra)


def test_a_floating_ip_shows_in_the_servers_addresses(undercloud, cli, sdk, net1):
    public = sdk.network.create_network(
        name="public", is_router_external=True, provider_network_type="flat",
        provider_physical_network="external")
    sdk.network.create_subnet(network_id=public.id, name="public-sub", ip_version=4,
                              cidr="172.25.251.0/24", is_dhcp_enabled=False)
    router = sdk.network.create_router(name="r1")
    sdk.network.update_router(router, external_gateway_info={"network_id": public.id})
    sub1 = sdk.network.find_subnet("sub1", ignore_missing=False)
    sdk.network.add_interface_to_router(router, subnet=sub1.id)
    server = sdk.compute.create_server(
        name="vm3", image_id=sdk.image.find_image("tiny").id, networks=[{"uuid": net1.id}],
        flavor_id=sdk.compute.find_flavor("m1.tiny").id)
    server = wait_for_server(sdk, server, ("ACTIVE",))
    floating_ip = sdk.network.create_ip(floating_network_id=public.id)
    floating = floating_ip.floating_ip_address
    cli("server", "add", "floating", "ip", "vm3", floating)
    _wait(lambda: floating in _addresses(sdk, server.id), "the floating IP in vm3's addresses")
    _, body = _compute(undercloud, sdk, "GET", f"/servers/{server.id}/ips")
    assert [(a["addr"], a["OS-EXT-IPS:type"]) for a in body["addresses"]["net1"]] == \
        [(_addresses(sdk, server.id)[0], "fixed"), (floating, "floating")]
    cli("server", "remove", "floating", "ip", "vm3", floating)
    _wait(lambda: floating not in _addresses(sdk, server.id), "the floating IP to leave vm3")
    sdk.compute.delete_server(server)
    sdk.compute.wait_for_delete(server, interval=0.3)
    sdk.network.delete_ip(floating_ip)
    sdk.network.remove_interface_from_router(router, subnet=sub1.id)
    sdk.network.delete_router(router)


def _compute(undercloud, sdk, method, path, body=None):
    request = urllib.request.Request(
        f"{undercloud.endpoint('compute')}/v2.1{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Auth-Token": sdk.auth_token, "Content-Type": "application/json",
                 "OpenStack-API-Version": "compute 2.79"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_bad_networks_are_refused_at_create(undercloud, sdk, net1):
    image = sdk.image.find_image("tiny", ignore_missing=False).id
    server = {"name": "bad", "imageRef": image, "flavorRef": "1"}
    status, body = _compute(undercloud, sdk, "POST", "/servers", {"server": {
        **server, "networks": [{"uuid": str(uuid.uuid4())}]}})
    assert status == 400 and "could not be found" in body["badRequest"]["message"]
    status, body = _compute(undercloud, sdk, "POST", "/servers", {"server": {
        **server, "networks": [{"uuid": "a-b-c-d-e-f-g-h-i-j"}]}})
    assert status == 400 and "not in proper format" in body["badRequest"]["message"]
    busy = sdk.network.create_port(network_id=net1.id, device_id="elsewhere", name="busy").id
    status, body = _compute(undercloud, sdk, "POST", "/servers", {"server": {
        **server, "networks": [{"port": busy}]}})
    assert status == 409 and "still in use" in body["conflictingRequest"]["message"]
    sdk.network.delete_port(busy)
