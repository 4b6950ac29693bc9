"""Servers as a Nova client sees them: create records intent and casts, list/show/update/delete."""
import base64

import pytest

from tests.unit.compute.conftest import IMAGE, place
from undercloud.compute.models import Instance


def test_version_document_offers_2_1_to_2_79(app):
    client = app.test_client()
    versions = client.get("/").get_json()["versions"]
    current = [v for v in versions if v["id"] == "v2.1"][0]
    assert current["version"] == "2.79" and current["min_version"] == "2.1"
    assert any(v["id"] == "v2.0" for v in versions)


def test_microversion_outside_the_range_is_406(alice):
    response = alice.at("2.80").get("/v2.1/flavors")
    assert response.status_code == 406
    assert response.get_json()["notAcceptable"]["code"] == 406
    assert alice.at("2.79").get("/v2.1/flavors").headers["OpenStack-API-Version"] == \
        "compute 2.79"


def test_create_records_build_and_casts_to_the_scheduler(alice, casts):
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    server = alice.boot("vm1", user_data=user_data, config_drive=True,
                        metadata={"role": "web"}, description="first", tags=["a", "b"])
    assert server["adminPass"] and server["OS-DCF:diskConfig"] == "MANUAL"
    method, args, kwargs = casts[-1]
    assert method == "build_instances"
    context, instance_ids, spec = args
    assert instance_ids == [server["id"]] and context["user_id"] == "alice"
    assert spec["flavor"]["memory_mb"] == 512 and spec["image"]["id"] == IMAGE
    assert spec["availability_zone"] == "nova"
    shown = alice.show(server["id"])
    assert shown["status"] == "BUILD" and shown["OS-EXT-STS:task_state"] == "scheduling"
    assert shown["metadata"] == {"role": "web"} and shown["config_drive"] == "True"
    assert shown["description"] == "first" and shown["tags"] == ["a", "b"]
    assert shown["flavor"]["original_name"] == "m1.tiny" and shown["flavor"]["ram"] == 512
    assert shown["locked"] is False and shown["locked_reason"] is None
    assert shown["server_groups"] == []
    assert "OS-EXT-SRV-ATTR:host" not in shown and "host_status" not in shown


def test_old_microversion_shows_flavor_link_and_no_new_fields(alice):
    server = alice.boot()
    shown = alice.at("2.1").show(server["id"])
    assert shown["flavor"]["id"] == "1" and "links" in shown["flavor"]
    assert "locked" not in shown and "description" not in shown and "tags" not in shown
    assert shown["image"]["id"] == IMAGE


def test_admin_sees_extended_attributes_and_host_status(alice, admin):
    server = alice.boot()
    place(server["id"])
    shown = admin.show(server["id"])
    assert shown["OS-EXT-SRV-ATTR:host"] == "host1"
    assert shown["OS-EXT-SRV-ATTR:reservation_id"].startswith("r-")
    assert shown["host_status"] == "UNKNOWN"
    assert shown["status"] == "ACTIVE" and shown["hostId"]


NET = "6e6b6a36-2c8b-4c4c-9a36-5a8c3e0f6a11"
PORT = "0a3b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"


def _create(caller, networks, **server):
    return caller.post("/v2.1/servers", json={"server": {
        "name": "x", "imageRef": IMAGE, "flavorRef": "1", "networks": networks, **server}})


@pytest.mark.parametrize("networks, code, message", [
    ([{"uuid": "a-b-c-d-e-f-g-h-i-j", "fixed_ip": "10.0.1.1"}], 400, "not in proper format"),
    ([{"uuid": NET, "fixed_ip": "10.0.1.300"}], 400, "Invalid fixed IP address"),
    ([{"fixed_ip": "10.0.1.1"}], 400, "missing 'uuid'"),
    ([{"port": PORT, "fixed_ip": "10.0.1.1"}], 400, "cannot be specified together"),
    ([{"uuid": NET, "what": 1}], 400, "'what' was unexpected"),
    ([{"uuid": "6e6b6a36-0000-4c4c-9a36-5a8c3e0f6a11"}], 400, "could not be found"),
    ([{"port": "busy0000-0000-4000-8000-000000000000"}], 400, "is not a 'uuid'"),
    ("auto", 400, "Unable to automatically allocate a network"),
])
def test_bad_networks_are_refused_at_create(alice, network, networks, code, message):
    network.networks[NET] = "other-project"
    response = _create(alice, networks)
    assert response.status_code == code
    assert message in response.get_json()["badRequest"]["message"]


