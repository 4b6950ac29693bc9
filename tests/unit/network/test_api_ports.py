"""Ports: addresses, MACs, security groups, port security, bindings and who may do what."""
import pytest

from undercloud.network import ipam


def error(response) -> dict:
    return response.get_json()["NeutronError"]


@pytest.fixture
def network(alice):
    network = alice.network()
    network["subnet"] = alice.subnet(network, "10.0.0.0/29")
    return network


def test_a_port_gets_the_first_free_address_a_mac_and_the_default_group(alice, network):
    port = alice.port(network, name="web")
    assert port["fixed_ips"] == [{"subnet_id": network["subnet"]["id"],
                                  "ip_address": "10.0.0.2"}]
    assert port["mac_address"].startswith("fa:16:3e:") and port["status"] == "DOWN"
    assert len(port["security_groups"]) == 1   # the project's default group
    second = alice.port(network)
    assert second["fixed_ips"][0]["ip_address"] == "10.0.0.3"
    assert second["security_groups"] == port["security_groups"]


def test_a_fixed_ip_outside_its_subnet_is_400(alice, network):
    response = alice.post("/v2.0/ports", json={"port": {
        "network_id": network["id"],
        "fixed_ips": [{"subnet_id": network["subnet"]["id"], "ip_address": "10.9.9.9"}]}})
    assert response.status_code == 400 and error(response)["type"] == "InvalidIpForSubnet"
    broadcast = alice.post("/v2.0/ports", json={"port": {
        "network_id": network["id"], "fixed_ips": [{"ip_address": "10.0.0.7"}]}})
    assert broadcast.status_code == 400 and error(broadcast)["type"] == "InvalidIpForNetwork"


def test_a_used_fixed_ip_is_409_and_an_exhausted_pool_is_409(alice, network):
    alice.port(network, fixed_ips=[{"ip_address": "10.0.0.4"}])
    again = alice.post("/v2.0/ports", json={"port": {
        "network_id": network["id"], "fixed_ips": [{"ip_address": "10.0.0.4"}]}})
    assert again.status_code == 409 and error(again)["type"] == "IpAddressAlreadyAllocated"
    for _ in range(4):   # 10.0.0.2 .. 10.0.0.6 minus .4
        alice.port(network)
    full = alice.post("/v2.0/ports", json={"port": {"network_id": network["id"]}})
    assert full.status_code == 409
    assert error(full) == {"type": "IpAddressGenerationFailure", "detail": "",
                           "message": f"No more IP addresses available on network "
                                      f"{network['id']}."}


def test_a_given_mac_is_kept_and_a_taken_one_is_409(alice, network):
    port = alice.port(network, mac_address="FA:16:3E:00:00:01")
    assert port["mac_address"] == "fa:16:3e:00:00:01"
    taken = alice.post("/v2.0/ports", json={"port": {"network_id": network["id"],
                                                     "mac_address": "fa:16:3e:00:00:01"}})
    assert taken.status_code == 409 and error(taken)["type"] == "MacAddressInUse"
    bad = alice.post("/v2.0/ports", json={"port": {"network_id": network["id"],
                                                   "mac_address": "01:00:5e:00:00:01"}})
    assert bad.status_code == 400


def test_slaac_ports_get_their_eui64_address(alice):
    network = alice.network()
    subnet = alice.subnet(network, "2001:db8:1::/64", ipv6_ra_mode="slaac",
                          ipv6_address_mode="slaac")
    stateful = alice.subnet(network, "2001:db8:2::/64", ipv6_address_mode="dhcpv6-stateful")
    port = alice.port(network, mac_address="fa:16:3e:12:34:56")
    addresses = {ip["subnet_id"]: ip["ip_address"] for ip in port["fixed_ips"]}
    assert addresses[subnet["id"]] == "2001:db8:1:0:f816:3eff:fe12:3456"
    assert addresses[stateful["id"]] == "2001:db8:2::2"
    wrong = alice.post("/v2.0/ports", json={"port": {
        "network_id": network["id"],
        "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": "2001:db8:1::5"}]}})
    assert wrong.status_code == 400


def test_eui64_is_rfc_4291s():
    assert ipam.eui64("2001:db8::/64", "00:16:3e:33:44:55") == "2001:db8::216:3eff:fe33:4455"


def test_a_new_slaac_subnet_gives_existing_ports_an_address(alice, changes):
    network = alice.network()
    alice.subnet(network, "10.0.0.0/24")
    port = alice.port(network, device_owner="compute:nova", device_id="vm-1")
    alice.subnet(network, "2001:db8::/64", ipv6_address_mode="slaac", ipv6_ra_mode="slaac")
    shown = alice.get(f"/v2.0/ports/{port['id']}").get_json()["port"]
    assert len(shown["fixed_ips"]) == 2
    assert changes[-1] == ["vm-1"]   # compute refreshes the instance's addresses


def test_update_fixed_ips_keeps_named_addresses(alice, network):
    second = alice.subnet(network, "10.0.1.0/29")
    port = alice.port(network, fixed_ips=[{"subnet_id": network["subnet"]["id"]},
                                          {"subnet_id": second["id"]}])
    assert len(port["fixed_ips"]) == 2
    one = alice.put(f"/v2.0/ports/{port['id']}", json={"port": {
        "fixed_ips": [{"subnet_id": network["subnet"]["id"]}]}}).get_json()["port"]
    assert one["fixed_ips"] == port["fixed_ips"][:1]
    two = alice.put(f"/v2.0/ports/{port['id']}", json={"port": {
        "fixed_ips": [port["fixed_ips"][0], {"subnet_id": second["id"]}]}}).get_json()["port"]
    assert len(two["fixed_ips"]) == 2


