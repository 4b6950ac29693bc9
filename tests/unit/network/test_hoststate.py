"""The desired state each host's agent gets: what lives there, and nothing else."""
import pytest

from undercloud import db
from undercloud.common import config as configuration
from undercloud.network import agents, devices, hoststate
from undercloud.network.models import (FloatingIP, IPAllocation, Network, Port,
                                       PortSecurityGroup, Router, SecurityGroup,
                                       SecurityGroupRule, Subnet)

EXTERNAL_BRIDGE = "br-outside"


@pytest.fixture
def cfg(tmp_path):
    cfg = configuration.load(environ={}, overrides={"data_dir": str(tmp_path)})
    db.connect(cfg)
    db.migrate(cfg, ["network"])
    yield cfg
    db.database.close()


def _port(network, subnet, ip, owner, device_id, host, mac):
    port = Port.create(network=network, project_id="p1", mac_address=mac, device_owner=owner,
                       device_id=device_id, binding_host_id=host)
    IPAllocation.create(port=port, subnet=subnet, network=network, ip_address=ip)
    return port


@pytest.fixture
def cloud(cfg):
    """Two compute hosts and a network host; one tenant network behind a router."""
    agents.report("net1", ["l2", "dhcp", "l3", "metadata"],
                  {"tunnel_ip": "192.0.2.1", "physical_mappings": {"external": EXTERNAL_BRIDGE}})
    agents.report("cmp1", ["l2"], {"tunnel_ip": "192.0.2.11"})
    agents.report("cmp2", ["l2"], {"tunnel_ip": "192.0.2.12"})
    public = Network.create(name="public", external=True, network_type="flat",
                            physical_network="external", mtu=1500)
    public_subnet = Subnet.create(network=public, cidr="172.24.4.0/24",
                                  gateway_ip="172.24.4.1")
    private = Network.create(name="private", project_id="p1", segmentation_id=77, mtu=1450)
    subnet = Subnet.create(network=private, project_id="p1", cidr="10.0.0.0/24",
                           gateway_ip="10.0.0.1", dns_nameservers=["10.9.9.9"])
    router = Router.create(project_id="p1", name="r1", host="net1")
    gateway = _port(public, public_subnet, "172.24.4.10", "network:router_gateway", router.id,
                    "net1", "fa:16:3e:00:00:01")
    Router.update(gw_port_id=gateway.id).where(Router.id == router.id).execute()
    _port(private, subnet, "10.0.0.1", "network:router_interface", router.id, "net1",
          "fa:16:3e:00:00:02")
    _port(private, subnet, "10.0.0.2", "network:dhcp", "dhcp-x", "net1", "fa:16:3e:00:00:03")
    group = SecurityGroup.create(project_id="p1", name="web")
    SecurityGroupRule.create(security_group=group, direction="ingress", protocol="icmp")
    SecurityGroupRule.create(security_group=group, direction="ingress",
                             remote_group_id=group.id)
    guest_a = _port(private, subnet, "10.0.0.5", "compute:nova", "vm-a", "cmp1",
                    "fa:16:3e:00:00:05")
    guest_b = _port(private, subnet, "10.0.0.6", "compute:nova", "vm-b", "cmp2",
                    "fa:16:3e:00:00:06")
    for guest in (guest_a, guest_b):
        PortSecurityGroup.create(port=guest, security_group=group)
    FloatingIP.create(project_id="p1", floating_network=public, floating_port_id="f" * 36,
                      floating_ip_address="172.24.4.20", port_id=guest_a.id,
                      fixed_ip_address="10.0.0.5", router_id=router.id)
    return {"private": private, "router": router, "group": group, "a": guest_a,
            "b": guest_b, "gateway": gateway}


def test_a_compute_host_wires_only_its_guests_with_vxlan_peers(cloud):
    state = hoststate.host_state("cmp1")

    assert [p["id"] for p in state["ports"]] == [cloud["a"].id]
    port = state["ports"][0]
    assert port["tap"] == devices.tap(cloud["a"].id)
    assert port["fixed_ips"][0]["ip_address"] == "10.0.0.5"
    [network] = state["networks"]
    assert network["bridge"] == devices.bridge(cloud["private"].id)
    assert network["segmentation_id"] == 77
    # The network host (router + DHCP) and the other compute host wire it too.
    assert network["vxlan_peers"] == ["192.0.2.1", "192.0.2.12"]
    assert state["dhcp"] == [] and state["routers"] == []


def test_security_groups_carry_rules_and_remote_group_members(cloud):
    state = hoststate.host_state("cmp1")

    group = state["security_groups"][cloud["group"].id]
    assert {r["protocol"] for r in group["rules"]} == {"icmp", None}
    assert group["member_ips"]["IPv4"] == ["10.0.0.5", "10.0.0.6"]


def test_the_network_host_runs_dhcp_and_the_router_with_its_floating_ip(cloud):
    state = hoststate.host_state("net1")

    assert state["modes"] == ["dhcp", "l2", "l3", "metadata"]
    [dhcp] = state["dhcp"]
    assert dhcp["subnets"][0]["dns_nameservers"] == ["10.9.9.9"]
    assert [h["ip_address"] for h in dhcp["hosts"]] == ["10.0.0.1", "10.0.0.5", "10.0.0.6"]
    assert dhcp["hosts"][1]["hostname"] == "host-10-0-0-5"
    [router] = state["routers"]
    assert router["gateway"]["bridge"] == EXTERNAL_BRIDGE
    assert router["gateway"]["fixed_ips"][0] == {
        "subnet_id": router["gateway"]["fixed_ips"][0]["subnet_id"], "ip_address":
        "172.24.4.10", "prefixlen": 24, "cidr": "172.24.4.0/24", "gateway_ip": "172.24.4.1"}
    assert router["interfaces"][0]["fixed_ips"][0]["ip_address"] == "10.0.0.1"
    assert router["floating_ips"] == [{"id": router["floating_ips"][0]["id"],
                                       "floating_ip_address": "172.24.4.20",
                                       "fixed_ip_address": "10.0.0.5",
                                       "port_id": cloud["a"].id}]
    # Guests elsewhere are not this host's to filter.
    assert state["ports"] == []


def test_an_unchanged_cloud_gives_an_identical_state(cloud):
    assert hoststate.host_state("net1") == hoststate.host_state("net1")


def test_routers_move_off_a_dead_l3_agent(cloud, cfg):
    agents.report("net2", ["l3"], {})
    agents.Agent.update(heartbeat_timestamp=db.utcnow().replace(year=2000)) \
        .where(agents.Agent.host == "net1").execute()

    assert agents.place_routers(down_time=75) == [cloud["router"].id]

    assert Router.get_by_id(cloud["router"].id).host == "net2"
    assert Port.get_by_id(cloud["gateway"].id).binding_host_id == "net2"