def test_a_busy_port_is_a_conflict(alice, network):
    network.busy_ports.add(PORT)
    response = _create(alice, [{"port": PORT}])
    assert response.status_code == 409
    assert "still in use" in response.get_json()["conflictingRequest"]["message"]


def test_ports_and_fixed_ips_boot_one_server_at_a_time(alice, network):
    network.networks[NET] = "p-alice"
    for networks, message in (([{"port": PORT}], "single configured port"),
                              ([{"uuid": NET, "fixed_ip": "10.0.0.5"}], "fixed_ip")):
        response = _create(alice, networks, max_count=2)
        assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_networks_and_security_groups_are_kept_for_the_build(alice, network):
    network.networks[NET] = "p-alice"
    response = _create(alice, [{"uuid": NET, "fixed_ip": "10.0.0.5"}, {"port": PORT}],
                       security_groups=[{"name": "web"}])
    assert response.status_code == 202
    assert response.get_json()["server"]["security_groups"] == [{"name": "web"}]
    instance = Instance.get_by_id(response.get_json()["server"]["id"])
    assert instance.requested_networks == [{"uuid": NET, "fixed_ip": "10.0.0.5"},
                                           {"port": PORT}]
    assert instance.security_groups == ["web"]


def test_auto_resolves_to_the_projects_network(alice, network):
    network.networks[NET] = "p-alice"
    server = _create(alice, "auto").get_json()["server"]
    assert Instance.get_by_id(server["id"]).requested_networks == [{"uuid": NET}]


def test_without_a_network_service_only_no_networks_boot(alice, network):
    network.absent = True
    response = _create(alice, [{"uuid": NET}])
    assert response.status_code == 400
    assert "Networking is not available" in response.get_json()["badRequest"]["message"]
    assert _create(alice, "none").status_code == 202
    legacy = alice.at("2.36").post("/v2.1/servers", json={"server": {
        "name": "x", "imageRef": IMAGE, "flavorRef": "1"}})
    assert legacy.status_code == 202


def test_networks_are_required_from_2_37_and_optional_before(alice):
    body = {"server": {"name": "x", "imageRef": IMAGE, "flavorRef": "1"}}
    assert alice.post("/v2.1/servers", json=body).status_code == 400
    assert alice.at("2.36").post("/v2.1/servers", json=body).status_code == 202


def test_volume_source_is_a_clear_400(alice):
    response = alice.post("/v2.1/servers", json={"server": {
        "name": "x", "flavorRef": "1", "networks": "none", "block_device_mapping_v2": [
            {"source_type": "volume", "destination_type": "volume", "uuid": "v1",
             "boot_index": 0}]}})
    assert response.status_code == 400
    assert "volume" in response.get_json()["badRequest"]["message"]


def test_image_block_device_boots_from_that_image(alice, casts):
    response = alice.post("/v2.1/servers", json={"server": {
        "name": "x", "flavorRef": "1", "networks": "none", "block_device_mapping_v2": [
            {"source_type": "image", "destination_type": "local", "uuid": IMAGE,
             "boot_index": 0}]}})
    assert response.status_code == 202
    assert casts[-1][1][2]["image"]["id"] == IMAGE


@pytest.mark.parametrize("change, code", [
    ({"name": ""}, 400), ({"name": "x" * 256}, 400), ({"flavorRef": "nope"}, 400),
    ({"imageRef": "00000000-0000-0000-0000-000000000000"}, 400),
    ({"key_name": "missing"}, 400), ({"user_data": "not base64!"}, 400),
    ({"accessIPv6": "not-an-ip"}, 400), ({"availability_zone": "elsewhere"}, 400),
    ({"min_count": 3, "max_count": 2}, 400), ({"bogus": 1}, 400),
    ({"metadata": {"a" * 256: "b"}}, 400),
])
def test_bad_create_requests_are_400(alice, change, code):
    body = {"name": "x", "imageRef": IMAGE, "flavorRef": "1", "networks": "none", **change}
    response = alice.post("/v2.1/servers", json={"server": body})
    assert response.status_code == code, response.get_json()
    assert "badRequest" in response.get_json()


