"""Compute's ports: what the network server makes, binds, reports and gives back for instances."""
import pytest

from undercloud import db
from undercloud.common import config as configuration
from undercloud.network import agents, instances, security
from undercloud.network.models import (FloatingIP, IPAllocation, Network, Port,
                                       PortSecurityGroup, Router, SecurityGroup, Subnet)
from undercloud.network.rpcapi import (InvalidNetworkRequest, NetworkAttachForbidden,
                                       NetworkRequestConflict, NetworkRequestNotFound)

MEMBER = {"user_id": "u1", "project_id": "p1", "roles": ["member"]}
ADMIN = {"user_id": "admin", "project_id": "admin", "roles": ["admin", "member"]}


class Agents:
    """Stands in for AgentAPI: counts the syncs the server asked for."""

    def __init__(self):
        self.syncs = 0

    def sync(self, host=None):
        self.syncs += 1


@pytest.fixture
def cfg(tmp_path, monkeypatch):
    cfg = configuration.load(environ={}, overrides={"data_dir": str(tmp_path)})
    db.connect(cfg)
    db.migrate(cfg, ["network"])
    recorder = Agents()
    monkeypatch.setattr(instances, "_agents", lambda config: recorder)
    cfg.agents = recorder
    yield cfg
    db.database.close()


def _network(name, project_id="p1", cidr="10.0.0.0/24", **fields):
    network = Network.create(name=name, project_id=project_id, **fields)
    prefix = cidr.rsplit(".", 1)[0]
    Subnet.create(network=network, project_id=project_id, cidr=cidr, gateway_ip=f"{prefix}.1",
                  allocation_pools=[{"start": f"{prefix}.10", "end": f"{prefix}.20"}],
                  dns_nameservers=["10.9.9.9"])
    return network


def _allocate(cfg, requested, instance_id="vm1", context=MEMBER, groups=()):
    return instances.allocate_for_instance(cfg, context, instance_id, context["project_id"],
                                           "cmp1", requested, list(groups), "nova")


def test_a_port_is_made_and_bound_for_a_network(cfg):
    net = _network("net1")
    vif, = _allocate(cfg, [{"uuid": net.id}])
    port = Port.get_by_id(vif["port_id"])
    assert (port.device_id, port.device_owner, port.binding_host_id, port.binding_vif_type) == \
        ("vm1", "compute:nova", "cmp1", "bridge")
    assert vif["network_name"] == "net1" and vif["mac_address"] == port.mac_address
    assert vif["bridge"] == f"brq{net.id[:11]}" and vif["tap"] == f"tap{port.id[:11]}"
    assert not vif["preexisting"] and vif["mtu"] == net.mtu
    fixed, = vif["fixed_ips"]
    assert fixed["ip_address"] == "10.0.0.10" and fixed["version"] == 4
    assert (fixed["cidr"], fixed["gateway_ip"], fixed["dns_nameservers"]) == \
        ("10.0.0.0/24", "10.0.0.1", ["10.9.9.9"])
    default = security.default_group_of("p1")
    assert [r.security_group_id for r in PortSecurityGroup.select()] == [default.id]
    assert cfg.agents.syncs == 1


def test_fixed_ip_and_named_security_group(cfg):
    net = _network("net1")
    web = SecurityGroup.create(project_id="p1", name="web")
    vif, = _allocate(cfg, [{"uuid": net.id, "fixed_ip": "10.0.0.15"}], groups=["web"])
    assert vif["fixed_ips"][0]["ip_address"] == "10.0.0.15"
    assert [r.security_group_id for r in PortSecurityGroup.select()] == [web.id]


def test_a_users_port_is_bound_then_only_unbound(cfg):
    net = _network("net1")
    mine = Port.create(network=net, project_id="p1", mac_address="fa:16:3e:00:00:09")
    IPAllocation.create(port=mine, subnet=net.subnets[0], network=net, ip_address="10.0.0.9")
    vif, = _allocate(cfg, [{"port": mine.id}])
    assert vif["preexisting"] and Port.get_by_id(mine.id).device_id == "vm1"
    instances.deallocate_for_instance(cfg, "vm1")
    kept = Port.get_by_id(mine.id)
    assert (kept.device_id, kept.device_owner, kept.binding_host_id) == ("", "", "")


def test_deallocate_deletes_computes_ports_and_is_idempotent(cfg):
    net = _network("net1")
    vifs = _allocate(cfg, [{"uuid": net.id}, {"uuid": net.id}])
    assert len(vifs) == 2
    instances.deallocate_for_instance(cfg, "vm1", port_ids=[vifs[0]["port_id"]])
    assert [v["port_id"] for v in instances.network_info("vm1")] == [vifs[1]["port_id"]]
    instances.deallocate_for_instance(cfg, "vm1")
    instances.deallocate_for_instance(cfg, "vm1")
    assert Port.select().count() == 0 and IPAllocation.select().count() == 0


