"""A config drive through the API, as `openstack baremetal node deploy --config-drive` sends it:
the forms and microversions Ironic takes go to the conductor as sent, others are 400 without
quoting them, and no answer (node, lookup) ever shows the drive or where it is published."""
import base64
import gzip
import json

import pytest

from tests.unit.baremetal.conftest import fault, set_node

IMAGE = "11111111-2222-3333-4444-555555555555"
SECRET = "s3cret-user-data"
DRIVE = {"meta_data": {"hostname": "web-1"}, "user_data": f"#!/bin/sh\necho {SECRET}\n"}
PACKED = base64.b64encode(gzip.compress(b"an ISO", mtime=0)).decode()  # same id on each worker
MAC = "52:54:00:12:34:56"


@pytest.fixture
def deployable(admin):
    node = admin.node(name="bm-1")
    set_node(node["uuid"], provision_state="available", instance_info={"image_source": IMAGE})
    return node


@pytest.mark.parametrize("configdrive", [
    DRIVE, {"vendor_data": {"a": 1}, "user_data": ["x"]}, PACKED, "https://192.0.2.9/drive"])
def test_each_form_reaches_the_conductor_as_sent(admin, conductor, deployable, configdrive):
    response = admin.provision(deployable, "active", configdrive=configdrive)

    assert response.status_code == 202, response.get_json()
    assert conductor.sent[-1][1]["params"] == {"configdrive": configdrive}


def test_an_empty_config_drive_is_none(admin, conductor, deployable):
    assert admin.provision(deployable, "active", configdrive="").status_code == 202
    assert conductor.sent[-1][1]["params"] == {}


@pytest.mark.parametrize("version, target, configdrive, message", [
    ("1.94", "active", {"meta_data": {}, "files": []},
     "Invalid configdrive format: unknown key 'files': a config drive object takes meta_data, "
     "network_data, user_data, vendor_data"),
    ("1.94", "active", {"meta_data": SECRET}, "Invalid configdrive format: meta_data must be a "
                                              "JSON object"),
    ("1.94", "active", f"{SECRET}!", "Invalid configdrive format: it is neither a JSON object, "
                                     "nor a URL, nor a base64 string"),
    ("1.94", "active", 42, "Invalid input for field/attribute configdrive: expected object or "
                           "string or null."),
    ("1.94", "active", f"ftp://192.0.2.9/{SECRET}",
     "Invalid configdrive format: a config drive URL must be http or https, not 'ftp'"),
    ("1.55", "active", DRIVE, "Providing a JSON object for configdrive is only supported "
                              "starting with API version 1.56"),
    ("1.58", "active", {"vendor_data": {}}, "Providing vendor_data in configdrive is only "
                                            "supported starting with API version 1.59"),
    ("1.34", "rebuild", PACKED, "Adding a config drive is only supported when setting "
                                "provision state to active"),
    ("1.94", "manage", PACKED, "Adding a config drive is only supported when setting "
                               "provision state to active, rebuild"),
])
def test_what_ironic_refuses_is_400_without_the_drive(admin, conductor, deployable, version,
                                                      target, configdrive, message):
    if target == "rebuild":
        set_node(deployable["uuid"], provision_state="active")
    response = admin.at(version).provision(deployable, target, configdrive=configdrive)

    assert response.status_code == 400 and fault(response) == message
    assert SECRET not in response.get_data(as_text=True) and conductor.sent == []


def test_the_drive_and_where_it_is_published_are_never_shown(admin, as_user, deployable):
    set_node(deployable["uuid"], provision_state="wait call-back",
             target_provision_state="active",
             instance_info={"image_source": IMAGE, "configdrive": DRIVE},
             driver_internal_info={"deploy_configdrive": {
                 "url": "http://192.0.2.1:8088/configdrives/Zx8pQ2mV7rT4nL1kW9cB5dF3/n.iso",
                 "size": 4096}})
    admin.port(deployable, MAC)

    shown = admin.get(f"/v1/nodes/{deployable['uuid']}").get_json()
    listed = admin.get("/v1/nodes/detail").get_json()["nodes"][0]
    looked_up = as_user(None, None).get(f"/v1/lookup?addresses={MAC}").get_json()["node"]

    for node in (shown, listed, looked_up):
        assert node["instance_info"] == {"image_source": IMAGE, "configdrive": "******"}
        assert node["driver_internal_info"]["deploy_configdrive"] == "******"
    text = json.dumps([shown, listed, looked_up])
    assert SECRET not in text and "Zx8pQ2mV7rT4nL1kW9cB5dF3" not in text