def test_multiple_create_names_servers_and_shares_a_reservation(alice, casts):
    response = alice.post("/v2.1/servers", json={"server": {
        "name": "many", "imageRef": IMAGE, "flavorRef": "1", "networks": "none",
        "min_count": 2, "max_count": 3, "return_reservation_id": True}})
    assert response.status_code == 202
    reservation = response.get_json()["reservation_id"]
    names = sorted(s["name"] for s in alice.get(
        f"/v2.1/servers?reservation_id={reservation}").get_json()["servers"])
    assert names == ["many-1", "many-2", "many-3"]
    assert len(casts[-1][1][1]) == 3


def test_quota_exceeded_is_403_in_novas_words(alice, admin):
    admin.put("/v2.1/os-quota-sets/p-alice", json={"quota_set": {"instances": 1}})
    alice.boot()
    response = alice.post("/v2.1/servers", json={"server": {
        "name": "x", "imageRef": IMAGE, "flavorRef": "1", "networks": "none"}})
    assert response.status_code == 403
    assert "Quota exceeded for instances" in response.get_json()["forbidden"]["message"]


def test_max_count_shrinks_to_what_the_quota_allows(alice, admin, casts):
    admin.put("/v2.1/os-quota-sets/p-alice", json={"quota_set": {"instances": 2}})
    response = alice.post("/v2.1/servers", json={"server": {
        "name": "x", "imageRef": IMAGE, "flavorRef": "1", "networks": "none",
        "min_count": 1, "max_count": 5}})
    assert response.status_code == 202
    assert len(casts[-1][1][1]) == 2


def test_other_projects_servers_are_404(alice, bob):
    server = alice.boot()
    assert bob.get(f"/v2.1/servers/{server['id']}").status_code == 404
    assert bob.delete(f"/v2.1/servers/{server['id']}").status_code == 404
    assert bob.get("/v2.1/servers").get_json()["servers"] == []


def test_list_filters_sorting_and_paging(alice):
    ids = [alice.boot(name)["id"] for name in ("web-1", "web-2", "db-1")]
    place(ids[0])
    listed = alice.get("/v2.1/servers").get_json()["servers"]
    assert [s["name"] for s in listed] == ["db-1", "web-2", "web-1"]  # newest first
    names = [s["name"] for s in alice.get("/v2.1/servers?name=^web").get_json()["servers"]]
    assert sorted(names) == ["web-1", "web-2"]
    active = alice.get("/v2.1/servers/detail?status=ACTIVE").get_json()["servers"]
    assert [s["id"] for s in active] == [ids[0]]
    assert alice.at("2.37").get("/v2.1/servers?status=NOPE").get_json()["servers"] == []
    assert alice.get("/v2.1/servers?status=NOPE").status_code == 400
    assert alice.get("/v2.1/servers?flavor=1").get_json()["servers"]
    assert alice.get("/v2.1/servers?flavor=999").get_json()["servers"] == []
    assert alice.get(f"/v2.1/servers?image={IMAGE}").get_json()["servers"]
    page = alice.get("/v2.1/servers?limit=2&sort_key=display_name&sort_dir=asc").get_json()
    assert [s["name"] for s in page["servers"]] == ["db-1", "web-1"]
    assert page["servers_links"][0]["rel"] == "next"
    rest = alice.get(f"/v2.1/servers?limit=2&sort_key=display_name&sort_dir=asc"
                     f"&marker={page['servers'][-1]['id']}").get_json()["servers"]
    assert [s["name"] for s in rest] == ["web-2"]
    for bad in ("limit=-1", "limit=abc", "marker=nope", "sort_key=bogus",
                "changes-since=yesterday"):
        assert alice.get(f"/v2.1/servers?{bad}").status_code == 400, bad
    assert alice.get("/v2.1/servers?changes-since=2999-01-01T00:00:00Z") \
        .get_json()["servers"] == []


def test_tags_filters(alice):
    tagged = alice.boot("t", tags=["red", "blue"])
    alice.boot("u", tags=["red"])
    both = alice.get("/v2.1/servers?tags=red,blue").get_json()["servers"]
    assert [s["id"] for s in both] == [tagged["id"]]
    assert len(alice.get("/v2.1/servers?tags-any=red,blue").get_json()["servers"]) == 2
    assert len(alice.get("/v2.1/servers?not-tags=blue").get_json()["servers"]) == 1


