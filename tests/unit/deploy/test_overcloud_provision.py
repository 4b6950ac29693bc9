"""Bare-metal provisioning's choices, fed with canned answers of the bare-metal API (the
lab test tests/lab/test_overcloud.py runs it for real): nodes are picked by profile, kept
when already active, given free ctlplane addresses, the image and a config drive, and
waited for until active, with clear errors for too few nodes, a failed deploy or a timeout."""
import copy

import pytest

from undercloud.deploy import plan as plans, provision

PLAN = """
hosts:
  oc-ctl-0: {address: 192.168.24.31, roles: [control]}
baremetal:
  image: overcloud-node
  roles: {compute: {count: 2}, network: {count: 1, profile: net}}
"""


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtest deployer"


def _drive(name, address):
    return {"meta_data": {"uuid": f"uuid-{name}", "name": name, "hostname": name,
                          "public_keys": {"stackbox-deployer": KEY}},
            "network_data": {
                "links": [{"id": "ctlplane-nic", "type": "phy",
                           "ethernet_mac_address": f"52:54:00:00:00:{len(name):02x}"}],
                "networks": [{"id": "ctlplane", "type": "ipv4", "link": "ctlplane-nic",
                              "ip_address": address, "netmask": "255.255.255.0",
                              "routes": []}],
                "services": []}}


def _node(name, state, profile, address=None, **fields):
    node = {"uuid": f"uuid-{name}", "name": name, "provision_state": state,
            "maintenance": False, "last_error": None,
            "properties": {"capabilities": f"boot_mode:bios,profile:{profile}"},
            "instance_info": {"ctlplane_address": address} if address else {},
            "ports": [{"address": f"52:54:00:00:00:{len(name):02x}", "pxe_enabled": True}]}
    return {**node, **fields}


class CannedBaremetal:
    """Answers like enroll.Baremetal; a node set active walks through `journey`."""

    def __init__(self, nodes, journey=("deploying", "wait call-back", "active")):
        self.node_list = nodes
        self.journey = journey
        self.calls = []
        self.walking = {}

    def nodes(self):
        for uuid, steps in self.walking.items():
            node = next(node for node in self.node_list if node["uuid"] == uuid)
            if steps:
                node["provision_state"] = steps.pop(0)
                if node["provision_state"] == "deploy failed":
                    node["last_error"] = "Timeout reached while waiting for callback"
        return copy.deepcopy(self.node_list)

    def call(self, method, path, body=None):
        self.calls.append((method, path, body))
        uuid = path.split("/")[2]
        node = next(node for node in self.node_list if node["uuid"] == uuid)
        for operation in body:
            node["instance_info"][operation["path"].split("/")[2]] = operation["value"]

    def ports(self, uuid):
        return next(node["ports"] for node in self.node_list if node["uuid"] == uuid)

    def set_provision_state(self, uuid, verb, **params):
        self.calls.append(("PUT", f"/nodes/{uuid}/states/provision",
                           {"target": verb, **params}))
        self.walking[uuid] = list(self.journey)


class CannedImages:
    def __init__(self, images):
        self.images = images

    def endpoint(self, service_type):
        return "http://192.168.24.1:9292"

    def request(self, url):
        assert url == "http://192.168.24.1:9292/v2/images?name=overcloud-node"
        return {"images": self.images}


def _provision(api, plan_text=PLAN, images=({"id": "image-1"},), timeout=60):
    plan = plans.parse(plan_text)
    said = []
    hosts, fresh = provision.provision(api, CannedImages(list(images)), plan.baremetal,
                                       "192.168.24.1/24", {"192.168.24.31"}, KEY,
                                       said.append, timeout)
    assert fresh == {call[1].split("/")[2][len("uuid-"):] for call in api.calls
                     if call[0] == "PUT"}
    return hosts, said


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(provision, "POLL_SECONDS", 0)