def test_a_port_in_use_is_refused_and_nothing_is_left_behind(cfg):
    net = _network("net1")
    busy = Port.create(network=net, project_id="p1", mac_address="fa:16:3e:00:00:09",
                       device_id="other-vm", device_owner="compute:nova")
    IPAllocation.create(port=busy, subnet=net.subnets[0], network=net, ip_address="10.0.0.9")
    with pytest.raises(NetworkRequestConflict, match="still in use"):
        _allocate(cfg, [{"uuid": net.id}, {"port": busy.id}])
    assert Port.select().count() == 1 and Port.get_by_id(busy.id).device_id == "other-vm"


def test_auto_takes_the_only_network_and_refuses_ambiguity(cfg):
    assert instances.validate_networks(MEMBER, "p1", []) == []
    with pytest.raises(InvalidNetworkRequest, match="automatically allocate"):
        _allocate(cfg, [])
    net = _network("net1")
    assert instances.validate_networks(MEMBER, "p1", []) == [{"uuid": net.id}]
    vif, = _allocate(cfg, [])
    assert vif["network_id"] == net.id
    _network("shared", project_id="admin", cidr="10.1.0.0/24", shared=True)
    with pytest.raises(NetworkRequestConflict, match="Multiple possible networks"):
        instances.validate_networks(MEMBER, "p1", [])


@pytest.mark.parametrize("request_for, error, message", [
    (lambda nets: {"uuid": "00000000-0000-0000-0000-000000000000"}, NetworkRequestNotFound,
     "could not be found"),
    (lambda nets: {"uuid": nets["other"].id}, NetworkRequestNotFound, "could not be found"),
    (lambda nets: {"uuid": nets["bare"].id}, InvalidNetworkRequest, "requires a subnet"),
    (lambda nets: {"uuid": nets["public"].id}, NetworkAttachForbidden, "external network"),
    (lambda nets: {"uuid": nets["mine"].id, "fixed_ip": "10.9.0.5"}, InvalidNetworkRequest,
     "not in any subnet"),
    (lambda nets: {"port": "00000000-0000-0000-0000-000000000000"}, NetworkRequestNotFound,
     "could not be found"),
])
def test_validation_refuses_what_cannot_be_booted(cfg, request_for, error, message):
    nets = {"mine": _network("mine"), "other": _network("other", project_id="p2"),
            "bare": Network.create(name="bare", project_id="p1"),
            "public": _network("public", project_id="admin", cidr="172.24.4.0/24",
                               external=True)}
    with pytest.raises(error, match=message):
        instances.validate_networks(MEMBER, "p1", [request_for(nets)])


def test_validation_of_security_groups_and_used_addresses(cfg):
    net = _network("net1")
    with pytest.raises(InvalidNetworkRequest, match="Security group nope not found"):
        instances.validate_networks(MEMBER, "p1", [{"uuid": net.id}], ["nope"])
    _allocate(cfg, [{"uuid": net.id, "fixed_ip": "10.0.0.12"}])
    with pytest.raises(InvalidNetworkRequest, match="already in use on instance vm1"):
        instances.validate_networks(MEMBER, "p1", [{"uuid": net.id, "fixed_ip": "10.0.0.12"}])
    public = _network("public", project_id="admin", cidr="172.24.4.0/24", external=True)
    assert instances.validate_networks(ADMIN, "admin", [{"uuid": public.id}])


def test_floating_ips_show_in_network_info(cfg):
    net = _network("net1")
    public = _network("public", project_id="admin", cidr="172.24.4.0/24", external=True)
    vif, = _allocate(cfg, [{"uuid": net.id}])
    FloatingIP.create(project_id="p1", floating_network=public, floating_port_id="f",
                      floating_ip_address="172.24.4.50", port_id=vif["port_id"],
                      fixed_ip_address="10.0.0.10")
    vif, = instances.network_info("vm1")
    assert vif["fixed_ips"][0]["floating_ips"] == ["172.24.4.50"]


def test_a_flat_network_plugs_into_the_hosts_mapped_bridge(cfg):
    agents.report("cmp1", ["l2"], {"physical_mappings": {"physnet1": "br-phys"}})
    net = _network("flat", network_type="flat", physical_network="physnet1")
    vif, = _allocate(cfg, [{"uuid": net.id}])
    assert vif["bridge"] == "br-phys"


def test_instance_for_address_through_a_router_or_a_network(cfg):
    net = _network("net1")
    other = _network("net2", cidr="10.0.0.0/24")
    _allocate(cfg, [{"uuid": net.id}], instance_id="vm-a")
    _allocate(cfg, [{"uuid": other.id}], instance_id="vm-b")
    router = Router.create(project_id="p1", name="r1")
    interface = Port.create(network=net, project_id="p1", mac_address="fa:16:3e:00:00:01",
                            device_id=router.id, device_owner="network:router_interface")
    IPAllocation.create(port=interface, subnet=net.subnets[0], network=net,
                        ip_address="10.0.0.1")
    assert instances.instance_for_address("10.0.0.10", router_id=router.id) == \
        {"instance_id": "vm-a", "project_id": "p1"}
    assert instances.instance_for_address("10.0.0.10", network_id=other.id) == \
        {"instance_id": "vm-b", "project_id": "p1"}
    assert instances.instance_for_address("10.0.0.99", router_id=router.id) is None
    assert instances.instance_for_address("10.0.0.1", router_id=router.id) is None
