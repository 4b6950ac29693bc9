"""Nodes through the API: create, show, list, JSON-patch, delete, as an Ironic client sees them."""
import json

from tests.unit.baremetal.conftest import BMC, fault, set_node


def test_version_documents_and_headers(admin, ramdisk):
    root = ramdisk.get("/")
    assert root.status_code == 200
    assert root.get_json()["default_version"]["version"] == "1.94"
    v1 = ramdisk.get("/v1").get_json()
    assert v1["nodes"][0]["href"].endswith("/v1/nodes/")
    assert v1["version"]["min_version"] == "1.1"
    response = admin.get("/v1/nodes")
    assert response.headers["X-OpenStack-Ironic-API-Version"] == "1.94"
    assert response.headers["X-OpenStack-Ironic-API-Minimum-Version"] == "1.1"
    assert response.headers["X-OpenStack-Ironic-API-Maximum-Version"] == "1.94"


def test_a_version_above_the_maximum_is_406_with_the_range(admin):
    response = admin.at("1.115").get("/v1/nodes")
    assert response.status_code == 406
    assert response.headers["X-OpenStack-Ironic-API-Maximum-Version"] == "1.94"
    assert "error_message" in response.get_json()


def test_create_seals_the_bmc_password_and_shows_stars(admin, cfg):
    node = admin.node(name="rack1-n1", properties={"cpus": 2, "memory_mb": 2048,
                                                   "local_gb": 10})
    assert node["driver_info"] == {**BMC, "ipmi_password": "******"}
    assert node["provision_state"] == "enroll" and node["power_state"] is None
    assert node["boot_interface"] == "ipxe" and node["deploy_interface"] == "direct"
    assert node["created_at"].endswith("+00:00")
    assert node["links"][0]["href"].endswith(f"/v1/nodes/{node['uuid']}")
    assert {"ports", "states"} <= set(node)
    from undercloud.baremetal.models import Node
    row = Node.get_by_id(node["uuid"])
    assert "ipmi_password" not in row.driver_info
    assert "s3cr3t-bmc" not in (row.driver_secrets or "")
    from undercloud.baremetal import driverinfo
    assert driverinfo.opened(cfg, row.driver_secrets) == {"ipmi_password": "s3cr3t-bmc"}
    for path in (f"/v1/nodes/{node['uuid']}", "/v1/nodes/detail", "/v1/nodes/rack1-n1"):
        assert "s3cr3t-bmc" not in admin.get(path).get_data(as_text=True)


def test_an_unknown_driver_is_400_naming_the_enabled_one(admin):
    response = admin.post("/v1/nodes", json={"driver": "redfish"})
    assert response.status_code == 400
    assert "redfish" in fault(response) and "ipmi" in fault(response)


def test_bad_bodies_are_400(admin):
    for body in ({"name": "x"}, {"driver": "ipmi", "colour": "red"},
                 {"driver": "ipmi", "driver_info": "ipmi_password=hunter2"},
                 {"driver": "ipmi", "boot_interface": "pxe"},
                 {"driver": "ipmi", "name": "bad name"},
                 {"driver": "ipmi", "maintenance": "perhaps"},
                 {"driver": "ipmi", "properties": {"capabilities": "profile"}}):
        response = admin.post("/v1/nodes", json=body)
        assert response.status_code == 400, (body, response.get_json())
        assert "hunter2" not in response.get_data(as_text=True)
    assert admin.post("/v1/nodes", data="{", content_type="application/json").status_code == 400


def test_duplicate_name_is_409(admin):
    admin.node(name="twin")
    response = admin.post("/v1/nodes", json={"driver": "ipmi", "name": "twin"})
    assert response.status_code == 409
    assert fault(response) == "A node with name twin already exists."


def test_unknown_node_is_404_with_ironics_message(admin):
    response = admin.get("/v1/nodes/nowhere")
    assert response.status_code == 404
    assert fault(response) == "Node nowhere could not be found."
    body = json.loads(response.get_json()["error_message"])
    assert body["faultcode"] == "Client"


