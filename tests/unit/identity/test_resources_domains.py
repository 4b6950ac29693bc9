"""Domains: create, list, show, update, delete, as Keystone's api-ref describes them."""
from tests.unit.identity.conftest import error


def _create(cloud, **fields):
    response = cloud.post("/v3/domains", json={"domain": {"name": "acme", **fields}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["domain"]


def test_an_admin_creates_a_domain_and_sees_it_as_keystone_renders_it(cloud):
    domain = _create(cloud, description="Acme Inc", tags=["gold"])
    assert domain["name"] == "acme" and domain["enabled"] is True
    assert domain["description"] == "Acme Inc" and domain["tags"] == ["gold"]
    assert domain["options"] == {}
    assert domain["links"]["self"].endswith(f"/v3/domains/{domain['id']}")

    shown = cloud.get(f"/v3/domains/{domain['id']}").get_json()["domain"]
    assert shown == domain
    listed = cloud.get("/v3/domains?name=acme").get_json()
    assert [d["id"] for d in listed["domains"]] == [domain["id"]]
    assert listed["links"]["self"].endswith("/v3/domains")


def test_a_domain_may_name_its_own_uuid(cloud):
    domain = _create(cloud, explicit_domain_id="0123456789abcdef0123456789abcdef")
    assert domain["id"] == "0123456789abcdef0123456789abcdef"
    assert "explicit_domain_id" not in domain

    response = cloud.post("/v3/domains", json={"domain": {"name": "x",
                                                           "explicit_domain_id": "not-a-uuid"}})
    assert response.status_code == 400
    assert error(response)["message"] == "Domain ID does not conform to required UUID format."


def test_a_second_domain_with_the_same_name_conflicts(cloud):
    _create(cloud)
    response = cloud.post("/v3/domains", json={"domain": {"name": "acme"}})
    assert response.status_code == 409
    assert "acme" in error(response)["message"]


def test_an_enabled_domain_cannot_be_deleted(cloud):
    domain = _create(cloud)
    response = cloud.delete(f"/v3/domains/{domain['id']}")
    assert response.status_code == 403
    assert error(response)["message"] == ("Cannot delete a domain that is enabled, please "
                                          "disable it first.")
    response = cloud.delete("/v3/domains/default")
    assert response.status_code == 403


def test_disabling_then_deleting_a_domain_removes_what_it_owns_and_revokes(cloud):
    domain = _create(cloud)
    project = cloud.post("/v3/projects", json={"project": {
        "name": "p", "domain_id": domain["id"]}}).get_json()["project"]
    user = cloud.post("/v3/users", json={"user": {
        "name": "u", "domain_id": domain["id"]}}).get_json()["user"]
    assert cloud.put(f"/v3/projects/{project['id']}/users/{user['id']}/roles/"
                     f"{cloud.ids['role_member']}").status_code == 204

    response = cloud.patch(f"/v3/domains/{domain['id']}", json={"domain": {"enabled": False}})
    assert response.status_code == 200 and response.get_json()["domain"]["enabled"] is False
    assert {"domain_id": domain["id"]} in cloud.revoked

    assert cloud.delete(f"/v3/domains/{domain['id']}").status_code == 204
    assert cloud.get(f"/v3/domains/{domain['id']}").status_code == 404
    assert cloud.get(f"/v3/projects/{project['id']}").status_code == 404
    assert cloud.get(f"/v3/users/{user['id']}").status_code == 404
    assigned = cloud.get(f"/v3/role_assignments?user.id={user['id']}").get_json()
    assert assigned["role_assignments"] == []


def test_an_immutable_domain_cannot_change_until_made_mutable(cloud):
    domain = _create(cloud, options={"immutable": True})
    assert domain["options"] == {"immutable": True}
    response = cloud.patch(f"/v3/domains/{domain['id']}", json={"domain": {"name": "other"}})
    assert response.status_code == 403
    assert "immutable" in error(response)["message"]

    response = cloud.patch(f"/v3/domains/{domain['id']}",
                           json={"domain": {"options": {"immutable": False}}})
    assert response.status_code == 200
    response = cloud.patch(f"/v3/domains/{domain['id']}", json={"domain": {"name": "other"}})
    assert response.get_json()["domain"]["name"] == "other"


def test_a_project_member_sees_their_own_domain_but_cannot_list_or_create(cloud):
    assert cloud.get("/v3/domains/default", as_="alice").status_code == 200
    assert cloud.get("/v3/domains", as_="alice").status_code == 403
    response = cloud.post("/v3/domains", json={"domain": {"name": "mine"}}, as_="alice")
    assert response.status_code == 403
    assert error(response)["message"] == ("You are not authorized to perform the requested "
                                          "action: identity:create_domain.")


def test_a_domain_update_keeps_extra_attributes(cloud):
    domain = _create(cloud, contact="ops@example.com")
    assert domain["contact"] == "ops@example.com"
    updated = cloud.patch(f"/v3/domains/{domain['id']}",
                          json={"domain": {"description": "new"}}).get_json()["domain"]
    assert updated["contact"] == "ops@example.com" and updated["description"] == "new"
