"""Floating IPs through the API: addresses, associations through a router, and Neutron's errors."""
import pytest


def error(response) -> dict:
    return response.get_json()["NeutronError"]


@pytest.fixture
def public(admin) -> dict:
    network = admin.network(name="public", **{"router:external": True,
                                              "provider:network_type": "flat",
                                              "provider:physical_network": "physnet1"})
    admin.subnet(network, cidr="172.24.4.0/24")
    return network


@pytest.fixture
def private(alice) -> dict:
    """A project network with a subnet, without a router yet."""
    network = alice.network(name="private")
    return {"network": network, "subnet": alice.subnet(network, cidr="10.0.0.0/24")}


@pytest.fixture
def routed(alice, public, private) -> dict:
    """The private subnet behind a router whose gateway is on the public network."""
    router = alice.create("router", name="r1", external_gateway_info={
        "network_id": public["id"]})
    alice.put(f"/v2.0/routers/{router['id']}/add_router_interface",
              json={"subnet_id": private["subnet"]["id"]})
    return {**private, "router": router}


def floating_ip(caller, public, **attributes):
    return caller.post("/v2.0/floatingips", json={"floatingip": {
        "floating_network_id": public["id"], **attributes}})


def test_create_unassociated(alice, admin, public):
    response = floating_ip(alice, public)
    assert response.status_code == 201
    made = response.get_json()["floatingip"]
    assert made["floating_ip_address"].startswith("172.24.4.")
    assert (made["port_id"], made["router_id"], made["status"]) == (None, None, "DOWN")
    assert made["project_id"] == "p-alice" and made["port_details"] is None
    [port] = admin.get(f"/v2.0/ports?device_id={made['id']}").get_json()["ports"]
    assert port["device_owner"] == "network:floatingip" and port["project_id"] == ""
    assert port["fixed_ips"][0]["ip_address"] == made["floating_ip_address"]