def test_old_clients_get_available_nodes_and_no_newer_fields(admin):
    node = admin.at("1.10").node()
    assert node["provision_state"] == "available"
    assert "resource_class" not in node and "boot_interface" not in node
    assert admin.at(None).post("/v1/nodes", json={"driver": "ipmi", "owner": "p1"}
                               ).status_code == 406


def test_list_filters_fields_and_detail(admin):
    first = admin.node(name="a", resource_class="baremetal", maintenance=True)
    admin.node(name="b", owner="p-x")
    listed = admin.get("/v1/nodes").get_json()["nodes"]
    assert [n["name"] for n in listed] == ["a", "b"]
    assert set(listed[0]) == {"uuid", "name", "instance_uuid", "power_state",
                              "provision_state", "maintenance", "links"}
    assert [n["name"] for n in admin.get("/v1/nodes?maintenance=true").get_json()["nodes"]] \
        == ["a"]
    assert [n["name"] for n in admin.get("/v1/nodes?resource_class=baremetal"
                                         ).get_json()["nodes"]] == ["a"]
    assert [n["name"] for n in admin.get("/v1/nodes?owner=p-x").get_json()["nodes"]] == ["b"]
    assert admin.get("/v1/nodes?provision_state=enroll").get_json()["nodes"][0]["name"] == "a"
    assert admin.get("/v1/nodes?provision_state=bogus").status_code == 400
    assert admin.get("/v1/nodes?associated=false").get_json()["nodes"][1]["name"] == "b"
    detail = admin.get("/v1/nodes/detail").get_json()["nodes"]
    assert detail[0]["driver_info"]["ipmi_password"] == "******"
    some = admin.get(f"/v1/nodes/{first['uuid']}?fields=uuid,power_state").get_json()
    assert set(some) == {"uuid", "power_state", "links"}
    assert admin.get("/v1/nodes?fields=colour").status_code == 400
    assert admin.get("/v1/nodes?sort_key=properties").status_code == 400
    assert admin.get("/v1/nodes?limit=0").status_code == 400


def test_paging_follows_next_links(admin):
    for index in range(3):
        admin.node(name=f"page{index}")
    page = admin.get("/v1/nodes?limit=2").get_json()
    assert len(page["nodes"]) == 2 and "marker=" in page["next"]
    rest = admin.get(page["next"].split("localhost", 1)[1]).get_json()
    assert [n["name"] for n in rest["nodes"]] == ["page2"] and "next" not in rest


def test_patch_properties_capabilities_and_password(admin, cfg):
    node = admin.node(name="p1")
    operations = [{"op": "add", "path": "/properties/capabilities",
                   "value": "profile:compute,boot_mode:bios"},
                  {"op": "add", "path": "/properties/cpus", "value": 4},
                  {"op": "replace", "path": "/driver_info/ipmi_password", "value": "n3w"},
                  {"op": "add", "path": "/extra/rack", "value": "r1"},
                  {"op": "replace", "path": "/description", "value": "lab node"}]
    response = admin.patch(f"/v1/nodes/{node['uuid']}", json=operations)
    assert response.status_code == 200, response.get_json()
    patched = response.get_json()
    assert patched["properties"] == {"capabilities": "profile:compute,boot_mode:bios",
                                     "cpus": 4}
    assert patched["driver_info"]["ipmi_password"] == "******"
    assert patched["extra"] == {"rack": "r1"} and patched["description"] == "lab node"
    from undercloud.baremetal import driverinfo
    from undercloud.baremetal.models import Node
    assert driverinfo.opened(cfg, Node.get_by_id(node["uuid"]).driver_secrets) == \
        {"ipmi_password": "n3w"}
    removed = admin.patch("/v1/nodes/p1", json=[
        {"op": "remove", "path": "/properties/cpus"},
        {"op": "remove", "path": "/driver_info/ipmi_password"}]).get_json()
    assert removed["properties"] == {"capabilities": "profile:compute,boot_mode:bios"}
    assert "ipmi_password" not in removed["driver_info"]
    assert Node.get_by_id(node["uuid"]).driver_secrets is None


