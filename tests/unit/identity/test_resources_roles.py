"""Roles, global and domain-specific, and implied roles."""
from tests.unit.identity.conftest import error


def _create(cloud, name="auditor", **fields):
    response = cloud.post("/v3/roles", json={"role": {"name": name, **fields}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["role"]


def test_a_global_role_is_created_shown_updated_and_deleted(cloud):
    role = _create(cloud, description="Reads audit logs")
    assert role["domain_id"] is None and role["description"] == "Reads audit logs"
    assert role["options"] == {}
    assert role["links"]["self"].endswith(f"/v3/roles/{role['id']}")
    assert cloud.get(f"/v3/roles/{role['id']}").get_json()["role"] == role
    names = [r["name"] for r in cloud.get("/v3/roles").get_json()["roles"]]
    assert names == ["admin", "auditor", "member", "reader"]
    assert [r["id"] for r in cloud.get("/v3/roles?name=auditor").get_json()["roles"]] == \
        [role["id"]]

    updated = cloud.patch(f"/v3/roles/{role['id']}", json={"role": {"name": "inspector"}})
    assert updated.get_json()["role"]["name"] == "inspector"
    assert cloud.delete(f"/v3/roles/{role['id']}").status_code == 204
    assert cloud.get(f"/v3/roles/{role['id']}").status_code == 404


def test_a_duplicate_global_role_conflicts_but_a_domain_role_may_share_the_name(cloud):
    response = cloud.post("/v3/roles", json={"role": {"name": "admin"}})
    assert response.status_code == 409
    assert error(response)["message"] == ("Conflict occurred attempting to store role - "
                                          "Duplicate entry found with name admin.")
    domain_role = _create(cloud, "admin", domain_id="default")
    assert domain_role["domain_id"] == "default"
    # Domain roles are listed only when asked for by domain.
    assert [r["id"] for r in cloud.get("/v3/roles?domain_id=default").get_json()["roles"]] == \
        [domain_role["id"]]
    assert domain_role["id"] not in [r["id"] for r in cloud.get("/v3/roles").get_json()["roles"]]
    response = cloud.patch(f"/v3/roles/{domain_role['id']}", json={"role": {"domain_id": None}})
    assert response.status_code == 400


def test_deleting_a_role_revokes_everyone_who_held_it(cloud):
    role = _create(cloud)
    cloud.put(f"/v3/projects/{cloud.ids['project_a']}/users/{cloud.ids['alice']}/roles/"
              f"{role['id']}")
    assert cloud.delete(f"/v3/roles/{role['id']}").status_code == 204
    assert cloud.revoked == [{"user_id": cloud.ids["alice"]}]


def test_an_immutable_role_cannot_be_deleted(cloud):
    role = _create(cloud, options={"immutable": True})
    response = cloud.delete(f"/v3/roles/{role['id']}")
    assert response.status_code == 403
    assert "immutable role" in error(response)["message"]


def test_implied_roles_are_created_read_listed_and_deleted(cloud):
    auditor = _create(cloud)
    member = cloud.ids["role_member"]
    path = f"/v3/roles/{auditor['id']}/implies/{member}"
    assert cloud.head(path).status_code == 404
    response = cloud.put(path)
    assert response.status_code == 201
    inference = response.get_json()["role_inference"]
    assert inference["prior_role"]["id"] == auditor["id"]
    assert inference["implies"]["id"] == member and inference["implies"]["name"] == "member"
    assert response.get_json()["links"]["self"].endswith(path)

    assert cloud.get(path).get_json() == response.get_json()
    assert cloud.head(path).status_code == 204
    listed = cloud.get(f"/v3/roles/{auditor['id']}/implies").get_json()["role_inference"]
    assert [r["name"] for r in listed["implies"]] == ["member"]
    rules = cloud.get("/v3/role_inferences").get_json()["role_inferences"]
    assert {(r["prior_role"]["name"], i["name"]) for r in rules for i in r["implies"]} == {
        ("admin", "member"), ("member", "reader"), ("auditor", "member")}

    assert cloud.delete(path).status_code == 204
    response = cloud.get(path)
    assert response.status_code == 404
    assert error(response)["message"] == f"{auditor['id']} does not imply {member}."


def test_no_role_may_imply_admin_nor_a_global_role_a_domain_role(cloud):
    auditor = _create(cloud)
    response = cloud.put(f"/v3/roles/{auditor['id']}/implies/{cloud.ids['role_admin']}")
    assert response.status_code == 403
    domain_role = _create(cloud, "local", domain_id="default")
    response = cloud.put(f"/v3/roles/{auditor['id']}/implies/{domain_role['id']}")
    assert response.status_code == 403
    response = cloud.put(f"/v3/roles/{domain_role['id']}/implies/{auditor['id']}")
    assert response.status_code == 201


def test_members_cannot_read_or_manage_roles(cloud):
    assert cloud.get("/v3/roles", as_="alice").status_code == 403
    assert cloud.post("/v3/roles", json={"role": {"name": "x"}}, as_="alice").status_code == 403
    assert cloud.get("/v3/role_inferences", as_="alice").status_code == 403
    assert cloud.get("/v3/roles", as_="system-reader").status_code == 200
