"""Subnets: cidr checks, gateways, allocation pools, IPv6 modes, pools and deleting."""
import pytest


def error(response) -> dict:
    return response.get_json()["NeutronError"]


def test_defaults_gateway_first_address_and_pool_the_rest(alice):
    network = alice.network()
    subnet = alice.subnet(network, "10.1.0.0/28", dns_nameservers=["8.8.8.8"],
                          host_routes=[{"destination": "10.20.0.0/32", "nexthop": "10.1.0.9"}])
    assert subnet["gateway_ip"] == "10.1.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.1.0.2", "end": "10.1.0.14"}]
    assert subnet["dns_nameservers"] == ["8.8.8.8"]
    shown = alice.get(f"/v2.0/networks/{network['id']}").get_json()["network"]
    assert shown["subnets"] == [subnet["id"]]


def test_no_gateway_and_a_gateway_inside_the_range(alice):
    network = alice.network()
    assert alice.subnet(network, "10.2.0.0/24", gateway_ip=None)["gateway_ip"] is None
    subnet = alice.subnet(network, "10.3.0.0/29", gateway_ip="10.3.0.4")
    assert subnet["allocation_pools"] == [{"start": "10.3.0.1", "end": "10.3.0.3"},
                                          {"start": "10.3.0.5", "end": "10.3.0.6"}]


@pytest.mark.parametrize("cidr, words", [
    ("10.0.0.1/24", "'10.0.0.0/24' is recommended"),
    ("10.0.0.0", "isn't a recognized IP subnet cidr"),
    ("not-a-cidr", "is not a valid IP subnet"),
    ("0.0.0.0/0", "0 is not allowed as CIDR prefix length"),
    ("2001:db8::/64", "does not match ip_version"),
])
def test_bad_cidrs_are_400(alice, cidr, words):
    network = alice.network()
    response = alice.post("/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": cidr, "ip_version": 4}})
    assert response.status_code == 400 and words in error(response)["message"]


def test_overlapping_cidrs_on_one_network_are_400(alice):
    network = alice.network()
    alice.subnet(network, "10.0.0.0/24")
    response = alice.post("/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": "10.0.0.128/25", "ip_version": 4}})
    assert response.status_code == 400
    assert "overlaps with another subnet" in error(response)["message"]
    assert alice.subnet(alice.network(), "10.0.0.0/24")   # another network may reuse it


@pytest.mark.parametrize("pools, gateway, status, kind", [
    ([{"start": "10.0.0.10", "end": "10.0.1.5"}], "10.0.0.1", 400, "OutOfBoundsAllocationPool"),
    ([{"start": "10.0.0.20", "end": "10.0.0.10"}], "10.0.0.1", 400, "InvalidAllocationPool"),
    ([{"start": "10.0.0.2", "end": "10.0.0.20"}, {"start": "10.0.0.15", "end": "10.0.0.30"}],
     "10.0.0.1", 400, "OverlappingAllocationPools"),
    ([{"start": "10.0.0.1", "end": "10.0.0.20"}], "10.0.0.5", 409,
     "GatewayConflictWithAllocationPools"),
])
def test_allocation_pools_are_checked(alice, pools, gateway, status, kind):
    network = alice.network()
    response = alice.post("/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": "10.0.0.0/24", "ip_version": 4,
        "gateway_ip": gateway, "allocation_pools": pools}})
    assert response.status_code == status and error(response)["type"] == kind


@pytest.mark.parametrize("ra, address", [
    ("dhcpv6-stateless", "dhcpv6-stateful"), ("slaac", "dhcpv6-stateless"),
    ("dhcpv6-stateful", "slaac")])
def test_ipv6_modes_must_agree(alice, ra, address):
    network = alice.network()
    response = alice.post("/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": "2001:db8::/64", "ip_version": 6,
        "ipv6_ra_mode": ra, "ipv6_address_mode": address}})
    assert response.status_code == 400


