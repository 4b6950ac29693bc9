"""The catalog: regions, services and endpoints."""
from tests.unit.identity.conftest import error


def _service(cloud, **fields):
    response = cloud.post("/v3/services", json={"service": {"type": "compute", "name": "nova",
                                                             **fields}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["service"]


def test_regions_take_their_own_ids_and_form_a_tree(cloud):
    response = cloud.put("/v3/regions/RegionOne", json={"region": {"description": "first"}})
    assert response.status_code == 201
    region = response.get_json()["region"]
    assert region == {"id": "RegionOne", "description": "first", "parent_region_id": None,
                      "links": {"self": region["links"]["self"]}}
    assert region["links"]["self"].endswith("/v3/regions/RegionOne")

    child = cloud.post("/v3/regions", json={"region": {"id": "RegionOne-a",
                                                        "parent_region_id": "RegionOne"}})
    assert child.status_code == 201
    generated = cloud.post("/v3/regions", json={"region": {}}).get_json()["region"]
    assert len(generated["id"]) == 32

    listed = cloud.get("/v3/regions?parent_region_id=RegionOne").get_json()["regions"]
    assert [r["id"] for r in listed] == ["RegionOne-a"]

    response = cloud.put("/v3/regions/RegionOne", json={"region": {}})
    assert response.status_code == 409
    assert error(response)["message"] == ("Conflict occurred attempting to store region - "
                                          "Duplicate ID, RegionOne.")
    response = cloud.patch("/v3/regions/RegionOne",
                           json={"region": {"parent_region_id": "RegionOne-a"}})
    assert response.status_code == 400
    assert "circular region hierarchy" in error(response)["message"]
    response = cloud.post("/v3/regions", json={"region": {"parent_region_id": "nope"}})
    assert response.status_code == 404
    response = cloud.put("/v3/regions/x", json={"region": {"id": "y"}})
    assert error(response)["message"] == 'Conflicting region IDs specified: "x" != "y"'

    assert cloud.delete("/v3/regions/RegionOne").status_code == 204
    assert cloud.get("/v3/regions/RegionOne-a").status_code == 404


def test_services_are_created_filtered_updated_and_deleted(cloud):
    service = _service(cloud, description="Compute service")
    assert service["type"] == "compute" and service["name"] == "nova"
    assert service["enabled"] is True and service["description"] == "Compute service"
    assert service["links"]["self"].endswith(f"/v3/services/{service['id']}")
    _service(cloud, type="image", name="glance")
    assert [s["name"] for s in cloud.get("/v3/services?type=compute").get_json()["services"]] \
        == ["nova"]
    updated = cloud.patch(f"/v3/services/{service['id']}",
                          json={"service": {"enabled": False}}).get_json()["service"]
    assert updated["enabled"] is False
    assert cloud.delete(f"/v3/services/{service['id']}").status_code == 204
    assert cloud.get(f"/v3/services/{service['id']}").status_code == 404
    assert cloud.post("/v3/services", json={"service": {"name": "x"}}).status_code == 400


def test_endpoints_need_a_known_service_and_region_and_a_valid_interface(cloud):
    service = _service(cloud)
    cloud.put("/v3/regions/RegionOne", json={"region": {}})
    body = {"service_id": service["id"], "interface": "public",
            "url": "http://compute.example:8774/v2.1", "region_id": "RegionOne"}
    response = cloud.post("/v3/endpoints", json={"endpoint": body})
    assert response.status_code == 201
    endpoint = response.get_json()["endpoint"]
    assert endpoint["region"] == endpoint["region_id"] == "RegionOne"
    assert endpoint["enabled"] is True and endpoint["url"] == body["url"]

    response = cloud.post("/v3/endpoints", json={"endpoint": {**body, "interface": "private"}})
    assert response.status_code == 400
    assert "interface" in error(response)["message"]
    response = cloud.post("/v3/endpoints", json={"endpoint": {**body, "service_id": "nope"}})
    assert response.status_code == 400
    assert "endpoint service_id in service table" in error(response)["message"]
    response = cloud.post("/v3/endpoints", json={"endpoint": {**body, "region_id": "nope"}})
    assert response.status_code == 400
    assert "endpoint region_id in region table" in error(response)["message"]

    # The legacy `region` attribute creates the region it names.
    legacy = {k: v for k, v in body.items() if k != "region_id"}
    response = cloud.post("/v3/endpoints", json={"endpoint": {**legacy, "region": "RegionTwo",
                                                              "interface": "internal"}})
    assert response.status_code == 201
    assert cloud.get("/v3/regions/RegionTwo").status_code == 200

    found = cloud.get("/v3/endpoints?interface=public").get_json()["endpoints"]
    assert [e["id"] for e in found] == [endpoint["id"]]
    response = cloud.patch(f"/v3/endpoints/{endpoint['id']}",
                           json={"endpoint": {"url": "https://compute.example/v2.1"}})
    assert response.get_json()["endpoint"]["url"] == "https://compute.example/v2.1"

    response = cloud.delete("/v3/regions/RegionOne")
    assert response.status_code == 403
    assert "associated endpoints" in error(response)["message"]
    assert cloud.delete(f"/v3/endpoints/{endpoint['id']}").status_code == 204
    assert cloud.get(f"/v3/endpoints/{endpoint['id']}").status_code == 404


def test_anyone_reads_regions_but_only_admins_see_services_and_endpoints(cloud):
    assert cloud.get("/v3/regions", as_="alice").status_code == 200
    assert cloud.get("/v3/services", as_="alice").status_code == 403
    assert cloud.get("/v3/endpoints", as_="alice").status_code == 403
    assert cloud.post("/v3/regions", json={"region": {}}, as_="alice").status_code == 403
    assert cloud.get("/v3/services", as_="system-reader").status_code == 200
