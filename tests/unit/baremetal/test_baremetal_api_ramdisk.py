"""The ramdisk's endpoints, called as busybox wget does: no Keystone token, no microversion."""
import pytest

from tests.unit.baremetal.conftest import fault, set_node
from undercloud.baremetal.models import Node

MAC = "52:54:00:12:34:56"
INVENTORY = {"cpu": {"count": 2, "architecture": "x86_64"},
             "memory": {"total": 2147483648, "physical_mb": 2048},
             "disks": [{"name": "/dev/vda", "size": 10737418240}],
             "interfaces": [{"name": "eth0", "mac_address": MAC.upper()}],
             "bmc_address": None}


@pytest.fixture
def waiting(admin):
    node = admin.node(name="pxe1")
    admin.port(node, MAC)
    set_node(node["uuid"], provision_state="wait call-back", target_provision_state="active")
    return node


def test_lookup_mints_a_token_once_per_boot(ramdisk, waiting, cfg):
    response = ramdisk.get(f"/v1/lookup?addresses={MAC.upper()},zz")
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["node"]["uuid"] == waiting["uuid"]
    token = answer["config"]["agent_token"]
    assert len(token) > 30 and answer["config"]["heartbeat_timeout"] > 0
    stored = Node.get_by_id(waiting["uuid"]).driver_internal_info["agent_token_hash"]
    assert token not in stored
    assert answer["node"]["driver_internal_info"]["agent_token_hash"] == "******"
    again = ramdisk.get(f"/v1/lookup?addresses={MAC}").get_json()
    assert again["config"]["agent_token"] == "******"


def test_lookup_finds_only_nodes_waiting_for_a_ramdisk(ramdisk, admin, waiting):
    set_node(waiting["uuid"], provision_state="available")
    assert ramdisk.get(f"/v1/lookup?addresses={MAC}").status_code == 404
    assert ramdisk.get("/v1/lookup?addresses=52:54:00:99:99:99").status_code == 404
    response = ramdisk.get("/v1/lookup")
    assert response.status_code == 400 and "addresses" in fault(response)


def test_heartbeat_needs_the_token_and_returns_the_next_command(ramdisk, waiting, conductor):
    token = ramdisk.get(f"/v1/lookup?addresses={MAC}").get_json()["config"]["agent_token"]
    path = f"/v1/heartbeat/{waiting['uuid']}"
    assert ramdisk.post(path, json={"agent_token": "guess"}).status_code == 401
    assert ramdisk.post(path, json={}).status_code == 400
    command = {"name": "write_image", "params": {"url": "http://x/i", "checksum": "c",
                                                 "checksum_algo": "sha256",
                                                 "disk_format": "raw", "target_disk": None}}
    conductor.answers["heartbeat"] = command
    response = ramdisk.post(path, json={"agent_token": token, "agent_version": "stackbox",
                                        "callback_url": "", "command_result": None})
    assert response.status_code == 202 and response.get_json() == {"command": command}
    method, arguments = conductor.sent[-1]
    assert method == "heartbeat" and arguments["node_id"] == waiting["uuid"]
    assert "agent_token" not in arguments["payload"]
    result = {"name": "write_image", "status": "FAILED", "error": "checksum mismatch"}
    conductor.answers["heartbeat"] = None
    response = ramdisk.post(path, json={"agent_token": token, "command_result": result})
    assert response.get_json() == {"command": None}
    assert conductor.sent[-1][1]["payload"]["command_result"] == result


def test_continue_inspection_finds_the_node_by_mac_or_bmc(ramdisk, admin, conductor):
    node = admin.node(name="insp")
    admin.port(node, MAC)
    response = ramdisk.post("/v1/continue_inspection", json={"inventory": INVENTORY})
    assert response.status_code == 409 and "inspect" in fault(response)
    set_node(node["uuid"], provision_state="inspect wait", target_provision_state="manageable")
    response = ramdisk.post("/v1/continue_inspection", json={"inventory": INVENTORY})
    assert response.status_code == 202 and response.get_json() == {"uuid": node["uuid"]}
    assert conductor.sent[-1] == ("continue_inspection", {"node_id": node["uuid"],
                                                           "inventory": INVENTORY})
    portless = admin.node(name="portless", driver_info={"ipmi_address": "10.1.2.3"})
    set_node(portless["uuid"], provision_state="inspecting")
    by_bmc = {**INVENTORY, "interfaces": [{"mac_address": "52:54:00:00:00:77"}],
              "bmc_address": "10.1.2.3"}
    response = ramdisk.post("/v1/continue_inspection", json={"inventory": by_bmc})
    assert response.get_json() == {"uuid": portless["uuid"]}
    stranger = {**INVENTORY, "interfaces": [{"mac_address": "52:54:00:00:00:88"}]}
    assert ramdisk.post("/v1/continue_inspection", json={"inventory": stranger}
                        ).status_code == 404
    assert ramdisk.post("/v1/continue_inspection", json={"inventory": {}}).status_code == 400
