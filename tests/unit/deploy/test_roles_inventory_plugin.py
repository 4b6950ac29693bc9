"""The bare-metal inventory plugin reads the undercloud's node listing: active nodes become
hosts in their profile's group, at the ctlplane address the deployer recorded."""
import importlib.util
import os

import pytest

PLUGIN = os.path.join(os.path.dirname(__file__), "..", "..", "..", "playbooks", "inventory",
                      "stackbox_baremetal.py")


@pytest.fixture(scope="module")
def plugin():
    spec = importlib.util.spec_from_file_location("stackbox_baremetal", PLUGIN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _node(name, profile=None, address=None, state="active", capabilities=None):
    properties = {"cpus": 2, "memory_mb": 4096}
    if profile is not None:
        properties["capabilities"] = f"profile:{profile},boot_option:local"
    if capabilities is not None:
        properties["capabilities"] = capabilities
    instance_info = {"image_source": "http://192.168.24.1:8088/images/overcloud.qcow2"}
    if address is not None:
        instance_info["ctlplane_address"] = address
    return {"uuid": f"uuid-of-{name}", "name": name,
            "provision_state": state, "properties": properties,
            "instance_info": instance_info}


def test_active_nodes_join_their_profile_group_at_their_ctlplane_address(plugin):
    nodes = [_node("oc-ctl-0", "control", "192.168.24.10"),
             _node("oc-net-0", "network", "192.168.24.11"),
             _node("oc-cmp-0", "compute", "192.168.24.12")]

    hosts, warnings = plugin.inventory_hosts(nodes)

    assert [(h["name"], h["group"], h["address"]) for h in hosts] == [
        ("oc-ctl-0", "control", "192.168.24.10"), ("oc-net-0", "network", "192.168.24.11"),
        ("oc-cmp-0", "compute", "192.168.24.12")]
    assert hosts[0]["uuid"] == nodes[0]["uuid"]
    assert warnings == []


def test_a_node_without_a_name_is_named_by_its_uuid(plugin):
    node = _node("x", "compute", "192.168.24.12")
    node["name"] = None

    hosts, _ = plugin.inventory_hosts([node])

    assert hosts[0]["name"] == node["uuid"]


def test_nodes_without_a_profile_or_an_address_are_left_out_with_a_warning(plugin):
    nodes = [_node("no-profile", None, "192.168.24.13"), _node("no-address", "compute"),
             _node("cmp", "compute", "192.168.24.14")]

    hosts, warnings = plugin.inventory_hosts(nodes)

    assert [h["name"] for h in hosts] == ["cmp"]
    assert warnings == [
        "bare-metal node no-profile has no profile capability (properties/capabilities "
        "'profile:ROLE'): left out",
        "bare-metal node no-address has no instance_info ctlplane_address: left out"]


def test_nodes_that_are_not_active_are_not_hosts(plugin):
    hosts, warnings = plugin.inventory_hosts([_node("cleaning", "compute", "192.168.24.15",
                                                    state="clean wait")])

    assert hosts == [] and warnings == []


def test_capabilities_are_read_from_ironic_text_or_a_mapping(plugin):
    assert plugin.capabilities({"capabilities": " profile : network , boot_option:local"}) == {
        "profile": "network", "boot_option": "local"}
    assert plugin.capabilities({"capabilities": {"profile": "control"}}) == {
        "profile": "control"}
    assert plugin.capabilities({}) == {} and plugin.capabilities(None) == {}
