"""Every identity resource route: tokens, bad input, unknown ids."""
from tests.unit.identity.conftest import error


def test_every_resource_route_asks_for_a_token(cloud):
    for path in ("/v3/users", "/v3/projects", "/v3/domains", "/v3/roles", "/v3/groups",
                 "/v3/regions", "/v3/services", "/v3/endpoints", "/v3/role_assignments"):
        response = cloud.get(path, as_=None)
        assert response.status_code == 401, path
        assert error(response)["title"] == "Unauthorized"


def test_a_malformed_body_is_a_400_naming_the_problem_never_a_500(cloud):
    response = cloud.post("/v3/projects", data=b'{"project": {"name": ', as_="admin",
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "Malformed request body" in error(response)["message"]

    response = cloud.post("/v3/users", data=b"", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_a_schema_violation_names_the_field(cloud):
    response = cloud.post("/v3/projects", json={"project": {"name": "x", "enabled": "yes"}})
    assert response.status_code == 400
    assert "enabled" in error(response)["message"]

    response = cloud.post("/v3/users", json={"user": {}})
    assert response.status_code == 400
    assert "name" in error(response)["message"]


def test_unknown_ids_are_404_naming_the_kind(cloud):
    for kind, path in (("user", "users"), ("project", "projects"), ("domain", "domains"),
                       ("group", "groups"), ("role", "roles"), ("region", "regions"),
                       ("service", "services"), ("endpoint", "endpoints")):
        response = cloud.get(f"/v3/{path}/nope")
        assert response.status_code == 404, path
        assert error(response)["message"] == f"Could not find {kind}: nope."


def test_head_answers_like_get_without_a_body(cloud):
    response = cloud.head(f"/v3/projects/{cloud.ids['project_a']}")
    assert response.status_code == 200
    assert response.data == b""


def test_a_domain_reader_sees_only_their_domain(cloud):
    other = cloud.post("/v3/domains", json={"domain": {"name": "other"}}).get_json()["domain"]
    cloud.post("/v3/users", json={"user": {"name": "outsider", "domain_id": other["id"]}})
    cloud.login("domain-reader", cloud.ids["bob"], roles=["reader"], domain_id="default")

    users = cloud.get("/v3/users", as_="domain-reader").get_json()["users"]
    assert sorted(u["name"] for u in users) == ["admin", "alice", "bob"]
    projects = cloud.get("/v3/projects", as_="domain-reader").get_json()["projects"]
    assert {p["domain_id"] for p in projects} == {"default"}
    assert [d["id"] for d in cloud.get("/v3/domains", as_="domain-reader")
            .get_json()["domains"]] == ["default"]
    assert cloud.get(f"/v3/domains/{other['id']}", as_="domain-reader").status_code == 403
    response = cloud.post("/v3/projects", json={"project": {"name": "x"}}, as_="domain-reader")
    assert response.status_code == 403
