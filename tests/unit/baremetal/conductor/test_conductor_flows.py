"""The conductor's flows, one story each, on a temp DB with a fake provisioning network and
a fake BMC: what the user would see on the node afterwards."""
import datetime

from undercloud.baremetal import states
from undercloud.baremetal.models import NodeInventory, Port
from tests.unit.baremetal.conductor.fakes import IMAGE, INVENTORY, make_node, reload

CONTEXT = {"token": "user-token", "user_id": "u", "project_id": "p", "roles": ["admin"]}


def test_manage_reads_the_power_state_and_reaches_manageable(conductor, bmc):
    bmc.power = "power on"
    node = make_node(states.VERIFYING, states.MANAGEABLE)
    conductor.do_provisioning_action(CONTEXT, node.id, states.MANAGE, {})
    node = reload(node)
    assert (node.provision_state, node.target_provision_state) == ("manageable", None)
    assert node.power_state == "power on"
    assert node.reservation is None and node.last_error is None


def test_manage_with_rejected_credentials_goes_back_to_enroll(conductor, bmc):
    bmc.failure = ("the BMC at 127.0.0.1:6230 rejected the credentials of user 'admin' "
                   "(Incorrect password provided)", "auth")
    node = make_node(states.VERIFYING, states.MANAGEABLE)
    conductor.do_provisioning_action(CONTEXT, node.id, states.MANAGE, {})
    node = reload(node)
    assert node.provision_state == "enroll"
    assert node.last_error == (f"Failed to validate power driver interface for node "
                               f"{node.id}: {bmc.failure[0]}")
    assert node.reservation is None


def test_manage_without_a_bmc_address_names_what_is_missing(make_conductor):
    conductor = make_conductor()
    node = make_node(states.VERIFYING, states.MANAGEABLE, driver_info={})
    conductor.do_provisioning_action(CONTEXT, node.id, states.MANAGE, {})
    node = reload(node)
    assert node.provision_state == "enroll"
    assert "Missing the following IPMI credentials in node's driver_info: ipmi_address" \
        in node.last_error


def test_inspect_boots_the_ramdisk_and_waits(conductor, bmc, provisioning):
    node = make_node(states.INSPECTING, states.MANAGEABLE, power_state="power off",
                     driver_internal_info={"agent_token_hash": "old"})
    conductor.do_provisioning_action(CONTEXT, node.id, states.INSPECT, {})
    node = reload(node)
    assert node.provision_state == "inspect wait"
    assert node.target_provision_state == "manageable"
    assert provisioning.boots[node.id] == "inspect"
    assert (bmc.device, bmc.persistent, bmc.power) == ("pxe", True, "power on")
    assert node.power_state == "power on"
    assert "agent_token_hash" not in node.driver_internal_info
    assert node.inspection_started_at is not None and node.reservation is None


def test_inventory_sets_properties_and_ports_then_manageable(conductor, bmc, provisioning):
    node = make_node(states.INSPECT_WAIT, states.MANAGEABLE, power_state="power on",
                     properties={"capabilities": "profile:compute"})
    bmc.power = "power on"
    conductor.continue_inspection(node.id, INVENTORY)
    node = reload(node)
    assert node.provision_state == "manageable"
    assert node.properties == {"capabilities": "profile:compute", "cpus": 2,
                               "memory_mb": 2048, "cpu_arch": "x86_64", "local_gb": 9}
    assert NodeInventory.get(NodeInventory.node == node.id).inventory == INVENTORY
    ports = {port.address: port.pxe_enabled for port in Port.select()}
    assert ports == {"52:54:00:00:00:01": True, "52:54:00:00:00:02": False}
    assert node.power_state == "power off" and node.id not in provisioning.boots
    assert node.inspection_finished_at is not None and node.reservation is None


def test_inspection_timeout_fails_and_powers_off(conductor, bmc, provisioning):
    node = make_node(states.INSPECT_WAIT, states.MANAGEABLE, power_state="power on")
    bmc.power = "power on"
    node.provision_updated_at -= datetime.timedelta(seconds=61)
    node.save()
    conductor.reconcile()
    node = reload(node)
    assert node.provision_state == "inspect failed"
    assert node.last_error == (f"Timeout reached while inspecting node {node.id}: no "
                               f"inventory came back within 60 s")
    assert node.power_state == "power off" and bmc.power == "power off"


def test_provide_without_automated_clean_goes_straight_to_available(conductor, bmc,
                                                                     provisioning):
    node = make_node(states.CLEANING, states.AVAILABLE, automated_clean=False)
    conductor.do_provisioning_action(CONTEXT, node.id, states.PROVIDE, {})
    assert reload(node).provision_state == "available"
    assert bmc.calls == [] and "prepare_boot" not in provisioning.names()


def test_provide_boots_the_cleaning_ramdisk(conductor, bmc, provisioning):
    node = make_node(states.CLEANING, states.AVAILABLE)
    conductor.do_provisioning_action(CONTEXT, node.id, states.PROVIDE, {})
    node = reload(node)
    assert (node.provision_state, node.target_provision_state) == ("clean wait", "available")
    assert provisioning.boots[node.id] == "clean" and bmc.power == "power on"


def test_manual_clean_without_erase_steps_needs_no_ramdisk(conductor, provisioning):
    node = make_node(states.CLEANING, states.MANAGEABLE)
    conductor.do_provisioning_action(CONTEXT, node.id, states.CLEAN,
                                     {"clean_steps": [{"interface": "bios", "step": "x"}]})
    assert reload(node).provision_state == "manageable"
    assert "prepare_boot" not in provisioning.names()


