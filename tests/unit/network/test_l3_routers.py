"""Routers through the API: gateways, interfaces, routes, and Neutron's errors for each."""
import uuid

import pytest


def error(response) -> dict:
    return response.get_json()["NeutronError"]


@pytest.fixture
def public(admin) -> dict:
    """An external flat network with one IPv4 subnet, as an operator makes it."""
    network = admin.network(name="public", **{"router:external": True,
                                              "provider:network_type": "flat",
                                              "provider:physical_network": "physnet1"})
    admin.subnet(network, cidr="172.24.4.0/24")
    return network


def router(caller, **attributes) -> dict:
    return caller.create("router", **{"name": "r1", **attributes})


def add(caller, router_id, **interface):
    return caller.put(f"/v2.0/routers/{router_id}/add_router_interface", json=interface)


def remove(caller, router_id, **interface):
    return caller.put(f"/v2.0/routers/{router_id}/remove_router_interface", json=interface)


def ports_of(caller, router_id) -> list[dict]:
    return caller.get(f"/v2.0/ports?device_id={router_id}").get_json()["ports"]


def test_create_with_a_gateway(alice, admin, public, changes):
    made = router(alice, admin_state_up=False, external_gateway_info={"network_id": public["id"]})
    assert made["admin_state_up"] is False and made["status"] == "ACTIVE"
    gateway = made["external_gateway_info"]
    assert gateway["network_id"] == public["id"] and gateway["enable_snat"] is True
    [fixed] = gateway["external_fixed_ips"]
    assert fixed["ip_address"].startswith("172.24.4.")
    assert "distributed" not in made
    [port] = admin.get(f"/v2.0/ports?device_id={made['id']}"
                       "&device_owner=network:router_gateway").get_json()["ports"]
    assert port["project_id"] == "" and port["network_id"] == public["id"]
    assert admin.get(f"/v2.0/routers/{made['id']}").get_json()["router"]["distributed"] is False
    assert changes


def test_only_admins_choose_snat_and_addresses(alice, admin, public):
    response = alice.post("/v2.0/routers", json={"router": {"external_gateway_info": {
        "network_id": public["id"], "enable_snat": False}}})
    assert response.status_code == 403
    made = router(admin, external_gateway_info={
        "network_id": public["id"], "enable_snat": False,
        "external_fixed_ips": [{"ip_address": "172.24.4.100"}]})
    gateway = made["external_gateway_info"]
    assert gateway["enable_snat"] is False
    assert gateway["external_fixed_ips"][0]["ip_address"] == "172.24.4.100"


def test_gateway_set_and_unset_by_update(alice, admin, public):
    made = router(alice)
    assert made["external_gateway_info"] is None
    updated = alice.put(f"/v2.0/routers/{made['id']}", json={"router": {
        "external_gateway_info": {"network_id": public["id"]}}}).get_json()["router"]
    assert updated["external_gateway_info"]["network_id"] == public["id"]
    cleared = alice.put(f"/v2.0/routers/{made['id']}", json={"router": {
        "external_gateway_info": {}}}).get_json()["router"]
    assert cleared["external_gateway_info"] is None
    assert admin.get(f"/v2.0/ports?network_id={public['id']}&device_id={made['id']}"
                     ).get_json()["ports"] == []


def test_gateway_needs_an_existing_external_network(alice):
    made = router(alice)
    missing = alice.put(f"/v2.0/routers/{made['id']}", json={"router": {
        "external_gateway_info": {"network_id": made["id"]}}})
    assert missing.status_code == 404 and error(missing)["type"] == "NetworkNotFound"
    private = alice.network()
    alice.subnet(private)
    internal = alice.put(f"/v2.0/routers/{made['id']}", json={"router": {
        "external_gateway_info": {"network_id": private["id"]}}})
    assert internal.status_code == 400
    assert "is not an external network" in error(internal)["message"]


def test_interface_by_subnet_takes_the_gateway_address(alice):
    network = alice.network()
    subnet = alice.subnet(network, cidr="10.1.0.0/24")
    made = router(alice)
    response = add(alice, made["id"], subnet_id=subnet["id"])
    assert response.status_code == 200
    interface = response.get_json()
    assert interface["subnet_id"] == subnet["id"] and interface["id"] == made["id"]
    port = alice.get(f"/v2.0/ports/{interface['port_id']}").get_json()["port"]
    assert port["device_id"] == made["id"]
    assert port["device_owner"] == "network:router_interface"
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": "10.1.0.1"}]
    again = add(alice, made["id"], subnet_id=subnet["id"])
    assert again.status_code == 400


def test_overlapping_subnets_on_one_router(alice):
    made = router(alice)
    first = alice.subnet(alice.network(name="a"), cidr="10.2.0.0/24")
    second = alice.subnet(alice.network(name="b"), cidr="10.2.0.0/16")
    assert add(alice, made["id"], subnet_id=first["id"]).status_code == 200
    response = add(alice, made["id"], subnet_id=second["id"])
    assert response.status_code == 400
    assert error(response)["type"] == "BadRequest"
    assert "overlaps with cidr 10.2.0.0/24" in error(response)["message"]


