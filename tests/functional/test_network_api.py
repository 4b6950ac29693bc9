"""The network API as an operator uses it: the real `openstack` CLI (and raw HTTP for Neutron's
error bodies) against a real `stackbox serve` with identity and network; what a test only
arranges is made with openstacksdk in-process."""
import http.client
import json
import urllib.parse

import pytest

from tests.fixtures.undercloud import start

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    """Identity and network; the agent runs L2 only, so no DHCP namespaces are made here."""
    serve = start(tmp_path_factory.mktemp("undercloud"), ["identity", "network"],
                  {"network": {"agent_modes": ["l2"]}})
    yield serve
    serve.stop()


@pytest.fixture(scope="module")
def cli(openstack):
    """The real `openstack` CLI (tests/fixtures/undercloud.py's `openstack`)."""
    return openstack


@pytest.fixture(scope="module")
def api(undercloud, sdk):
    """(method, path, body) -> (status, JSON body) with the admin's token."""
    token = sdk.auth_token
    endpoint = urllib.parse.urlsplit(undercloud.endpoint("network"))

    def call(method, path, body=None):
        connection = http.client.HTTPConnection(endpoint.hostname, endpoint.port, timeout=60)
        connection.request(method, path, json.dumps(body) if body is not None else None,
                           {"X-Auth-Token": token, "Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, json.loads(data) if data else None
    return call


def test_network_subnet_and_port_with_a_fixed_ip(cli):
    network = cli("network", "create", "blue", "--description", "tenant network")
    assert network["status"] == "ACTIVE" and network["mtu"] == 1450
    subnet = cli("subnet", "create", "--network", "blue", "--subnet-range", "10.10.0.0/24",
                 "--dns-nameserver", "10.10.0.53", "blue-v4")
    assert subnet["gateway_ip"] == "10.10.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.10.0.2", "end": "10.10.0.254"}]
    port = cli("port", "create", "--network", "blue", "--fixed-ip",
               "subnet=blue-v4,ip-address=10.10.0.50", "web")
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.10.0.50"}]
    assert port["mac_address"].startswith("fa:16:3e:")
    listed = cli("network", "list", "--long")
    row = next(item for item in listed if item["Name"] == "blue")
    assert row["Subnets"] == [subnet["id"]] and row["Network Type"] == "vxlan"
    assert [p["Name"] for p in cli("port", "list", "--network", "blue")] == ["web"]
    cli("port", "delete", "web")
    cli("network", "delete", "blue")
    assert "blue" not in [n["Name"] for n in cli("network", "list")]


def test_ipv6_slaac_ports_get_their_eui64_address(cli, sdk):
    sdk.network.create_network(name="v6")
    subnet = cli("subnet", "create", "--network", "v6", "--ip-version", "6", "--subnet-range",
                 "2001:db8:6::/64", "--ipv6-ra-mode", "slaac", "--ipv6-address-mode", "slaac",
                 "v6-slaac")
    assert (subnet["ipv6_ra_mode"], subnet["ipv6_address_mode"]) == ("slaac", "slaac")
    port = cli("port", "create", "--network", "v6", "--mac-address", "fa:16:3e:00:11:22", "p6")
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"],
                                  "ip_address": "2001:db8:6:0:f816:3eff:fe00:1122"}]


def test_subnet_pools_carve_subnets(cli, sdk):
    pool = cli("subnet", "pool", "create", "--pool-prefix", "10.128.0.0/16",
               "--default-prefix-length", "26", "pool1")
    assert pool["ip_version"] == 4 and pool["default_prefixlen"] == 26
    sdk.network.create_network(name="pooled")
    first = cli("subnet", "create", "--network", "pooled", "--subnet-pool", "pool1", "a")
    second = cli("subnet", "create", "--network", "pooled", "--subnet-pool", "pool1",
                 "--prefix-length", "28", "b")
    assert (first["cidr"], second["cidr"]) == ("10.128.0.0/26", "10.128.0.64/28")
    assert cli("subnet", "pool", "show", "pool1")["prefixes"] == ["10.128.0.0/16"]


def test_quota_show_and_set(cli, sdk):
    project = sdk.current_project_id   # the admin's
    cli("quota", "set", "--networks", "42", "--ports", "7", project)
    shown = {row["Resource"]: row["Limit"] for row in cli("quota", "show", project)}
    assert (shown["networks"], shown["ports"]) == (42, 7)


def test_tags_set_filter_and_unset(cli):
    cli("network", "create", "--tag", "red", "tagged")
    cli("network", "set", "--tag", "blue", "tagged")
    assert sorted(cli("network", "show", "tagged")["tags"]) == ["blue", "red"]
    assert [n["Name"] for n in cli("network", "list", "--tags", "red,blue")] == ["tagged"]
    cli("network", "unset", "--tag", "red", "tagged")
    assert cli("network", "show", "tagged")["tags"] == ["blue"]


def _network(sdk, name: str, cidr: str, **subnet):
    """A network and its IPv4 subnet `name`-v4, as `network create` and `subnet create` make
    them; the subnet."""
    network = sdk.network.create_network(name=name)
    return sdk.network.create_subnet(network_id=network.id, name=f"{name}-v4", ip_version=4,
                                     cidr=cidr, **subnet)


def test_a_fixed_ip_outside_its_subnet_is_400(cli, sdk, api):
    subnet = _network(sdk, "bad-ip", "10.20.0.0/24")
    failed = cli("port", "create", "--network", "bad-ip", "--fixed-ip",
                 "subnet=bad-ip-v4,ip-address=10.99.0.5", "p", check=False)
    assert failed.returncode != 0 and "not a valid IP for the specified subnet" in failed.stderr
    status, body = api("POST", "/v2.0/ports", {"port": {
        "network_id": subnet.network_id,
        "fixed_ips": [{"subnet_id": subnet.id, "ip_address": "10.99.0.5"}]}})
    assert status == 400
    assert body["NeutronError"]["type"] == "InvalidIpForSubnet"
    assert set(body["NeutronError"]) == {"type", "message", "detail"}


def test_deleting_a_network_that_still_has_ports_is_409(cli, sdk, api):
    network = _network(sdk, "busy", "10.30.0.0/24").network_id
    sdk.network.create_port(network_id=network, name="busy-port")
    failed = cli("network", "delete", "busy", check=False)
    assert failed.returncode != 0 and "still in use" in failed.stderr
    status, body = api("DELETE", f"/v2.0/networks/{network}")
    assert status == 409 and body["NeutronError"]["type"] == "NetworkInUse"


def test_an_exhausted_pool_is_409_with_a_clear_message(sdk, api):
    network = _network(sdk, "tiny", "10.40.0.0/29", allocation_pools=[
        {"start": "10.40.0.2", "end": "10.40.0.3"}]).network_id
    sdk.network.create_port(network_id=network, name="t1")
    sdk.network.create_port(network_id=network, name="t2")
    status, body = api("POST", "/v2.0/ports", {"port": {"network_id": network}})
    assert status == 409
    assert body["NeutronError"] == {
        "type": "IpAddressGenerationFailure", "detail": "",
        "message": f"No more IP addresses available on network {network}."}


def test_an_unknown_filter_is_400(api):
    status, body = api("GET", "/v2.0/networks?colour=blue")
    assert status == 400
    assert body["NeutronError"]["message"] == "['colour'] is invalid attribute for filtering"