def test_ipv6_modes_need_ipv6_and_slaac_needs_a_64(alice):
    network = alice.network()
    v4 = alice.post("/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": "10.0.0.0/24", "ip_version": 4,
        "ipv6_address_mode": "slaac"}})
    assert v4.status_code == 400
    small = alice.post("/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "cidr": "2001:db8::/80", "ip_version": 6,
        "ipv6_address_mode": "slaac"}})
    assert small.status_code == 400 and "/64" in error(small)["message"]


def test_update_gateway_dns_routes_and_cidr_stays(alice):
    network = alice.network()
    subnet = alice.subnet(network, "10.0.0.0/24",
                          allocation_pools=[{"start": "10.0.0.3", "end": "10.0.0.7"}])
    response = alice.put(f"/v2.0/subnets/{subnet['id']}", json={"subnet": {
        "gateway_ip": "10.0.0.2", "dns_nameservers": ["7.8.8.8", "7.8.4.4"],
        "host_routes": [{"destination": "10.20.0.0/32", "nexthop": "10.0.0.9"}],
        "enable_dhcp": False, "name": "new"}})
    updated = response.get_json()["subnet"]
    assert updated["gateway_ip"] == "10.0.0.2" and updated["enable_dhcp"] is False
    assert updated["dns_nameservers"] == ["7.8.8.8", "7.8.4.4"]
    assert updated["revision_number"] == 1
    assert alice.put(f"/v2.0/subnets/{subnet['id']}",
                     json={"subnet": {"cidr": "10.9.0.0/24"}}).status_code == 400
    conflict = alice.put(f"/v2.0/subnets/{subnet['id']}",
                         json={"subnet": {"gateway_ip": "10.0.0.5"}})
    assert conflict.status_code == 409


def test_only_the_networks_owner_adds_subnets(alice, bob, admin):
    shared = admin.network(shared=True)
    response = bob.post("/v2.0/subnets", json={"subnet": {
        "network_id": shared["id"], "cidr": "10.0.0.0/24", "ip_version": 4}})
    assert response.status_code == 403
    subnet = admin.subnet(shared)
    assert bob.get(f"/v2.0/subnets/{subnet['id']}").status_code == 200
    assert bob.delete(f"/v2.0/subnets/{subnet['id']}").status_code == 404


def test_a_subnet_in_use_is_409_and_deleting_the_network_removes_it(alice):
    network = alice.network()
    subnet = alice.subnet(network)
    port = alice.port(network)
    response = alice.delete(f"/v2.0/subnets/{subnet['id']}")
    assert response.status_code == 409 and error(response)["type"] == "SubnetInUse"
    alice.delete(f"/v2.0/ports/{port['id']}")
    alice.delete(f"/v2.0/networks/{network['id']}")
    missing = alice.get(f"/v2.0/subnets/{subnet['id']}")
    assert missing.status_code == 404 and error(missing)["type"] == "SubnetNotFound"


def test_a_slaac_subnet_goes_even_with_ports_and_they_keep_the_network(alice):
    network = alice.network()
    subnet = alice.subnet(network, "2001:db8::/64", ipv6_ra_mode="slaac",
                          ipv6_address_mode="slaac")
    port = alice.port(network)
    assert port["fixed_ips"][0]["subnet_id"] == subnet["id"]
    assert alice.delete(f"/v2.0/subnets/{subnet['id']}").status_code == 204
    assert alice.get(f"/v2.0/ports/{port['id']}").get_json()["port"]["fixed_ips"] == []
    response = alice.delete(f"/v2.0/networks/{network['id']}")
    assert "There are one or more ports still in use on the network" in error(response)[
        "message"]