def test_deploy_publishes_the_image_and_waits_for_the_ramdisk(conductor, bmc, provisioning):
    node = make_node(states.DEPLOYING, states.ACTIVE, instance_info={"image_source": "img"})
    NodeInventory.create(node=node.id, inventory={"disks": [
        {"name": "/dev/sda", "size": 2 * 1024 ** 3}, {"name": "/dev/sdb", "size": 8 * 1024 ** 3}]})
    conductor.do_provisioning_action(CONTEXT, node.id, states.DEPLOY, {})
    node = reload(node)
    assert (node.provision_state, node.target_provision_state) == ("wait call-back", "active")
    assert ("prepare_image", "user-token", "img", node.id) in provisioning.calls
    assert node.driver_internal_info["deploy_image"] == {**IMAGE, "target_disk": "/dev/sdb"}
    assert provisioning.boots[node.id] == "deploy" and bmc.power == "power on"


def test_deploy_without_image_source_fails_with_the_reason(conductor, provisioning):
    node = make_node(states.DEPLOYING, states.ACTIVE)
    conductor.do_provisioning_action(CONTEXT, node.id, states.DEPLOY, {})
    node = reload(node)
    assert node.provision_state == "deploy failed"
    assert "its instance_info has no image_source" in node.last_error
    assert provisioning.calls == []


def test_deploy_with_an_image_that_cannot_be_prepared_fails(conductor, provisioning):
    provisioning.failures["prepare_image"] = "image img could not be found"
    node = make_node(states.DEPLOYING, states.ACTIVE, instance_info={"image_source": "img"})
    conductor.do_provisioning_action(CONTEXT, node.id, states.DEPLOY, {})
    node = reload(node)
    assert node.provision_state == "deploy failed"
    assert node.last_error == (f"Failed to prepare image img for node {node.id}: image img "
                               f"could not be found")


def test_deploy_callback_timeout_fails_powered_off(conductor, bmc, provisioning):
    node = make_node(states.DEPLOY_WAIT, states.ACTIVE, power_state="power on")
    bmc.power = "power on"
    node.provision_updated_at -= datetime.timedelta(seconds=120)
    node.save()
    conductor.reconcile()
    node = reload(node)
    assert node.provision_state == "deploy failed"
    assert node.last_error == f"Timeout reached while waiting for callback for node {node.id}"
    assert node.power_state == "power off" and bmc.power == "power off"
    assert ("unpublish_image", node.id) in provisioning.calls and node.reservation is None


def test_undeploy_clears_the_instance_and_cleans(conductor, bmc, provisioning):
    node = make_node(states.DELETING, states.AVAILABLE, power_state="power on",
                     instance_info={"image_source": "img"}, instance_uuid="i-1",
                     automated_clean=False)
    bmc.power = "power on"
    conductor.do_provisioning_action(CONTEXT, node.id, states.UNDEPLOY, {})
    node = reload(node)
    assert node.provision_state == "available"
    assert node.instance_info == {} and node.instance_uuid is None
    assert node.power_state == "power off"
    assert ("unpublish_image", node.id) in provisioning.calls


def test_abort_in_wait_powers_off_and_says_so(conductor, bmc, provisioning):
    node = make_node(states.DEPLOY_FAILED, None, power_state="power on")
    bmc.power = "power on"
    conductor.do_provisioning_action(CONTEXT, node.id, states.ABORT, {})
    node = reload(node)
    assert node.provision_state == "deploy failed"
    assert node.last_error == f"Deployment of node {node.id} aborted by request"
    assert node.power_state == "power off" and node.reservation is None


def test_power_on_records_the_state_and_clears_the_target(conductor, bmc):
    node = make_node(states.MANAGEABLE, power_state="power off",
                     target_power_state="power on")
    conductor.change_power_state(CONTEXT, node.id, "power on")
    node = reload(node)
    assert (node.power_state, node.target_power_state) == ("power on", None)
    assert node.last_error is None and node.reservation is None


def test_power_failure_leaves_the_state_and_records_why(conductor, bmc):
    bmc.failure = ("the BMC at 127.0.0.1:6230 did not answer", "unreachable")
    node = make_node(states.MANAGEABLE, power_state="power off",
                     target_power_state="power on")
    conductor.change_power_state(CONTEXT, node.id, "power on")
    node = reload(node)
    assert (node.power_state, node.target_power_state) == ("power off", None)
    assert node.last_error == (f"Failed to change power state of node {node.id} to "
                               f"'power on': the BMC at 127.0.0.1:6230 did not answer")


def test_power_sync_follows_the_bmc(conductor, bmc):
    node = make_node(states.MANAGEABLE, power_state="power off")
    bmc.power = "power on"
    conductor.sync_power_states()
    assert reload(node).power_state == "power on"


def test_power_sync_leaves_maintenance_and_held_nodes_alone(conductor, bmc):
    resting = make_node(states.MANAGEABLE, power_state="power off", maintenance=True,
                        macs=())
    held = make_node(states.MANAGEABLE, power_state="power off", reservation="other",
                     macs=())
    bmc.power = "power on"
    conductor.sync_power_states()
    assert reload(resting).power_state == reload(held).power_state == "power off"


def test_validate_reports_each_interface(conductor, bmc):
    node = make_node(states.MANAGEABLE)
    results = conductor.validate(node.id)
    assert results["power"] == results["management"] == {"result": True, "reason": None}
    assert results["console"] == {"result": None, "reason": "not supported"}
    assert results["boot"]["result"] is False and "deploy ramdisk is missing" in \
        results["boot"]["reason"]


def test_boot_device_round_trip(conductor, bmc):
    node = make_node(states.MANAGEABLE)
    conductor.set_boot_device(node.id, "pxe", persistent=True)
    assert conductor.get_boot_device(node.id) == {"boot_device": "pxe", "persistent": True}
    assert reload(node).reservation is None
