"""Routers, floating IPs and security groups as a user drives them: the real `openstack` CLI
against a real serve (identity + network, its agent wiring a bridge the test made); the networks
a test only needs, and what it reads back, go through openstacksdk in-process."""
import json
import subprocess

import pytest

from tests.fixtures import tempest
from tests.fixtures.undercloud import start

pytestmark = [pytest.mark.functional, pytest.mark.clients, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    with tempest.external_bridge() as bridge:
        serve = start(tmp_path_factory.mktemp("undercloud"), ["identity", "network"],
                      tempest.network_extra(bridge))
        try:
            yield serve
        finally:
            serve.stop()


@pytest.fixture(scope="module")
def cli(openstack):
    """The real `openstack` CLI (tests/fixtures/undercloud.py's `openstack`)."""
    return openstack


def _network(sdk, name: str, cidr: str):
    """A network and its subnet `name`-subnet, as `network create` and `subnet create` make
    them; the subnet."""
    network = sdk.network.create_network(name=name)
    return sdk.network.create_subnet(network_id=network.id, name=f"{name}-subnet",
                                     ip_version=4, cidr=cidr)


@pytest.fixture(scope="module")
def public(undercloud, clients_venv):
    """The operator's external network (what tempest's fixture makes)."""
    options = tempest.network_options(clients_venv, tempest.read_cloud(undercloud.clouds_yaml))
    return options["network"]["public_network_id"]


def test_a_private_network_behind_a_router_with_a_floating_ip(cli, sdk, public):
    subnet = _network(sdk, "private", "10.10.0.0/24")
    router = cli("router", "create", "r1", "-f", "json")
    assert router["status"] == "ACTIVE"

    cli("router", "set", "--external-gateway", public, "r1")
    cli("router", "add", "subnet", "r1", "private-subnet")
    shown = sdk.network.get_router(router["id"])
    assert shown.external_gateway_info["network_id"] == public
    interfaces = sdk.network.ports(device_id=router["id"], device_owner="network:router_interface")
    assert [ip["ip_address"] for p in interfaces for ip in p.fixed_ips] == [subnet.gateway_ip]

    port = sdk.network.create_port(network_id=subnet.network_id, name="guest-port")
    floating = cli("floating", "ip", "create", public, "-f", "json")
    assert floating["floating_ip_address"].startswith("172.24.4.")
    cli("floating", "ip", "set", "--port", "guest-port", floating["id"])
    associated = sdk.network.get_ip(floating["id"])
    assert associated.port_id == port.id
    assert associated.router_id == router["id"]
    assert associated.fixed_ip_address == port.fixed_ips[0]["ip_address"]

    cli("floating", "ip", "unset", "--port", floating["id"])
    assert sdk.network.get_ip(floating["id"]).port_id is None
    cli("floating", "ip", "delete", floating["id"])
    sdk.network.delete_port(port)
    cli("router", "remove", "subnet", "r1", "private-subnet")
    cli("router", "unset", "--external-gateway", "r1")
    cli("router", "delete", "r1")
    assert list(sdk.network.routers()) == []


def test_overlapping_subnets_on_one_router_answer_400(cli, sdk):
    left = _network(sdk, "left", "10.20.0.0/24")
    _network(sdk, "right", "10.20.0.0/16")
    router = sdk.network.create_router(name="r2")
    sdk.network.add_interface_to_router(router, subnet=left.id)

    refused = cli("router", "add", "subnet", "r2", "right-subnet", check=False)
    assert refused.returncode != 0
    assert "overlaps with cidr 10.20.0.0/24" in refused.stderr
    assert "HTTP 400" in refused.stderr or "BadRequest" in refused.stderr


def test_overlap_error_has_neutrons_body(undercloud, sdk):
    """The same refusal on the wire: 400 with a NeutronError body."""
    router = sdk.network.find_router("r2", ignore_missing=False)
    right = sdk.network.find_subnet("right-subnet", ignore_missing=False)
    request = subprocess.run(
        ["curl", "-s", "-X", "PUT", "-H", f"X-Auth-Token: {sdk.auth_token}",
         "-H", "Content-Type: application/json", "-w", "\n%{http_code}",
         "-d", json.dumps({"subnet_id": right.id}),
         f"{undercloud.endpoint('network')}/v2.0/routers/{router.id}/add_router_interface"],
        capture_output=True, text=True, timeout=60)
    body, status = request.stdout.rsplit("\n", 1)
    assert status == "400"
    error = json.loads(body)["NeutronError"]
    assert error["type"] == "BadRequest" and "overlaps" in error["message"]
    assert set(error) == {"type", "message", "detail"}


def test_security_group_with_rules(cli):
    group = cli("security", "group", "create", "web", "--description", "web servers",
                "-f", "json")
    assert {r["direction"] for r in group["rules"]} == {"egress"}
    ssh = cli("security", "group", "rule", "create", "--ingress", "--protocol", "tcp",
              "--dst-port", "22", "--remote-ip", "10.0.0.0/8", "web", "-f", "json")
    assert (ssh["port_range_min"], ssh["port_range_max"]) == (22, 22)
    ping = cli("security", "group", "rule", "create", "--ingress", "--protocol", "icmp", "web",
               "-f", "json")
    rules = cli("security", "group", "rule", "list", "web", "-f", "json")
    assert {ssh["id"], ping["id"]} <= {r["ID"] for r in rules}

    duplicate = cli("security", "group", "rule", "create", "--ingress", "--protocol", "tcp",
                    "--dst-port", "22", "--remote-ip", "10.0.0.0/8", "web", check=False)
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    bad = cli("security", "group", "rule", "create", "--ingress", "--ethertype", "IPv6",
              "--remote-ip", "10.0.0.0/8", "web", check=False)
    assert bad.returncode != 0 and "Conflicting value ethertype IPv6" in bad.stderr

    cli("security", "group", "rule", "delete", ping["id"])
    cli("security", "group", "delete", "web")
    names = [g["Name"] for g in cli("security", "group", "list", "-f", "json")]
    assert names == ["default"]
