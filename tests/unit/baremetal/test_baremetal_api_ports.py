"""Ports through the API: MACs checked, normalised and unique; listed by node; patched."""
from tests.unit.baremetal.conftest import fault, set_node


def test_create_normalises_the_mac(admin):
    node = admin.node(name="n1")
    port = admin.port(node, "52-54-00-AA-BB-01", name="eth0")
    assert port["address"] == "52:54:00:aa:bb:01"
    assert port["node_uuid"] == node["uuid"] and port["pxe_enabled"] is True
    assert port["name"] == "eth0" and port["portgroup_uuid"] is None
    assert admin.get(f"/v1/ports/{port['uuid']}").get_json()["address"] == "52:54:00:aa:bb:01"
    assert admin.get("/v1/ports/eth0").get_json()["uuid"] == port["uuid"]


def test_bad_and_duplicate_macs(admin):
    node = admin.node()
    response = admin.post("/v1/ports", json={"node_uuid": node["uuid"], "address": "52:54:00"})
    assert response.status_code == 400
    assert fault(response) == "Expected a MAC address but received 52:54:00."
    admin.port(node, "52:54:00:aa:bb:02")
    response = admin.post("/v1/ports", json={"node_uuid": node["uuid"],
                                             "address": "52:54:00:AA:BB:02"})
    assert response.status_code == 409
    assert fault(response) == "A port with MAC address 52:54:00:aa:bb:02 already exists."


def test_create_errors(admin):
    node = admin.node(name="named")
    missing = "00000000-0000-0000-0000-000000000000"
    for body, status in (({"address": "52:54:00:aa:bb:03"}, 400),
                         ({"address": "52:54:00:aa:bb:03", "node_uuid": missing}, 400),
                         ({"address": "52:54:00:aa:bb:03", "node_uuid": node["uuid"],
                           "colour": "red"}, 400),
                         ({"address": "52:54:00:aa:bb:03", "node_uuid": node["uuid"],
                           "local_link_connection": {"port_id": "Eth1"}}, 400),
                         ({"address": "52:54:00:aa:bb:03", "node_uuid": node["uuid"],
                           "pxe_enabled": "maybe"}, 400)):
        response = admin.post("/v1/ports", json=body)
        assert response.status_code == status, (body, response.get_json())
    port = admin.port({"uuid": node["uuid"]}, "52:54:00:aa:bb:04", pxe_enabled="false")
    assert port["pxe_enabled"] is False
    by_name = admin.post("/v1/ports", json={"node_ident": "named", "address": "52:54:00:aa:bb:05"})
    assert by_name.status_code == 201
    assert admin.at("1.93").post("/v1/ports", json={
        "node_ident": "named", "address": "52:54:00:aa:bb:06"}).status_code == 406


def test_list_by_node_and_address(admin):
    first, second = admin.node(name="first"), admin.node(name="second")
    admin.port(first, "52:54:00:00:00:01")
    admin.port(second, "52:54:00:00:00:02")
    everything = admin.get("/v1/ports").get_json()["ports"]
    assert {p["address"] for p in everything} == {"52:54:00:00:00:01", "52:54:00:00:00:02"}
    assert set(everything[0]) == {"uuid", "address", "links"}
    of_first = admin.get(f"/v1/nodes/{first['uuid']}/ports").get_json()["ports"]
    assert [p["address"] for p in of_first] == ["52:54:00:00:00:01"]
    assert [p["address"] for p in admin.get("/v1/ports?node=second").get_json()["ports"]] \
        == ["52:54:00:00:00:02"]
    found = admin.get("/v1/ports/detail?address=52:54:00:00:00:02").get_json()["ports"]
    assert found[0]["node_uuid"] == second["uuid"] and "pxe_enabled" in found[0]
    assert admin.get(f"/v1/nodes/{first['uuid']}/ports/detail").get_json()["ports"][0][
        "node_uuid"] == first["uuid"]


def test_patch_and_delete(admin):
    node = admin.node()
    port = admin.port(node, "52:54:00:00:00:10")
    path = f"/v1/ports/{port['uuid']}"
    patched = admin.patch(path, json=[{"op": "replace", "path": "/pxe_enabled", "value": False},
                                      {"op": "add", "path": "/extra/slot", "value": 2}])
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["pxe_enabled"] is False
    assert patched.get_json()["extra"] == {"slot": 2}
    assert admin.patch(path, json=[{"op": "replace", "path": "/address", "value": "x"}]
                       ).status_code == 400
    set_node(node["uuid"], provision_state="active")
    response = admin.patch(path, json=[{"op": "replace", "path": "/address",
                                        "value": "52:54:00:00:00:11"}])
    assert response.status_code == 409
    assert admin.delete(path).status_code == 204
    assert admin.get(path).status_code == 404
    assert fault(admin.get(path)) == f"Port {port['uuid']} could not be found."


def test_ports_of_other_projects_are_hidden(admin, alice, bob):
    node = admin.node(owner="p-alice")
    port = admin.port(node, "52:54:00:00:00:20")
    assert [p["uuid"] for p in alice.get("/v1/ports").get_json()["ports"]] == [port["uuid"]]
    assert bob.get("/v1/ports").get_json()["ports"] == []
    assert bob.get(f"/v1/ports/{port['uuid']}").status_code == 404
    assert alice.delete(f"/v1/ports/{port['uuid']}").status_code == 403
