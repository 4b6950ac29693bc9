"""The ramdisk's heartbeats through the conductor: the next command per state, what a result
does, and repeated heartbeats that never run a finished step again."""
from undercloud.baremetal import states
from undercloud.baremetal.models import Node
from tests.unit.baremetal.conductor.fakes import IMAGE, make_node, reload

DEPLOY_NOTES = {"deploy_image": {**IMAGE, "target_disk": "/dev/vda"}}


def _beat(conductor, node, result=None):
    return conductor.heartbeat(node.id, {"agent_version": "stackbox-1",
                                         "command_result": result})


def test_deploy_wait_gets_write_image_with_the_published_image(conductor):
    node = make_node(states.DEPLOY_WAIT, states.ACTIVE, driver_internal_info=DEPLOY_NOTES)
    command = _beat(conductor, node)
    assert command == {"name": "write_image", "params": {
        "url": IMAGE["url"], "checksum": IMAGE["checksum"], "checksum_algo": "sha256",
        "disk_format": "raw", "target_disk": "/dev/vda"}}
    node = reload(node)
    assert node.driver_internal_info["agent_step"]["status"] == "issued"
    assert node.driver_internal_info["agent_version"] == "stackbox-1"
    assert "agent_last_heartbeat" in node.driver_internal_info and node.reservation is None


def test_written_image_boots_the_node_from_disk_and_activates_it(conductor, bmc,
                                                                 provisioning):
    node = make_node(states.DEPLOY_WAIT, states.ACTIVE, driver_internal_info=DEPLOY_NOTES)
    _beat(conductor, node)
    assert _beat(conductor, node, {"name": "write_image", "status": "SUCCEEDED"}) is None
    node = reload(node)
    assert (node.provision_state, node.target_provision_state) == ("active", None)
    assert (bmc.device, bmc.persistent) == ("disk", True)
    assert provisioning.boots[node.id] == "disk"
    assert ("unpublish_image", node.id) in provisioning.calls
    assert node.power_state == "power on" and node.reservation is None


def test_repeated_heartbeats_never_run_a_finished_step_again(conductor):
    node = make_node(states.CLEAN_WAIT, states.AVAILABLE)
    assert _beat(conductor, node) == {"name": "erase_devices", "params": {}}
    assert _beat(conductor, node, {"name": "erase_devices", "status": "SUCCEEDED"}) is None
    assert reload(node).provision_state == "available"
    assert _beat(conductor, node, {"name": "erase_devices", "status": "SUCCEEDED"}) is None
    assert _beat(conductor, node) is None


def test_a_ramdisk_that_restarted_gets_its_unfinished_step_again(conductor):
    node = make_node(states.CLEAN_WAIT, states.AVAILABLE)
    first = _beat(conductor, node)
    assert _beat(conductor, node) == first


def test_failed_erase_fails_cleaning_powered_off(conductor, bmc, provisioning):
    node = make_node(states.CLEAN_WAIT, states.AVAILABLE, power_state="power on")
    bmc.power = "power on"
    _beat(conductor, node)
    _beat(conductor, node, {"name": "erase_devices", "status": "FAILED",
                            "error": "no disk found"})
    node = reload(node)
    assert node.provision_state == "clean failed"
    assert node.last_error == f"Clean step erase_devices failed on node {node.id}: no disk found"
    assert node.power_state == "power off" and node.id not in provisioning.boots


def test_heartbeat_of_a_node_held_elsewhere_waits_for_the_next_one(conductor):
    node = make_node(states.CLEAN_WAIT, states.AVAILABLE, reservation="other-host")
    assert _beat(conductor, node) is None
    assert reload(node).reservation == "other-host"


def test_heartbeat_outside_a_wait_state_gets_no_command(conductor):
    node = make_node(states.ACTIVE)
    assert _beat(conductor, node) is None


def test_a_result_reported_while_the_node_is_held_is_not_lost(conductor):
    node = make_node(states.CLEAN_WAIT, states.AVAILABLE)
    _beat(conductor, node)
    set_reservation(node, "other-host")
    assert _beat(conductor, node, {"name": "erase_devices", "status": "SUCCEEDED"}) is None
    assert reload(node).provision_state == "clean wait"
    set_reservation(node, None)
    assert _beat(conductor, node) is None
    assert reload(node).provision_state == "available"


def test_the_conductor_acts_on_a_result_no_heartbeat_could(conductor):
    node = make_node(states.DEPLOY_WAIT, states.ACTIVE, driver_internal_info=DEPLOY_NOTES)
    _beat(conductor, node)
    set_reservation(node, "other-host")
    _beat(conductor, node, {"name": "write_image", "status": "FAILED", "error": "bad sum"})
    set_reservation(node, None)
    conductor.reconcile()
    node = reload(node)
    assert node.provision_state == "deploy failed"
    assert node.last_error == f"Deploy step write_image failed on node {node.id}: bad sum"


def set_reservation(node, host):
    Node.update(reservation=host).where(Node.id == node.id).execute()
