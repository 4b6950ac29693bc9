"""Every list: filters, fields, sorting, paging and tags, as Neutron answers them."""
from urllib.parse import parse_qs, urlsplit

import pytest


def names(response, collection="networks") -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()[collection]]


@pytest.fixture
def networks(alice):
    return [alice.network(name=name, admin_state_up=name != "c") for name in "dbca"]


def test_filters_repeat_as_any_of_and_booleans_convert(alice, networks):
    assert sorted(names(alice.get("/v2.0/networks?name=a&name=b"))) == ["a", "b"]
    assert names(alice.get("/v2.0/networks?admin_state_up=False")) == ["c"]
    assert names(alice.get("/v2.0/networks?name=")) != []   # an empty value filters nothing


def test_an_unknown_filter_is_400(alice, networks):
    response = alice.get("/v2.0/networks?colour=blue")
    assert response.status_code == 400
    assert response.get_json()["NeutronError"]["message"] == \
        "['colour'] is invalid attribute for filtering"
    assert alice.get("/v2.0/networks?shared=perhaps").status_code == 400


def test_fields_return_only_what_was_asked(alice, networks):
    body = alice.get("/v2.0/networks?fields=id&fields=mtu").get_json()
    assert all(sorted(item) == ["id", "mtu"] for item in body["networks"])
    shown = alice.get(f"/v2.0/networks/{networks[0]['id']}?fields=name").get_json()
    assert shown == {"network": {"name": "d"}}


def test_sort_keys_and_dirs_pair_up(alice, networks):
    assert names(alice.get("/v2.0/networks?sort_key=name&sort_dir=asc")) == list("abcd")
    assert names(alice.get("/v2.0/networks?sort_key=admin_state_up&sort_dir=asc"
                           "&sort_key=name&sort_dir=desc")) == list("cdba")
    assert alice.get("/v2.0/networks?sort_key=name").status_code == 400
    assert alice.get("/v2.0/networks?sort_key=colour&sort_dir=asc").status_code == 400
    assert alice.get("/v2.0/networks?sort_key=name&sort_dir=up").status_code == 400


def test_limit_and_marker_page_forwards_and_back(alice, networks):
    first = alice.get("/v2.0/networks?sort_key=name&sort_dir=asc&limit=2").get_json()
    assert [n["name"] for n in first["networks"]] == ["a", "b"]
    links = {link["rel"]: link["href"] for link in first["networks_links"]}
    following = urlsplit(links["next"])
    second = alice.get(f"{following.path}?{following.query}").get_json()
    assert [n["name"] for n in second["networks"]] == ["c", "d"]
    back = {link["rel"]: link["href"] for link in second["networks_links"]}["previous"]
    assert parse_qs(urlsplit(back).query)["page_reverse"] == ["True"]
    previous = alice.get(f"{urlsplit(back).path}?{urlsplit(back).query}").get_json()
    assert [n["name"] for n in previous["networks"]] == ["a", "b"]
    assert "networks_links" not in alice.get("/v2.0/networks").get_json()
    assert alice.get("/v2.0/networks?limit=-1").status_code == 400


def test_tag_filters(alice, networks):
    a, b = networks[3], networks[1]
    alice.put(f"/v2.0/networks/{a['id']}/tags", json={"tags": ["red", "blue"]})
    alice.put(f"/v2.0/networks/{b['id']}/tags/red")
    assert sorted(names(alice.get("/v2.0/networks?tags=red"))) == ["a", "b"]
    assert names(alice.get("/v2.0/networks?tags=red,blue")) == ["a"]
    assert sorted(names(alice.get("/v2.0/networks?tags-any=blue,green"))) == ["a"]
    assert sorted(names(alice.get("/v2.0/networks?not-tags=red,blue"))) == ["b", "c", "d"]
    assert sorted(names(alice.get("/v2.0/networks?not-tags-any=red"))) == ["c", "d"]


def test_ports_filter_by_fixed_ip_and_substring(alice):
    network = alice.network()
    subnet = alice.subnet(network, "10.0.0.0/24")
    one = alice.port(network, name="one", fixed_ips=[{"ip_address": "10.0.0.15"}])
    alice.port(network, name="two", fixed_ips=[{"ip_address": "10.0.0.25"}])
    assert names(alice.get("/v2.0/ports?fixed_ips=ip_address%3D10.0.0.15"), "ports") == ["one"]
    assert sorted(names(alice.get(f"/v2.0/ports?fixed_ips=subnet_id%3D{subnet['id']}"),
                        "ports")) == ["one", "two"]
    assert names(alice.get("/v2.0/ports?fixed_ips=ip_address_substr%3D.1"), "ports") == ["one"]
    assert names(alice.get(f"/v2.0/ports?device_id=&network_id={network['id']}"
                           f"&security_groups={one['security_groups'][0]}&sort_key=name"
                           "&sort_dir=asc"), "ports") == ["one", "two"]


def test_tags_on_a_resource(alice, bob):
    network = alice.network()
    path = f"/v2.0/networks/{network['id']}/tags"
    assert alice.put(f"{path}/red").status_code == 201
    assert alice.get(f"{path}/red").status_code == 204
    missing = alice.get(f"{path}/blue")
    assert missing.status_code == 404 and missing.get_json()["NeutronError"]["type"] == \
        "TagNotFound"
    assert alice.put(path, json={"tags": ["b", "a"]}).get_json() == {"tags": ["a", "b"]}
    assert alice.get(path).get_json() == {"tags": ["a", "b"]}
    shown = alice.get(f"/v2.0/networks/{network['id']}").get_json()["network"]
    assert shown["tags"] == ["a", "b"] and shown["revision_number"] == 2
    assert bob.put(f"{path}/x").status_code == 404
    assert alice.delete(f"{path}/a").status_code == 204
    assert alice.delete(path).status_code == 204 and alice.get(path).get_json()["tags"] == []
    subnet = alice.subnet(network)
    assert alice.put(f"/v2.0/subnets/{subnet['id']}/tags/s").status_code == 201
    assert names(alice.get("/v2.0/subnets?tags=s"), "subnets") == [""]
    assert alice.post("/v2.0/networks", json={"network": {"tags": ["t1"]}}).get_json()[
        "network"]["tags"] == ["t1"]