def test_update_name_and_description(alice):
    server = alice.boot()
    response = alice.put(f"/v2.1/servers/{server['id']}", json={"server": {
        "name": "renamed", "description": "new"}})
    assert response.status_code == 200
    assert response.get_json()["server"]["name"] == "renamed"
    assert alice.show(server["id"])["description"] == "new"
    assert alice.put(f"/v2.1/servers/{server['id']}", json={"server": {"name": ""}}) \
        .status_code == 400
    assert alice.put("/v2.1/servers/missing", json={"server": {"name": "x"}}).status_code == 404


def test_delete_unscheduled_server_goes_at_once(alice, casts):
    server = alice.boot()
    assert alice.delete(f"/v2.1/servers/{server['id']}").status_code == 204
    assert alice.get(f"/v2.1/servers/{server['id']}").status_code == 404
    assert alice.get("/v2.1/servers/detail").get_json()["servers"] == []
    since = alice.get("/v2.1/servers/detail?changes-since=2000-01-01T00:00:00Z")
    assert since.get_json()["servers"][0]["status"] == "DELETED"


def test_delete_placed_server_casts_terminate(alice, casts):
    server = alice.boot()
    place(server["id"])
    assert alice.delete(f"/v2.1/servers/{server['id']}").status_code == 204
    assert casts[-1][0] == "terminate_instance" and casts[-1][1][1:] == ("host1", server["id"])
    assert alice.show(server["id"])["OS-EXT-STS:task_state"] == "deleting"


def test_key_name_and_server_group_hint(alice, casts):
    alice.post("/v2.1/os-keypairs", json={"keypair": {"name": "k1"}})
    group = alice.post("/v2.1/os-server-groups", json={"server_group": {
        "name": "g", "policy": "anti-affinity"}}).get_json()["server_group"]
    response = alice.post("/v2.1/servers", json={
        "server": {"name": "x", "imageRef": IMAGE, "flavorRef": "1", "networks": "none",
                   "key_name": "k1"},
        "os:scheduler_hints": {"group": group["id"]}})
    assert response.status_code == 202
    server_id = response.get_json()["server"]["id"]
    assert casts[-1][1][2]["group_id"] == group["id"]
    shown = alice.show(server_id)
    assert shown["key_name"] == "k1" and shown["server_groups"] == [group["id"]]
    members = alice.get(f"/v2.1/os-server-groups/{group['id']}").get_json()["server_group"]
    assert members["members"] == [server_id]


def test_fault_is_shown_on_error(alice, admin):
    from undercloud.compute.models import InstanceFault
    server = alice.boot()
    place(server["id"], host=None, vm_state="error")
    InstanceFault.create(instance=server["id"], code=500, message="No valid host was found.",
                         details="trace")
    shown = alice.show(server["id"])
    assert shown["status"] == "ERROR"
    assert shown["fault"]["message"] == "No valid host was found."
    assert "details" not in shown["fault"]
    assert admin.show(server["id"])["fault"]["details"] == "trace"


def test_project_in_the_url_is_accepted_when_it_is_the_callers(as_user, alice):
    project = "0123456789abcdef0123456789abcdef"
    caller = as_user(f"carol:{project}:member,reader")
    assert caller.get(f"/v2.1/{project}/flavors").status_code == 200
    assert alice.get(f"/v2.1/{project}/flavors").status_code == 400


def test_all_tenants_is_admin_only(alice, admin, bob):
    alice.boot()
    assert bob.get("/v2.1/servers?all_tenants=1").status_code == 403
    assert len(admin.get("/v2.1/servers?all_tenants=1").get_json()["servers"]) == 1
    assert admin.get("/v2.1/servers").get_json()["servers"] == []
    named = admin.get("/v2.1/servers?all_tenants=1&project_id=p-bob").get_json()["servers"]
    assert named == []


def test_reset_state_is_admin_only(alice, admin):
    server = alice.boot()
    assert alice.action(server["id"], {"os-resetState": {"state": "error"}}).status_code == 403
    assert admin.action(server["id"], {"os-resetState": {"state": "error"}}).status_code == 202
    assert alice.show(server["id"])["status"] == "ERROR"


def test_unknown_list_parameters_are_400_from_2_75(alice):
    assert alice.get("/v2.1/servers?bogus=1").status_code == 400
    assert alice.at("2.74").get("/v2.1/servers?bogus=1").status_code == 200
