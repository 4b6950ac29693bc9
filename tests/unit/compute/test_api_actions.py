"""Server actions: each checks the state, records an InstanceAction, sets task_state and casts."""
import pytest

from tests.unit.compute.conftest import IMAGE, place


@pytest.fixture
def server(alice):
    server = alice.boot()
    place(server["id"])
    return server


@pytest.mark.parametrize("body, method, task_state, status", [
    ({"reboot": {"type": "SOFT"}}, "reboot_instance", "rebooting", "REBOOT"),
    ({"reboot": {"type": "HARD"}}, "reboot_instance", "rebooting_hard", "HARD_REBOOT"),
    ({"os-stop": None}, "stop_instance", "powering-off", "ACTIVE"),
    ({"pause": None}, "pause_instance", "pausing", "ACTIVE"),
    ({"suspend": None}, "suspend_instance", "suspending", "ACTIVE"),
])
def test_action_sets_task_state_and_casts_to_the_host(alice, server, casts, body, method,
                                                      task_state, status):
    response = alice.action(server["id"], body)
    assert response.status_code == 202, response.get_json()
    assert casts[-1][0] == method and casts[-1][1][1:3] == ("host1", server["id"])
    shown = alice.show(server["id"])
    assert shown["OS-EXT-STS:task_state"] == task_state and shown["status"] == status
    actions = alice.get(f"/v2.1/servers/{server['id']}/os-instance-actions").get_json()
    assert actions["instanceActions"][0]["request_id"] == response.headers[
        "x-openstack-request-id"]


def test_action_in_the_wrong_state_is_409(alice, server):
    response = alice.action(server["id"], {"os-start": None})
    assert response.status_code == 409
    assert "vm_state active" in response.get_json()["conflictingRequest"]["message"]
    alice.action(server["id"], {"os-stop": None})
    assert alice.action(server["id"], {"reboot": {"type": "HARD"}}).status_code == 409


def test_bad_reboot_type_and_unknown_action_are_400(alice, server):
    assert alice.action(server["id"], {"reboot": {"type": "GENTLE"}}).status_code == 400
    assert alice.action(server["id"], {"fly": None}).status_code == 400
    assert alice.action("missing", {"reboot": {"type": "HARD"}}).status_code == 404


def test_lock_blocks_the_owner_but_not_admin(alice, admin, server):
    assert alice.action(server["id"], {"lock": {"locked_reason": "audit"}}).status_code == 202
    shown = alice.show(server["id"])
    assert shown["locked"] is True and shown["locked_reason"] == "audit"
    assert alice.action(server["id"], {"os-stop": None}).status_code == 409
    assert alice.delete(f"/v2.1/servers/{server['id']}").status_code == 409
    assert admin.action(server["id"], {"os-stop": None}).status_code == 202
    assert alice.action(server["id"], {"unlock": None}).status_code == 202
    assert alice.show(server["id"])["locked"] is False


def test_owner_cannot_unlock_an_admin_lock(alice, admin, server):
    assert admin.action(server["id"], {"lock": None}).status_code == 202
    assert alice.action(server["id"], {"unlock": None}).status_code == 403


def test_rebuild_answers_the_server_and_casts(alice, server, casts):
    response = alice.action(server["id"], {"rebuild": {"imageRef": IMAGE, "name": "again"}})
    assert response.status_code == 202
    body = response.get_json()["server"]
    assert body["name"] == "again" and body["adminPass"] and body["status"] == "REBUILD"
    assert casts[-1][0] == "rebuild_instance" and casts[-1][1][3] == IMAGE
    bad = alice.action(server["id"], {"rebuild": {"imageRef": "gone"}})
    assert bad.status_code in (400, 409)


def test_rebuild_and_update_show_addresses_without_type_and_mac_before_2_75(alice, server):
    fixed = {"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed",
             "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"}
    place(server["id"], addresses={"private": [fixed]})
    rebuilt = alice.at("2.74").action(server["id"], {"rebuild": {"imageRef": IMAGE}})
    assert rebuilt.get_json()["server"]["addresses"] == {
        "private": [{"addr": "10.0.0.5", "version": 4}]}
    place(server["id"])
    updated = alice.at("2.74").put(f"/v2.1/servers/{server['id']}", json={"server": {}})
    assert updated.get_json()["server"]["addresses"]["private"][0].keys() == {"addr", "version"}
    latest = alice.action(server["id"], {"rebuild": {"imageRef": IMAGE}})
    assert latest.get_json()["server"]["addresses"] == {"private": [fixed]}