def test_interface_by_port_and_its_removal_deletes_the_port(alice):
    network = alice.network()
    alice.subnet(network, cidr="10.3.0.0/24")
    port = alice.port(network)
    made = router(alice)
    interface = add(alice, made["id"], port_id=port["id"]).get_json()
    assert interface["port_id"] == port["id"]
    assert [p["id"] for p in ports_of(alice, made["id"])] == [port["id"]]
    busy = add(alice, router(alice, name="r2")["id"], port_id=port["id"])
    assert busy.status_code == 409 and error(busy)["type"] == "PortInUse"
    assert remove(alice, made["id"], port_id=port["id"]).status_code == 200
    assert alice.get(f"/v2.0/ports/{port['id']}").status_code == 404


def test_remove_by_subnet_and_the_404s(alice):
    network = alice.network()
    subnet = alice.subnet(network, cidr="10.4.0.0/24")
    made = router(alice)
    missing = remove(alice, made["id"], subnet_id=subnet["id"])
    assert missing.status_code == 404
    assert error(missing)["type"] == "RouterInterfaceNotFoundForSubnet"
    port_id = add(alice, made["id"], subnet_id=subnet["id"]).get_json()["port_id"]
    assert remove(alice, made["id"], subnet_id=subnet["id"]).status_code == 200
    assert alice.get(f"/v2.0/ports/{port_id}").status_code == 404
    neither = remove(alice, made["id"])
    assert neither.status_code == 400


def test_a_router_with_interfaces_cannot_be_deleted(alice):
    subnet = alice.subnet(alice.network(), cidr="10.5.0.0/24")
    made = router(alice)
    add(alice, made["id"], subnet_id=subnet["id"])
    response = alice.delete(f"/v2.0/routers/{made['id']}")
    assert response.status_code == 409 and error(response)["type"] == "RouterInUse"
    remove(alice, made["id"], subnet_id=subnet["id"])
    assert alice.delete(f"/v2.0/routers/{made['id']}").status_code == 204
    gone = alice.get(f"/v2.0/routers/{made['id']}")
    assert gone.status_code == 404 and error(gone)["type"] == "RouterNotFound"


def test_routes_need_a_connected_nexthop(alice):
    subnet = alice.subnet(alice.network(), cidr="10.6.0.0/24")
    made = router(alice)
    add(alice, made["id"], subnet_id=subnet["id"])
    routes = [{"destination": "192.168.0.0/24", "nexthop": "10.6.0.2"}]
    updated = alice.put(f"/v2.0/routers/{made['id']}", json={"router": {"routes": routes}})
    assert updated.get_json()["router"]["routes"] == routes
    busy = remove(alice, made["id"], subnet_id=subnet["id"])
    assert busy.status_code == 409 and error(busy)["type"] == "RouterInterfaceInUseByRoute"
    far = alice.put(f"/v2.0/routers/{made['id']}", json={"router": {"routes": [
        {"destination": "192.168.0.0/24", "nexthop": "10.9.0.2"}]}})
    assert far.status_code == 400 and error(far)["type"] == "InvalidRoutes"
    own = alice.put(f"/v2.0/routers/{made['id']}", json={"router": {"routes": [
        {"destination": "192.168.0.0/24", "nexthop": "10.6.0.1"}]}})
    assert own.status_code == 400
    cleared = alice.put(f"/v2.0/routers/{made['id']}", json={"router": {"routes": None}})
    assert cleared.get_json()["router"]["routes"] == []


def test_other_projects_routers_are_hidden(alice, bob):
    made = router(alice)
    assert bob.get(f"/v2.0/routers/{made['id']}").status_code == 404
    assert bob.put(f"/v2.0/routers/{made['id']}", json={"router": {"name": "x"}}
                   ).status_code == 404
    assert bob.delete(f"/v2.0/routers/{made['id']}").status_code == 404
    assert [r["id"] for r in bob.get("/v2.0/routers").get_json()["routers"]] == []
    assert alice.delete(f"/v2.0/routers/{uuid.uuid4()}").status_code == 404


def test_list_filters_and_fields(alice):
    router(alice, name="a")
    router(alice, name="b", admin_state_up=False)
    listed = alice.get("/v2.0/routers?admin_state_up=false&fields=name").get_json()
    assert listed["routers"] == [{"name": "b"}]
    bad = alice.get("/v2.0/routers?colour=red")
    assert bad.status_code == 400


def test_router_quota(alice, admin):
    admin.put("/v2.0/quotas/p-alice", json={"quota": {"router": 1}})
    router(alice)
    over = alice.post("/v2.0/routers", json={"router": {"name": "r2"}})
    assert over.status_code == 409 and error(over)["type"] == "OverQuota"