def test_port_security_off_means_no_groups_and_no_address_pairs(alice, network):
    port = alice.port(network, port_security_enabled=False)
    assert port["security_groups"] == []
    with_pairs = alice.post("/v2.0/ports", json={"port": {
        "network_id": network["id"], "port_security_enabled": False,
        "allowed_address_pairs": [{"ip_address": "10.0.0.100"}]}})
    assert with_pairs.status_code == 409
    secured = alice.port(network)
    off = alice.put(f"/v2.0/ports/{secured['id']}",
                    json={"port": {"port_security_enabled": False}})
    assert off.status_code == 409 and error(off)["type"] == "PortSecurityPortHasSecurityGroup"
    cleared = alice.put(f"/v2.0/ports/{secured['id']}", json={"port": {
        "port_security_enabled": False, "security_groups": []}})
    assert cleared.status_code == 200
    assert cleared.get_json()["port"]["security_groups"] == []


def test_allowed_address_pairs_and_extra_dhcp_options(alice, network):
    port = alice.port(network, allowed_address_pairs=[{"ip_address": "10.0.0.0/29"}],
                      extra_dhcp_opts=[{"opt_name": "bootfile-name", "opt_value": "pxe.0"}])
    assert port["allowed_address_pairs"] == [{"ip_address": "10.0.0.0/29",
                                              "mac_address": port["mac_address"]}]
    assert port["extra_dhcp_opts"] == [{"opt_name": "bootfile-name", "opt_value": "pxe.0",
                                        "ip_version": 4}]
    removed = alice.put(f"/v2.0/ports/{port['id']}", json={"port": {
        "extra_dhcp_opts": [{"opt_name": "bootfile-name", "opt_value": None}]}})
    assert removed.get_json()["port"]["extra_dhcp_opts"] == []


def test_bindings_are_the_admins(alice, admin, network):
    denied = alice.post("/v2.0/ports", json={"port": {"network_id": network["id"],
                                                      "binding:host_id": "host1"}})
    assert denied.status_code == 403
    port = admin.port(network, **{"binding:host_id": "host1"})
    assert port["binding:vif_type"] == "bridge" and port["binding:vif_details"][
        "port_filter"] is True
    seen = alice.get(f"/v2.0/ports/{port['id']}").get_json()["port"]
    assert "binding:host_id" not in seen and seen["binding:vnic_type"] == "normal"
    unbound = admin.put(f"/v2.0/ports/{port['id']}", json={"port": {"binding:host_id": ""}})
    assert unbound.get_json()["port"]["binding:vif_type"] == "unbound"


def test_other_projects_cannot_see_or_touch_a_port(alice, bob, admin, network):
    port = alice.port(network)
    assert bob.get(f"/v2.0/ports/{port['id']}").status_code == 404
    assert bob.delete(f"/v2.0/ports/{port['id']}").status_code == 404
    assert bob.get("/v2.0/ports").get_json()["ports"] == []
    shared = admin.network(shared=True)
    admin.subnet(shared, "10.5.0.0/24")
    own = bob.port(shared)
    assert own["project_id"] == "p-bob"
    taken = bob.post("/v2.0/ports", json={"port": {
        "network_id": shared["id"], "fixed_ips": [{"ip_address": "10.5.0.50"}]}})
    assert taken.status_code == 403   # addresses on a network are its owner's to choose


def test_router_owned_ports_are_not_deleted_directly(alice, admin, network):
    from undercloud.network.models import Router
    router = Router.create(project_id="p-alice", name="r")
    port = alice.port(network, device_owner="network:router_interface", device_id=router.id)
    response = alice.delete(f"/v2.0/ports/{port['id']}")
    assert response.status_code == 409 and error(response)["type"] == "L3PortInUse"


def test_bulk_ports_and_deleting_tells_compute(alice, network, changes):
    response = alice.post("/v2.0/ports", json={"ports": [
        {"network_id": network["id"], "device_owner": "compute:nova", "device_id": "vm-7"},
        {"network_id": network["id"], "admin_state_up": False}]})
    created = response.get_json()["ports"]
    assert response.status_code == 201 and [p["admin_state_up"] for p in created] == [True,
                                                                                      False]
    assert changes[-1] == ["vm-7"]
    alice.delete(f"/v2.0/ports/{created[0]['id']}")
    assert changes[-1] == ["vm-7"]


def test_ports_go_on_own_or_shared_networks_only(alice, bob, admin):
    public = admin.network(**{"router:external": True})
    admin.subnet(public, "172.24.4.0/24")
    assert bob.post("/v2.0/ports", json={"port": {"network_id": public["id"]}}).status_code \
        == 404
    assert bob.post("/v2.0/subnets", json={"subnet": {
        "network_id": public["id"], "cidr": "10.0.0.0/24", "ip_version": 4}}).status_code == 404
    assert admin.port(public, project_id="p-bob")["project_id"] == "p-bob"
