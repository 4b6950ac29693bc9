"""Provision and power states through the API: what is recorded at once, what is cast to the
conductor, and Ironic's answers for verbs a node cannot take."""
import pytest

from tests.unit.baremetal.conftest import fault, set_node
from undercloud.baremetal import rpcapi
from undercloud.baremetal.models import Node
from undercloud.bus import NoPeer

IMAGE = "11111111-2222-3333-4444-555555555555"


def _state(node) -> tuple:
    row = Node.get_by_id(node["uuid"])
    return row.provision_state, row.target_provision_state


@pytest.mark.parametrize("start, verb, now, target", [
    ("enroll", "manage", "verifying", "manageable"),
    ("manageable", "inspect", "inspecting", "manageable"),
    ("manageable", "provide", "cleaning", "available"),
    ("available", "manage", "manageable", None),
    ("inspect wait", "abort", "inspect failed", None),
    ("inspect failed", "manage", "manageable", None),
    ("clean failed", "manage", "manageable", None),
    ("wait call-back", "abort", "deploy failed", None),
    ("deploy failed", "deleted", "deleting", "available"),
    ("active", "deleted", "deleting", "available"),
    ("active", "undeploy", "deleting", "available"),
    ("error", "deleted", "deleting", "available"),
])
def test_each_verb_records_its_first_state_and_casts(admin, conductor, start, verb, now, target):
    node = admin.node()
    set_node(node["uuid"], provision_state=start, last_error="old failure")
    response = admin.provision(node, verb)
    assert response.status_code == 202, response.get_json()
    assert response.headers["Location"].endswith(f"/v1/nodes/{node['uuid']}/states")
    assert _state(node) == (now, target)
    row = Node.get_by_id(node["uuid"])
    assert row.last_error is None and row.provision_updated_at is not None
    method, kwargs = conductor.sent[-1]
    assert method == "do_provisioning_action"
    assert kwargs["node_id"] == node["uuid"] and kwargs["params"] == {}
    assert kwargs["verb"] == {"undeploy": "deleted"}.get(verb, verb)
    assert kwargs["context"]["token"] == admin.token


@pytest.mark.parametrize("start, verb", [("available", "active"), ("active", "rebuild"),
                                         ("deploy failed", "active"), ("error", "rebuild")])
def test_deploy_and_rebuild_need_an_image(admin, conductor, start, verb):
    node = admin.node()
    set_node(node["uuid"], provision_state=start)
    response = admin.provision(node, verb)
    assert response.status_code == 400 and "image_source" in fault(response)
    assert conductor.sent == []
    admin.patch(f"/v1/nodes/{node['uuid']}", json=[
        {"op": "add", "path": "/instance_info/image_source", "value": IMAGE}])
    assert admin.provision(node, verb, configdrive={"meta_data": {}}).status_code == 202
    assert _state(node) == ("deploying", "active")
    assert conductor.sent[-1][1]["params"] == {"configdrive": {"meta_data": {}}}


def test_a_verb_the_state_does_not_allow_is_400_naming_state_and_choices(admin, conductor):
    node = admin.node()
    response = admin.provision(node, "provide")
    assert response.status_code == 400
    assert fault(response) == (f"The requested action \"provide\" can not be performed on node "
                               f"\"{node['uuid']}\" while it is in state \"enroll\". "
                               "Allowed here: manage.")
    assert _state(node) == ("enroll", None) and conductor.sent == []


def test_unknown_verb_and_wrong_parameters_are_400(admin):
    node = admin.node()
    set_node(node["uuid"], provision_state="manageable")
    assert "could not be understood" in fault(admin.provision(node, "explode"))
    assert admin.put(f"/v1/nodes/{node['uuid']}/states/provision", json={}).status_code == 400
    assert admin.provision(node, "clean").status_code == 400
    assert admin.provision(node, "provide", configdrive="abc").status_code == 400
    assert admin.provision(node, "provide", clean_steps=[{"interface": "deploy",
                                                         "step": "erase"}]).status_code == 400
    response = admin.provision(node, "clean", clean_steps=[{"interface": "deploy",
                                                           "step": "erase_devices"}])
    assert response.status_code == 202 and _state(node) == ("cleaning", "manageable")


def test_old_microversions_lack_newer_verbs(admin):
    node = admin.node()
    assert admin.at("1.3").provision(node, "manage").status_code == 406
    set_node(node["uuid"], provision_state="active")
    assert admin.at("1.72").provision(node, "undeploy").status_code == 406


def test_a_locked_node_is_409_node_locked(admin, conductor):
    node = admin.node()
    set_node(node["uuid"], reservation="host-a")
    response = admin.provision(node, "manage")
    assert response.status_code == 409
    assert fault(response) == (f"Node {node['uuid']} is locked by host host-a, please retry "
                               "after the current operation is completed.")
    set_node(node["uuid"], provision_state="deploying")
    assert admin.provision(node, "manage").status_code == 409
    assert conductor.sent == []


def test_maintenance_refuses_deploy_but_not_manage(admin):
    node = admin.node()
    path = f"/v1/nodes/{node['uuid']}"
    assert admin.put(f"{path}/maintenance", json={"reason": "disk swap"}).status_code == 202
    shown = admin.get(path).get_json()
    assert shown["maintenance"] is True and shown["maintenance_reason"] == "disk swap"
    set_node(node["uuid"], provision_state="available",
             instance_info={"image_source": IMAGE})
    response = admin.provision(node, "active")
    assert response.status_code == 400 and "maintenance mode" in fault(response)
    assert admin.provision(node, "manage").status_code == 202
    assert admin.delete(f"{path}/maintenance").status_code == 202
    shown = admin.get(path).get_json()
    assert shown["maintenance"] is False and shown["maintenance_reason"] is None


