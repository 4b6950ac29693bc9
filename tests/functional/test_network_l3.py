"""Routers, floating IPs and security groups as a user drives them: the real `openstack` CLI
against a real serve (identity + network, its agent wiring a bridge the test made)."""
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


@pytest.fixture
def cli(undercloud, clients_venv):
    """The CLI's result: JSON parsed when it printed any, else the process."""
    def run(*args, check=True):
        result = subprocess.run([str(clients_venv / "bin" / "openstack"), *args],
                                capture_output=True, text=True, timeout=120,
                                env=undercloud.client_env())
        if check:
            assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
        if result.returncode == 0 and result.stdout.strip().startswith(("{", "[")):
            return json.loads(result.stdout)
        return result
    return run


@pytest.fixture(scope="module")
def public(undercloud, clients_venv):
    """The operator's external network (what tempest's fixture makes)."""
    options = tempest.network_options(clients_venv, tempest.read_cloud(undercloud.clouds_yaml))
    return options["network"]["public_network_id"]


def test_a_private_network_behind_a_router_with_a_floating_ip(cli, public):
    cli("network", "create", "private", "-f", "json")
    subnet = cli("subnet", "create", "--network", "private", "--subnet-range", "10.10.0.0/24",
                 "private-subnet", "-f", "json")
    router = cli("router", "create", "r1", "-f", "json")
    assert router["status"] == "ACTIVE"

    cli("router", "set", "--external-gateway", public, "r1")
    cli("router", "add", "subnet", "r1", "private-subnet")
    shown = cli("router", "show", "r1", "-f", "json")
    assert shown["external_gateway_info"]["network_id"] == public
    interfaces = cli("port", "list", "--router", "r1", "--device-owner",
                     "network:router_interface", "-f", "json")
    assert [ip["ip_address"] for p in interfaces for ip in p["Fixed IP Addresses"]] == \
        [subnet["gateway_ip"]]

    port = cli("port", "create", "--network", "private", "guest-port", "-f", "json")
    floating = cli("floating", "ip", "create", public, "-f", "json")
    assert floating["floating_ip_address"].startswith("172.24.4.")
    cli("floating", "ip", "set", "--port", "guest-port", floating["id"])
    associated = cli("floating", "ip", "show", floating["id"], "-f", "json")
    assert associated["port_id"] == port["id"]
    assert associated["router_id"] == router["id"]
    assert associated["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]

    cli("floating", "ip", "unset", "--port", floating["id"])
    assert cli("floating", "ip", "show", floating["id"], "-f", "json")["port_id"] is None
    cli("floating", "ip", "delete", floating["id"])
    cli("port", "delete", "guest-port")
    cli("router", "remove", "subnet", "r1", "private-subnet")
    cli("router", "unset", "--external-gateway", "r1")
    cli("router", "delete", "r1")
    assert cli("router", "list", "-f", "json") == []


def test_overlapping_subnets_on_one_router_answer_400(cli):
    for name, cidr in (("left", "10.20.0.0/24"), ("right", "10.20.0.0/16")):
        cli("network", "create", name, "-f", "json")
        cli("subnet", "create", "--network", name, "--subnet-range", cidr, f"{name}-subnet",
            "-f", "json")
    cli("router", "create", "r2", "-f", "json")
    cli("router", "add", "subnet", "r2", "left-subnet")

    refused = cli("router", "add", "subnet", "r2", "right-subnet", check=False)
    assert refused.returncode != 0
    assert "overlaps with cidr 10.20.0.0/24" in refused.stderr
    assert "HTTP 400" in refused.stderr or "BadRequest" in refused.stderr


def test_overlap_error_has_neutrons_body(undercloud, cli):
    """The same refusal on the wire: 400 with a NeutronError body."""
    token = cli("token", "issue", "-f", "json")["id"]
    router = cli("router", "show", "r2", "-f", "json")
    right = cli("subnet", "show", "right-subnet", "-f", "json")
    request = subprocess.run(
        ["curl", "-s", "-X", "PUT", "-H", f"X-Auth-Token: {token}",
         "-H", "Content-Type: application/json", "-w", "\n%{http_code}",
         "-d", json.dumps({"subnet_id": right["id"]}),
         f"{undercloud.endpoint('network')}/v2.0/routers/{router['id']}/add_router_interface"],
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