def test_available_nodes_of_each_profile_are_deployed_and_active_ones_kept():
    api = CannedBaremetal([
        _node("node-a", "active", "compute", "192.168.24.30"),
        _node("node-c", "available", "compute"),
        _node("node-b", "available", "compute"),
        _node("node-n", "available", "net"),
        _node("node-x", "available", "storage"),
    ])
    hosts, said = _provision(api)
    assert {name: (host.address, host.roles) for name, host in hosts.items()} == {
        "node-a": ("192.168.24.30", ("compute",)),
        "node-b": ("192.168.24.32", ("compute",)),
        "node-n": ("192.168.24.33", ("network",))}
    assert api.calls == [
        ("PATCH", "/nodes/uuid-node-b", [
            {"op": "add", "path": "/instance_info/image_source", "value": "image-1"},
            {"op": "add", "path": "/instance_info/ctlplane_address",
             "value": "192.168.24.32"}]),
        ("PUT", "/nodes/uuid-node-b/states/provision",
         {"target": "active", "configdrive": _drive("node-b", "192.168.24.32")}),
        ("PATCH", "/nodes/uuid-node-n", [
            {"op": "add", "path": "/instance_info/image_source", "value": "image-1"},
            {"op": "add", "path": "/instance_info/ctlplane_address",
             "value": "192.168.24.33"}]),
        ("PUT", "/nodes/uuid-node-n/states/provision",
         {"target": "active", "configdrive": _drive("node-n", "192.168.24.33")}),
    ]
    assert said[:2] == ["Bare metal compute: 1 node(s) kept, 1 to deploy (node-b)",
                        "Bare metal network: 0 node(s) kept, 1 to deploy (node-n)"]
    assert "  node node-b: wait call-back" in said and "  node node-n: active" in said


def test_a_rerun_with_every_node_active_touches_nothing():
    api = CannedBaremetal([_node("node-a", "active", "compute", "192.168.24.30"),
                           _node("node-b", "active", "compute", "192.168.24.32"),
                           _node("node-n", "active", "net", "192.168.24.33")])
    hosts, _ = _provision(api, images=())
    assert sorted(hosts) == ["node-a", "node-b", "node-n"]
    assert api.calls == []


def test_too_few_nodes_names_the_role_what_was_wanted_and_what_was_found():
    api = CannedBaremetal([_node("node-a", "available", "compute"),
                           _node("node-b", "manageable", "compute"),
                           _node("node-c", "available", "compute", maintenance=True),
                           _node("node-n", "available", "net")])
    with pytest.raises(provision.ProvisionError) as error:
        _provision(api)
    assert str(error.value) == (
        "baremetal role compute: wanted 2 node(s) with profile compute, found 0 active and "
        "1 available; not usable: node-b (manageable), node-c (available, maintenance); "
        "set properties/capabilities profile:compute on more nodes and make them available "
        "(stackbox node introspect --provide)")
    assert api.calls == []


def test_a_failed_deploy_names_the_node_and_its_last_error():
    api = CannedBaremetal([_node("node-a", "available", "compute"),
                           _node("node-b", "available", "compute"),
                           _node("node-n", "available", "net")],
                          journey=("deploying", "deploy failed"))
    with pytest.raises(provision.ProvisionError,
                       match="^node node-a: deploy failed: Timeout reached while waiting "
                             "for callback$"):
        _provision(api)


def test_waiting_is_bounded():
    api = CannedBaremetal([_node("node-a", "deploying", "compute", "192.168.24.30")],
                          journey=())
    api.walking["uuid-node-a"] = []
    moments = iter(range(0, 10000, 30))
    with pytest.raises(provision.ProvisionError,
                       match=r"^nodes not active after 2 min 00 s: node-a \(deploying\)$"):
        provision.wait_active(api, ["uuid-node-a"], lambda line: None, 120,
                              sleep=lambda seconds: None, clock=lambda: next(moments))


def test_the_image_must_exist_once_and_addresses_stay_in_the_provisioning_network():
    api = CannedBaremetal([_node("node-a", "available", "compute"),
                           _node("node-b", "available", "compute"),
                           _node("node-n", "available", "net")])
    with pytest.raises(provision.ProvisionError, match="baremetal image 'overcloud-node': "
                       "the undercloud's image service has 0 image"):
        _provision(api, images=())
    outside = PLAN + "  ctlplane_range: [10.0.0.5, 10.0.0.9]\n"
    with pytest.raises(provision.ProvisionError, match="ctlplane range 10.0.0.5-10.0.0.9 is "
                       "outside the provisioning network 192.168.24.0/24"):
        _provision(api, outside)
    narrow = PLAN + "  ctlplane_range: [192.168.24.30, 192.168.24.32]\n"
    with pytest.raises(provision.ProvisionError, match="has 2 free address"):
        _provision(api, narrow)


def test_a_node_without_a_pxe_port_stops_the_run_before_any_node_changes():
    api = CannedBaremetal([_node("node-a", "available", "compute"),
                           _node("node-b", "available", "compute", ports=[]),
                           _node("node-n", "available", "net")])
    with pytest.raises(provision.ProvisionError, match="^node node-b: the node has no "
                       "PXE-enabled port to put the ctlplane address on"):
        _provision(api)
    assert api.calls == []
