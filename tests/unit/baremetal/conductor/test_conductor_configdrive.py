"""A deploy with a config drive, through the conductor on the fake provisioning network: Ironic
keeps it in instance_info (a rebuild without one reuses it), it is published beside the image,
the ramdisk's write_image carries where to fetch it, a bad one fails the deploy saying why,
and every way out stops serving it."""
from undercloud.baremetal import states
from tests.unit.baremetal.conductor.fakes import CONFIGDRIVE, IMAGE, make_node, reload

CONTEXT = {"token": "user-token", "user_id": "u", "project_id": "p", "roles": ["admin"]}
DRIVE = {"meta_data": {"hostname": "web-1", "public_keys": {"0": "ssh-ed25519 AAAA me"}}}


def _deploy(conductor, node, verb=states.DEPLOY, params=None):
    conductor.do_provisioning_action(CONTEXT, node.id, verb, params or {})
    return reload(node)


def test_a_deploy_keeps_publishes_and_hands_the_config_drive_to_the_ramdisk(conductor,
                                                                           provisioning):
    node = make_node(states.DEPLOYING, states.ACTIVE, name="node-0",
                     instance_info={"image_source": "img"})

    node = _deploy(conductor, node, params={"configdrive": DRIVE})

    assert node.provision_state == "wait call-back"
    assert node.instance_info == {"image_source": "img", "configdrive": DRIVE}
    assert ("prepare_configdrive", node.id, "node-0") in provisioning.calls
    assert node.driver_internal_info["deploy_configdrive"] == CONFIGDRIVE
    command = conductor.heartbeat(node.id, {"command_result": None})
    assert command == {"name": "write_image", "params": {
        "url": IMAGE["url"], "checksum": IMAGE["checksum"], "checksum_algo": "sha256",
        "disk_format": "raw", "target_disk": None, "configdrive_url": CONFIGDRIVE["url"],
        "configdrive_size": CONFIGDRIVE["size"]}}


def test_a_rebuild_without_a_config_drive_reuses_the_stored_one(conductor, provisioning):
    node = make_node(states.DEPLOYING, states.ACTIVE,
                     instance_info={"image_source": "img", "configdrive": DRIVE})

    node = _deploy(conductor, node, states.REBUILD)

    assert node.instance_info["configdrive"] == DRIVE
    assert node.driver_internal_info["deploy_configdrive"] == CONFIGDRIVE
    assert "prepare_configdrive" in provisioning.names()


def test_a_new_config_drive_replaces_the_stored_one(conductor):
    node = make_node(states.DEPLOYING, states.ACTIVE,
                     instance_info={"image_source": "img", "configdrive": "b2xk"})

    node = _deploy(conductor, node, states.REBUILD, {"configdrive": DRIVE})

    assert node.instance_info["configdrive"] == DRIVE


def test_without_a_config_drive_none_is_published_nor_sent(conductor, provisioning):
    node = make_node(states.DEPLOYING, states.ACTIVE, instance_info={"image_source": "img"},
                     driver_internal_info={"deploy_configdrive": CONFIGDRIVE})

    node = _deploy(conductor, node)

    assert node.driver_internal_info["deploy_configdrive"] is None
    assert ("unpublish_configdrive", node.id) in provisioning.calls
    assert "prepare_configdrive" not in provisioning.names()
    params = conductor.heartbeat(node.id, {"command_result": None})["params"]
    assert "configdrive_url" not in params and "configdrive_size" not in params


def test_a_bad_config_drive_fails_the_deploy_before_the_image_and_the_boot(conductor, bmc,
                                                                          provisioning):
    node = make_node(states.DEPLOYING, states.ACTIVE, instance_info={"image_source": "img"})

    node = _deploy(conductor, node, params={"configdrive": "not base64!"})

    assert node.provision_state == "deploy failed"
    assert node.last_error == (f"Failed to prepare the config drive of node {node.id}: it is "
                               "neither a JSON object, nor a URL, nor a base64 string")
    assert "prepare_image" not in provisioning.names() and node.id not in provisioning.boots
    assert bmc.calls == []


def test_a_config_drive_that_cannot_be_written_fails_the_deploy(conductor, provisioning):
    provisioning.failures["prepare_configdrive"] = "no space left on device"
    node = make_node(states.DEPLOYING, states.ACTIVE, instance_info={"image_source": "img"})

    node = _deploy(conductor, node, params={"configdrive": DRIVE})

    assert node.last_error == (f"Failed to prepare the config drive of node {node.id}: no "
                               "space left on device")


def test_an_image_that_cannot_be_prepared_unpublishes_the_config_drive(conductor, provisioning):
    provisioning.failures["prepare_image"] = "image img could not be found"
    node = make_node(states.DEPLOYING, states.ACTIVE, instance_info={"image_source": "img"})

    node = _deploy(conductor, node, params={"configdrive": DRIVE})

    assert node.provision_state == "deploy failed"
    assert provisioning.names()[-2:] == ["unpublish_image", "unpublish_configdrive"]


def test_the_deploy_finishing_stops_serving_it(conductor, provisioning):
    node = make_node(states.DEPLOY_WAIT, states.ACTIVE, driver_internal_info={
        "deploy_image": IMAGE, "deploy_configdrive": CONFIGDRIVE})
    conductor.heartbeat(node.id, {"command_result": None})

    conductor.heartbeat(node.id, {"command_result": {"name": "write_image",
                                                     "status": "SUCCEEDED"}})

    assert reload(node).provision_state == "active"
    assert ("unpublish_configdrive", node.id) in provisioning.calls


def test_undeploy_forgets_the_config_drive(conductor, bmc, provisioning):
    node = make_node(states.DELETING, states.AVAILABLE, automated_clean=False,
                     instance_info={"image_source": "img", "configdrive": DRIVE},
                     driver_internal_info={"deploy_image": IMAGE,
                                           "deploy_configdrive": CONFIGDRIVE})

    node = _deploy(conductor, node, states.UNDEPLOY)

    assert node.provision_state == "available" and node.instance_info == {}
    assert "deploy_configdrive" not in node.driver_internal_info
    assert ("unpublish_configdrive", node.id) in provisioning.calls