def test_associate_through_the_router(alice, public, routed, changes):
    port = alice.port(routed["network"], device_owner="compute:nova", device_id="vm-1")
    made = floating_ip(alice, public, port_id=port["id"]).get_json()["floatingip"]
    assert made["port_id"] == port["id"] and made["router_id"] == routed["router"]["id"]
    assert made["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert made["status"] == "ACTIVE"
    assert made["port_details"]["device_id"] == "vm-1"
    assert changes[-1] == ["vm-1"]   # compute refreshes the instance's addresses


def test_disassociate_and_reassociate(alice, public, routed):
    first, second = alice.port(routed["network"]), alice.port(routed["network"])
    made = floating_ip(alice, public, port_id=first["id"]).get_json()["floatingip"]
    moved = alice.put(f"/v2.0/floatingips/{made['id']}", json={"floatingip": {
        "port_id": second["id"]}}).get_json()["floatingip"]
    assert moved["port_id"] == second["id"]
    assert moved["fixed_ip_address"] == second["fixed_ips"][0]["ip_address"]
    freed = alice.put(f"/v2.0/floatingips/{made['id']}", json={"floatingip": {
        "port_id": None}}).get_json()["floatingip"]
    assert (freed["port_id"], freed["fixed_ip_address"], freed["router_id"]) == (None,) * 3


def test_a_port_without_a_router_to_the_network_is_unreachable(alice, public, private):
    router = alice.create("router", name="no-gateway")
    alice.put(f"/v2.0/routers/{router['id']}/add_router_interface",
              json={"subnet_id": private["subnet"]["id"]})
    port = alice.port(private["network"])
    response = floating_ip(alice, public, port_id=port["id"],
                           fixed_ip_address=port["fixed_ips"][0]["ip_address"])
    assert response.status_code == 404
    assert error(response)["type"] == "ExternalGatewayForFloatingIPNotFound"
    made = floating_ip(alice, public).get_json()["floatingip"]
    response = alice.put(f"/v2.0/floatingips/{made['id']}", json={"floatingip": {
        "port_id": port["id"]}})
    assert response.status_code == 404


def test_only_external_networks_have_floating_ips(alice, private):
    response = floating_ip(alice, private["network"])
    assert response.status_code == 400
    assert "is not a valid external network" in error(response)["message"]


def test_only_admins_choose_the_address(alice, admin, public):
    assert floating_ip(alice, public, floating_ip_address="172.24.4.50").status_code == 403
    made = floating_ip(admin, public, floating_ip_address="172.24.4.50")
    assert made.get_json()["floatingip"]["floating_ip_address"] == "172.24.4.50"
    taken = floating_ip(admin, public, floating_ip_address="172.24.4.50")
    assert taken.status_code == 409


def test_a_fixed_ip_takes_one_floating_ip_per_network(alice, public, routed):
    port = alice.port(routed["network"])
    floating_ip(alice, public, port_id=port["id"])
    again = floating_ip(alice, public, port_id=port["id"])
    assert again.status_code == 409
    assert error(again)["type"] == "FloatingIPPortAlreadyAssociated"


def test_a_port_with_two_addresses_names_one(alice, public, routed):
    subnet_id = routed["subnet"]["id"]
    port = alice.port(routed["network"], fixed_ips=[
        {"subnet_id": subnet_id, "ip_address": "10.0.0.50"},
        {"subnet_id": subnet_id, "ip_address": "10.0.0.51"}])
    unclear = floating_ip(alice, public, port_id=port["id"])
    assert unclear.status_code == 400
    made = floating_ip(alice, public, port_id=port["id"],
                       fixed_ip_address="10.0.0.50").get_json()["floatingip"]
    moved = alice.put(f"/v2.0/floatingips/{made['id']}", json={"floatingip": {
        "port_id": port["id"], "fixed_ip_address": "10.0.0.51"}}).get_json()["floatingip"]
    assert moved["fixed_ip_address"] == "10.0.0.51"
    wrong = floating_ip(alice, public, port_id=port["id"], fixed_ip_address="10.0.0.99")
    assert wrong.status_code == 400


def test_deleting_the_port_disassociates(alice, public, routed):
    port = alice.port(routed["network"])
    made = floating_ip(alice, public, port_id=port["id"]).get_json()["floatingip"]
    assert alice.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    shown = alice.get(f"/v2.0/floatingips/{made['id']}").get_json()["floatingip"]
    assert (shown["port_id"], shown["fixed_ip_address"], shown["router_id"]) == (None,) * 3
    assert shown["status"] == "DOWN"


def test_the_interface_a_floating_ip_needs_stays(alice, public, routed):
    port = alice.port(routed["network"])
    floating_ip(alice, public, port_id=port["id"])
    response = alice.put(f"/v2.0/routers/{routed['router']['id']}/remove_router_interface",
                         json={"subnet_id": routed["subnet"]["id"]})
    assert response.status_code == 409
    assert error(response)["type"] == "RouterInterfaceInUseByFloatingIP"
    gateway = alice.put(f"/v2.0/routers/{routed['router']['id']}", json={"router": {
        "external_gateway_info": {}}})
    assert gateway.status_code == 409


def test_delete_frees_the_address(alice, admin, public):
    made = floating_ip(alice, public).get_json()["floatingip"]
    assert alice.delete(f"/v2.0/floatingips/{made['id']}").status_code == 204
    assert alice.get(f"/v2.0/floatingips/{made['id']}").status_code == 404
    assert admin.get(f"/v2.0/ports?device_id={made['id']}").get_json()["ports"] == []


def test_list_is_per_project_and_filters(alice, bob, public):
    made = floating_ip(alice, public).get_json()["floatingip"]
    assert bob.get("/v2.0/floatingips").get_json()["floatingips"] == []
    assert bob.get(f"/v2.0/floatingips/{made['id']}").status_code == 404
    listed = alice.get(f"/v2.0/floatingips?floating_ip_address={made['floating_ip_address']}"
                       ).get_json()["floatingips"]
    assert [f["id"] for f in listed] == [made["id"]]