def test_patch_errors(admin):
    node = admin.node(name="pe")
    path = f"/v1/nodes/{node['uuid']}"
    cases = [([{"op": "replace", "path": "/provision_state", "value": "active"}], 400),
             ([{"op": "add", "path": "/colour", "value": "red"}], 400),
             ([{"op": "remove", "path": "/extra/missing"}], 400),
             ([{"op": "move", "path": "/name"}], 400),
             ({"op": "add"}, 400),
             ([{"op": "replace", "path": "/driver", "value": "redfish"}], 400),
             ([{"op": "replace", "path": "/driver_info", "value": "x"}], 400),
             ([{"op": "replace", "path": "/instance_uuid", "value": "not-a-uuid"}], 400)]
    for operations, status in cases:
        response = admin.patch(path, json=operations)
        assert response.status_code == status, (operations, response.get_json())
    other = admin.node(name="taken")
    assert admin.patch(path, json=[{"op": "replace", "path": "/name", "value": "taken"}]
                       ).status_code == 409
    assert other["name"] == "taken"


def test_patch_instance_uuid_cannot_be_overwritten(admin):
    node = admin.node()
    first, second = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
    path = f"/v1/nodes/{node['uuid']}"
    assert admin.patch(path, json=[{"op": "add", "path": "/instance_uuid", "value": first}]
                       ).status_code == 200
    assert admin.patch(path, json=[{"op": "add", "path": "/instance_uuid", "value": second}]
                       ).status_code == 409
    listed = admin.get(f"/v1/nodes?instance_uuid={first}").get_json()["nodes"]
    assert [n["uuid"] for n in listed] == [node["uuid"]]


def test_a_node_the_conductor_holds_is_locked(admin):
    node = admin.node()
    set_node(node["uuid"], reservation="conductor-1")
    path = f"/v1/nodes/{node['uuid']}"
    response = admin.patch(path, json=[{"op": "add", "path": "/extra/a", "value": 1}])
    assert response.status_code == 409 and "locked by host conductor-1" in fault(response)
    assert admin.delete(path).status_code == 409


def test_delete_follows_ironics_states(admin):
    node = admin.node()
    set_node(node["uuid"], provision_state="active")
    path = f"/v1/nodes/{node['uuid']}"
    response = admin.delete(path)
    assert response.status_code == 409 and "active" in fault(response)
    assert admin.put(f"{path}/maintenance", json={"reason": "broken"}).status_code == 202
    assert admin.delete(path).status_code == 204
    assert admin.get(path).status_code == 404


def test_delete_takes_the_ports(admin):
    node = admin.node()
    port = admin.port(node, "52:54:00:aa:bb:01")
    assert admin.delete(f"/v1/nodes/{node['uuid']}").status_code == 204
    assert admin.get(f"/v1/ports/{port['uuid']}").status_code == 404


def test_projects_see_only_their_nodes(admin, alice, bob, reader):
    mine = admin.node(name="alices", owner="p-alice")
    admin.node(name="admins")
    assert [n["name"] for n in alice.get("/v1/nodes").get_json()["nodes"]] == ["alices"]
    assert bob.get("/v1/nodes").get_json()["nodes"] == []
    assert bob.get(f"/v1/nodes/{mine['uuid']}").status_code == 404
    assert reader.get(f"/v1/nodes/{mine['uuid']}").status_code == 200
    assert reader.patch(f"/v1/nodes/{mine['uuid']}", json=[
        {"op": "add", "path": "/extra/a", "value": 1}]).status_code == 403
    assert alice.patch(f"/v1/nodes/{mine['uuid']}", json=[
        {"op": "add", "path": "/extra/a", "value": 1}]).status_code == 200
    assert alice.patch(f"/v1/nodes/{mine['uuid']}", json=[
        {"op": "add", "path": "/driver_info/ipmi_address", "value": "10.0.0.1"}]
    ).status_code == 403
    assert alice.post("/v1/nodes", json={"driver": "ipmi"}).status_code == 403
    assert alice.delete(f"/v1/nodes/{mine['uuid']}").status_code == 403
