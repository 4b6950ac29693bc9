"""Networks: who sees them, provider segments, MTU, updates, and deleting with ports."""
import pytest


def test_a_tenant_network_is_vxlan_with_a_vni_and_the_overlay_mtu(alice, admin):
    network = alice.network(name="blue")
    assert network["status"] == "ACTIVE" and network["mtu"] == 1450
    assert network["project_id"] == network["tenant_id"] == "p-alice"
    assert "provider:network_type" not in network   # provider attributes are the admin's
    shown = admin.get(f"/v2.0/networks/{network['id']}").get_json()["network"]
    assert shown["provider:network_type"] == "vxlan"
    assert shown["provider:segmentation_id"] == 1000


def test_vnis_run_out_with_neutrons_503(alice):
    for _ in range(4):
        alice.network()
    response = alice.post("/v2.0/networks", json={"network": {"name": "one too many"}})
    assert response.status_code == 503
    assert response.get_json()["NeutronError"]["type"] == "NoNetworkAvailable"


def test_provider_networks_are_admin_only_and_checked(alice, admin):
    flat = {"provider:network_type": "flat", "provider:physical_network": "physnet1"}
    response = alice.post("/v2.0/networks", json={"network": flat})
    assert response.status_code == 403
    assert response.get_json()["NeutronError"]["type"] == "PolicyNotAuthorized"
    network = admin.network(**flat)
    assert network["mtu"] == 1500 and network["provider:segmentation_id"] is None
    again = admin.post("/v2.0/networks", json={"network": flat})
    assert again.status_code == 409
    assert again.get_json()["NeutronError"]["type"] == "FlatNetworkInUse"
    unknown = admin.post("/v2.0/networks", json={"network": {
        "provider:network_type": "vlan", "provider:physical_network": "physnet9"}})
    assert unknown.status_code == 400 and "physnet9" in unknown.get_json()[
        "NeutronError"]["message"]


def test_vlan_ids_come_from_the_range_or_the_admin(admin):
    vlan = {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}
    assert admin.network(**vlan)["provider:segmentation_id"] == 100
    assert admin.network(**vlan, **{"provider:segmentation_id": 7})[
        "provider:segmentation_id"] == 7
    taken = admin.post("/v2.0/networks", json={"network": {
        **vlan, "provider:segmentation_id": 7}})
    assert taken.status_code == 409 and taken.get_json()["NeutronError"]["type"] == \
        "VlanIdInUse"


def test_other_projects_see_shared_and_external_networks_only(alice, bob, admin):
    private = alice.network(name="private")
    shared = admin.network(name="shared", shared=True)
    public = admin.network(name="public", **{"router:external": True})
    seen = {n["id"] for n in bob.get("/v2.0/networks").get_json()["networks"]}
    assert seen == {shared["id"], public["id"]}
    missing = bob.get(f"/v2.0/networks/{private['id']}")
    assert missing.status_code == 404
    assert missing.get_json()["NeutronError"]["type"] == "NetworkNotFound"
    assert bob.delete(f"/v2.0/networks/{private['id']}").status_code == 404
    assert bob.put(f"/v2.0/networks/{shared['id']}",
                   json={"network": {"name": "mine"}}).status_code == 404


def test_sharing_and_external_are_admin_only(alice):
    for attribute in ("shared", "router:external"):
        response = alice.post("/v2.0/networks", json={"network": {attribute: True}})
        assert response.status_code == 403, attribute


def test_update_bumps_the_revision_and_refuses_read_only_attributes(alice, changes):
    network = alice.network()
    response = alice.put(f"/v2.0/networks/{network['id']}",
                         json={"network": {"name": "renamed", "admin_state_up": False}})
    updated = response.get_json()["network"]
    assert updated["name"] == "renamed" and updated["admin_state_up"] is False
    assert updated["revision_number"] == network["revision_number"] + 1
    assert alice.put(f"/v2.0/networks/{network['id']}",
                     json={"network": {"mtu": 9000}}).status_code == 400
    unknown = alice.put(f"/v2.0/networks/{network['id']}", json={"network": {"colour": 1}})
    assert unknown.status_code == 400
    assert "Unrecognized attribute(s) 'colour'" in unknown.get_json()["NeutronError"]["message"]
    assert changes   # the agents were told


def test_deleting_a_network_with_ports_is_409_and_dhcp_ports_go_with_it(alice, admin):
    network = alice.network()
    alice.subnet(network)
    port = alice.port(network)
    response = alice.delete(f"/v2.0/networks/{network['id']}")
    assert response.status_code == 409
    error = response.get_json()["NeutronError"]
    assert error["type"] == "NetworkInUse" and "still in use" in error["message"]
    assert alice.delete(f"/v2.0/ports/{port['id']}").status_code == 204
    admin.port(network, device_owner="network:dhcp", device_id="dhcp-host")
    assert alice.delete(f"/v2.0/networks/{network['id']}").status_code == 204
    assert admin.get("/v2.0/ports").get_json()["ports"] == []
    assert alice.get("/v2.0/subnets").get_json()["subnets"] == []


def test_bulk_create_is_all_or_nothing(alice):
    response = alice.post("/v2.0/networks", json={"networks": [{"name": "a"}, {"name": "b"}]})
    assert response.status_code == 201
    assert [n["name"] for n in response.get_json()["networks"]] == ["a", "b"]
    bad = alice.post("/v2.0/networks", json={"networks": [{"name": "c"}, {"shared": "maybe"}]})
    assert bad.status_code == 400
    names = {n["name"] for n in alice.get("/v2.0/networks").get_json()["networks"]}
    assert names == {"a", "b"}


@pytest.mark.parametrize("body", [None, [], {"net": {}}, {"network": []}])
def test_a_malformed_body_is_400_with_neutrons_error(alice, body):
    response = alice.post("/v2.0/networks", json=body)
    assert response.status_code == 400
    assert set(response.get_json()["NeutronError"]) == {"type", "message", "detail"}


def test_availability_zone_hints_must_name_a_zone(alice):
    assert alice.network(availability_zone_hints=["nova"])["availability_zone_hints"] == ["nova"]
    response = alice.post("/v2.0/networks", json={"network": {
        "availability_zone_hints": ["mars"]}})
    assert response.status_code == 404
    assert response.get_json()["NeutronError"]["type"] == "AvailabilityZoneNotFound"


def test_deleting_an_external_network_takes_its_floating_ips(admin):
    public = admin.network(**{"router:external": True})
    admin.subnet(public, "172.24.4.0/24", enable_dhcp=False)
    floating_ip = admin.create("floatingip", floating_network_id=public["id"])
    assert admin.delete(f"/v2.0/networks/{public['id']}").status_code == 204
    assert admin.get(f"/v2.0/floatingips/{floating_ip['id']}").status_code == 404
    assert admin.get("/v2.0/ports").get_json()["ports"] == []