def test_resize_confirm_and_revert(alice, server, casts):
    assert alice.action(server["id"], {"resize": {"flavorRef": "1"}}).status_code == 400
    assert alice.action(server["id"], {"resize": {"flavorRef": None}}).status_code == 400
    assert alice.action(server["id"], {"resize": {"flavorRef": "nope"}}).status_code == 400
    assert alice.action(server["id"], {"resize": {"flavorRef": "2"}}).status_code == 202
    assert casts[-1][0] == "resize_instance" and casts[-1][1][2]["memory_mb"] == 2048
    assert alice.show(server["id"])["status"] == "RESIZE"
    place(server["id"], vm_state="resized")
    assert alice.show(server["id"])["status"] == "VERIFY_RESIZE"
    assert alice.action(server["id"], {"confirmResize": None}).status_code == 204
    assert casts[-1][0] == "confirm_resize"
    place(server["id"], vm_state="resized")
    assert alice.action(server["id"], {"revertResize": None}).status_code == 202
    assert alice.show(server["id"])["status"] == "REVERT_RESIZE"


def test_create_image_makes_a_queued_image_and_casts_snapshot(alice, server, casts, images):
    response = alice.at("2.1").action(server["id"], {"createImage": {"name": "snap"}})
    assert response.status_code == 202
    image_id = response.headers["Location"].rsplit("/", 1)[-1]
    assert images[image_id]["instance_uuid"] == server["id"]
    assert casts[-1][0] == "snapshot_instance" and casts[-1][1][3] == image_id
    place(server["id"])
    latest = alice.action(server["id"], {"createImage": {"name": "snap2"}})
    assert images[latest.get_json()["image_id"]]["image_type"] == "snapshot"
    place(server["id"])
    # As in Nova, the caller's metadata wins over the image_type compute sets.
    tagged = alice.action(server["id"], {"createImage": {"name": "snap3",
                                                         "metadata": {"image_type": "test"}}})
    assert images[tagged.get_json()["image_id"]]["image_type"] == "test"


def test_console_output_is_a_call_to_the_host(alice, server, answers):
    response = alice.action(server["id"], {"os-getConsoleOutput": {"length": 10}})
    assert response.status_code == 200 and response.get_json() == {"output": "login:"}


def test_instance_action_show_with_events(alice, admin, server):
    from undercloud.compute.models import InstanceAction, InstanceActionEvent
    response = alice.action(server["id"], {"reboot": {"type": "SOFT"}})
    request_id = response.headers["x-openstack-request-id"]
    action = InstanceAction.get(InstanceAction.request_id == request_id)
    InstanceActionEvent.create(action=action.id, event="compute_reboot_instance",
                               result="Success", host="host1", traceback=None)
    shown = alice.get(f"/v2.1/servers/{server['id']}/os-instance-actions/{request_id}")
    body = shown.get_json()["instanceAction"]
    assert body["action"] == "reboot" and body["events"][0]["result"] == "Success"
    assert "traceback" not in body["events"][0]
    assert "traceback" in admin.get(f"/v2.1/servers/{server['id']}/os-instance-actions/"
                                    f"{request_id}").get_json()["instanceAction"]["events"][0]
    assert alice.get(f"/v2.1/servers/{server['id']}/os-instance-actions/nope") \
        .status_code == 404


def test_create_backup_snapshots_and_rotates(alice, server, casts, images, monkeypatch):
    from undercloud.compute import glance
    deleted = []

    def listing(config, token, query=""):
        backups = [i for i in images.values() if i.get("image_type") == "backup"]
        return {"images": sorted(backups, key=lambda i: i["id"], reverse=True)}
    monkeypatch.setattr(glance, "list_images", listing)
    monkeypatch.setattr(glance, "delete_image",
                        lambda config, token, image_id: deleted.append(image_id))
    for _ in range(3):
        response = alice.action(server["id"], {"createBackup": {
            "name": "b", "backup_type": "daily", "rotation": 2}})
        assert response.status_code == 202, response.get_json()
        assert casts[-1][0] == "snapshot_instance"
        place(server["id"])
    assert len(deleted) == 1 and images[deleted[0]]["backup_type"] == "daily"
    assert alice.action(server["id"], {"createBackup": {"name": "b"}}).status_code == 400


def test_resize_over_quota_is_403(alice, admin, server):
    admin.put("/v2.1/os-quota-sets/p-alice", json={"quota_set": {"ram": 1024}})
    response = alice.action(server["id"], {"resize": {"flavorRef": "2"}})
    assert response.status_code == 403
    assert "Quota exceeded for ram" in response.get_json()["forbidden"]["message"]


def test_diagnostics_are_admin_only_and_follow_2_48(alice, admin, server):
    assert alice.get(f"/v2.1/servers/{server['id']}/diagnostics").status_code == 403
    shown = admin.get(f"/v2.1/servers/{server['id']}/diagnostics").get_json()
    assert shown["state"] == "running" and shown["memory_details"]["maximum"] == 512
    old = admin.at("2.47").get(f"/v2.1/servers/{server['id']}/diagnostics").get_json()
    assert old["memory"] == 512 * 1024