def test_subnets_from_a_pool(alice, admin):
    pool = alice.create("subnetpool", name="p", prefixes=["10.10.0.0/16"],
                        default_prefixlen=24, min_prefixlen=20)
    assert (pool["ip_version"], pool["max_prefixlen"]) == (4, 32)
    network = alice.network()
    first = alice.create("subnet", network_id=network["id"], ip_version=4,
                         subnetpool_id=pool["id"])
    second = alice.create("subnet", network_id=network["id"], ip_version=4,
                          subnetpool_id=pool["id"], prefixlen=28)
    assert first["cidr"] == "10.10.0.0/24" and first["subnetpool_id"] == pool["id"]
    assert second["cidr"] == "10.10.1.0/28"
    too_big = alice.post("/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "ip_version": 4, "subnetpool_id": pool["id"],
        "prefixlen": 16}})
    assert too_big.status_code == 400 and error(too_big)["type"] == \
        "MinPrefixSubnetAllocationError"
    outside = alice.post("/v2.0/subnets", json={"subnet": {
        "network_id": network["id"], "ip_version": 4, "subnetpool_id": pool["id"],
        "cidr": "192.168.0.0/24"}})
    assert outside.status_code == 409 and error(outside)["type"] == "SubnetAllocationError"
    in_use = alice.delete(f"/v2.0/subnetpools/{pool['id']}")
    assert in_use.status_code == 409


def test_the_default_pool_serves_use_default_subnetpool(alice, admin):
    no_pool = alice.post("/v2.0/subnets", json={"subnet": {
        "network_id": alice.network()["id"], "ip_version": 4, "use_default_subnetpool": True}})
    assert no_pool.status_code == 400
    assert alice.post("/v2.0/subnetpools", json={"subnetpool": {
        "prefixes": ["10.0.0.0/8"], "is_default": True}}).status_code == 403
    admin.create("subnetpool", prefixes=["10.0.0.0/8"], is_default=True, shared=True,
                 default_prefixlen=26)
    subnet = alice.create("subnet", network_id=alice.network()["id"], ip_version=4,
                          use_default_subnetpool=True)
    assert subnet["cidr"] == "10.0.0.0/26"


def test_subnet_pool_crud_and_bounds(alice, bob):
    pool = alice.create("subnetpool", name="v6", prefixes=["2001:db8::/48"])
    assert (pool["min_prefixlen"], pool["default_prefixlen"], pool["max_prefixlen"]) == \
        (64, 64, 128)
    assert bob.get(f"/v2.0/subnetpools/{pool['id']}").status_code == 404
    renamed = alice.put(f"/v2.0/subnetpools/{pool['id']}",
                        json={"subnetpool": {"name": "renamed"}}).get_json()["subnetpool"]
    assert renamed["name"] == "renamed"
    mixed = alice.post("/v2.0/subnetpools", json={"subnetpool": {
        "prefixes": ["10.0.0.0/8", "2001:db8::/48"]}})
    assert mixed.status_code == 400
    bounds = alice.post("/v2.0/subnetpools", json={"subnetpool": {
        "prefixes": ["10.0.0.0/8"], "min_prefixlen": 24, "max_prefixlen": 16}})
    assert bounds.status_code == 400 and error(bounds)["type"] == \
        "IllegalSubnetPoolPrefixBounds"
    assert alice.delete(f"/v2.0/subnetpools/{pool['id']}").status_code == 204
    assert alice.get(f"/v2.0/subnetpools/{pool['id']}").status_code == 404


def test_a_pools_prefixes_may_grow_but_not_shrink(alice):
    pool = alice.create("subnetpool", prefixes=["10.10.0.0/16"])
    grown = alice.put(f"/v2.0/subnetpools/{pool['id']}", json={"subnetpool": {
        "prefixes": ["10.10.0.0/16", "10.20.0.0/16"]}})
    assert grown.get_json()["subnetpool"]["prefixes"] == ["10.10.0.0/16", "10.20.0.0/16"]
    shrunk = alice.put(f"/v2.0/subnetpools/{pool['id']}", json={"subnetpool": {
        "prefixes": ["10.20.0.0/16"]}})
    assert shrunk.status_code == 400 and error(shrunk)["type"] == \
        "IllegalSubnetPoolPrefixUpdate"