def test_patch_is_refused_while_a_transition_runs(admin):
    node = admin.node()
    set_node(node["uuid"], provision_state="deploying", target_provision_state="active")
    response = admin.patch(f"/v1/nodes/{node['uuid']}", json=[
        {"op": "add", "path": "/extra/a", "value": 1}])
    assert response.status_code == 409 and "state transition" in fault(response)


def test_states_document(admin):
    node = admin.node()
    set_node(node["uuid"], power_state="power off", last_error="BMC did not answer")
    states = admin.get(f"/v1/nodes/{node['uuid']}/states").get_json()
    assert states["power_state"] == "power off" and states["provision_state"] == "enroll"
    assert states["last_error"] == "BMC did not answer" and states["boot_mode"] is None


@pytest.mark.parametrize("target, recorded", [("power on", "power on"),
                                              ("power off", "power off"),
                                              ("rebooting", "power on"),
                                              ("soft power off", "power off")])
def test_power_records_the_target_and_casts(admin, conductor, target, recorded):
    node = admin.node()
    response = admin.put(f"/v1/nodes/{node['uuid']}/states/power",
                         json={"target": target, "timeout": 30})
    assert response.status_code == 202
    assert Node.get_by_id(node["uuid"]).target_power_state == recorded
    assert conductor.sent[-1][0] == "change_power_state"
    assert conductor.sent[-1][1]["target"] == target and conductor.sent[-1][1]["timeout"] == 30


def test_power_errors(admin, conductor):
    node = admin.node()
    path = f"/v1/nodes/{node['uuid']}/states/power"
    assert admin.put(path, json={"target": "explode"}).status_code == 400
    assert admin.put(path, json={"target": "power on", "timeout": 0}).status_code == 400
    assert admin.at("1.26").put(path, json={"target": "soft power off"}).status_code == 406
    set_node(node["uuid"], provision_state="clean wait")
    assert admin.put(path, json={"target": "power on"}).status_code == 400
    bare = admin.node(driver_info={})
    response = admin.put(f"/v1/nodes/{bare['uuid']}/states/power", json={"target": "power on"})
    assert response.status_code == 400 and "ipmi_address" in fault(response)
    set_node(node["uuid"], provision_state="enroll", reservation="host-a")
    assert admin.put(path, json={"target": "power on"}).status_code == 409
    assert conductor.sent == []


def test_boot_device_goes_through_the_conductor(admin, conductor):
    node = admin.node()
    path = f"/v1/nodes/{node['uuid']}/management/boot_device"
    conductor.answers["get_boot_device"] = {"boot_device": "pxe", "persistent": False}
    assert admin.get(path).get_json() == {"boot_device": "pxe", "persistent": False}
    assert admin.put(path, json={"boot_device": "disk", "persistent": True}).status_code == 204
    assert conductor.sent[-1][0] == "set_boot_device"
    assert conductor.sent[-1][1] == {"node_id": node["uuid"], "device": "disk",
                                     "persistent": True}
    assert admin.put(path, json={"boot_device": "floppy"}).status_code == 400
    assert admin.get(f"{path}/supported").get_json() == {
        "supported_boot_devices": ["pxe", "disk", "cdrom", "bios", "safe"]}


def test_conductor_errors_become_ironic_answers(admin, conductor):
    node = admin.node()
    path = f"/v1/nodes/{node['uuid']}/management/boot_device"
    conductor.answers["set_boot_device"] = rpcapi.InvalidParameterValue("BMC has no cdrom")
    response = admin.put(path, json={"boot_device": "cdrom"})
    assert response.status_code == 400 and fault(response) == "BMC has no cdrom"
    conductor.answers["set_boot_device"] = rpcapi.NodeLocked("busy")
    assert admin.put(path, json={"boot_device": "pxe"}).status_code == 409
    conductor.answers["validate"] = NoPeer("baremetal-conductor")
    response = admin.get(f"/v1/nodes/{node['uuid']}/validate")
    assert response.status_code == 503 and "baremetal-conductor" in fault(response)


def test_validate_answers_the_conductors_result(admin, conductor):
    node = admin.node()
    result = {"power": {"result": True, "reason": None},
              "deploy": {"result": False, "reason": "no image_source"}}
    conductor.answers["validate"] = result
    assert admin.get(f"/v1/nodes/{node['uuid']}/validate").get_json() == result


def test_inventory(admin):
    node = admin.node()
    path = f"/v1/nodes/{node['uuid']}/inventory"
    response = admin.get(path)
    assert response.status_code == 404 and "inventory" in fault(response)
    from undercloud.baremetal.models import NodeInventory
    NodeInventory.create(node=node["uuid"], inventory={"cpu": {"count": 2}})
    assert admin.get(path).get_json() == {"inventory": {"cpu": {"count": 2}}, "plugin_data": {}}
    assert admin.at("1.80").get(path).status_code == 404


def test_secrets_in_bad_bodies_are_not_echoed(admin, ramdisk):
    node = admin.node()
    set_node(node["uuid"], provision_state="active")
    response = admin.provision(node, "rescue", rescue_password=918273645)
    assert response.status_code == 400 and "918273645" not in response.get_data(as_text=True)
    response = ramdisk.post(f"/v1/heartbeat/{node['uuid']}", json={"agent_token": 5647382910})
    assert response.status_code == 400 and "5647382910" not in response.get_data(as_text=True)
    response = admin.patch(f"/v1/nodes/{node['uuid']}", json=[
        {"op": "replace", "path": "/driver_info/ipmi_password/x", "value": "hunter2"}])
    assert response.status_code == 400 and "hunter2" not in response.get_data(as_text=True)
