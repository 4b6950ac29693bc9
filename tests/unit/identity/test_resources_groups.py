"""Groups and their members."""
from tests.unit.identity.conftest import error


def _create(cloud, name="ops", **fields):
    response = cloud.post("/v3/groups", json={"group": {"name": name, **fields}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["group"]


def test_a_group_is_created_listed_updated_and_deleted(cloud):
    group = _create(cloud, description="Operators", pager="555")
    assert group["domain_id"] == "default" and group["description"] == "Operators"
    assert group["pager"] == "555"
    assert group["links"]["self"].endswith(f"/v3/groups/{group['id']}")
    assert cloud.get(f"/v3/groups/{group['id']}").get_json()["group"] == group
    listed = cloud.get("/v3/groups?name=ops").get_json()["groups"]
    assert [g["id"] for g in listed] == [group["id"]]

    updated = cloud.patch(f"/v3/groups/{group['id']}",
                          json={"group": {"name": "operators"}}).get_json()["group"]
    assert updated["name"] == "operators" and updated["pager"] == "555"
    assert cloud.delete(f"/v3/groups/{group['id']}").status_code == 204
    assert cloud.get(f"/v3/groups/{group['id']}").status_code == 404


def test_a_duplicate_group_name_conflicts(cloud):
    _create(cloud)
    response = cloud.post("/v3/groups", json={"group": {"name": "ops"}})
    assert response.status_code == 409
    assert "Duplicate entry found with name ops" in error(response)["message"]


def test_membership_is_added_checked_listed_and_removed(cloud):
    group = _create(cloud)
    alice = cloud.ids["alice"]
    member = f"/v3/groups/{group['id']}/users/{alice}"
    assert cloud.head(member).status_code == 404
    response = cloud.get(member)
    assert error(response)["message"] == f"User '{alice}' not found in group '{group['id']}'"

    assert cloud.put(member).status_code == 204
    assert cloud.put(member).status_code == 204  # adding twice changes nothing
    assert cloud.head(member).status_code == 204
    users = cloud.get(f"/v3/groups/{group['id']}/users").get_json()["users"]
    assert [u["name"] for u in users] == ["alice"]
    groups = cloud.get(f"/v3/users/{alice}/groups").get_json()["groups"]
    assert [g["id"] for g in groups] == [group["id"]]
    assert groups[0]["membership_expires_at"] is None

    assert cloud.delete(member).status_code == 204
    assert cloud.revoked == [{"user_id": alice}]
    assert cloud.delete(member).status_code == 404


def test_membership_of_unknown_users_or_groups_is_404(cloud):
    group = _create(cloud)
    response = cloud.put(f"/v3/groups/{group['id']}/users/nobody")
    assert error(response)["message"] == "Could not find user: nobody."
    response = cloud.put(f"/v3/groups/nothing/users/{cloud.ids['alice']}")
    assert error(response)["message"] == "Could not find group: nothing."


def test_deleting_a_group_that_held_roles_revokes_its_members(cloud):
    group = _create(cloud)
    cloud.put(f"/v3/groups/{group['id']}/users/{cloud.ids['bob']}")
    cloud.put(f"/v3/projects/{cloud.ids['project_a']}/groups/{group['id']}/roles/"
              f"{cloud.ids['role_reader']}")
    assert cloud.delete(f"/v3/groups/{group['id']}").status_code == 204
    assert cloud.revoked == [{"user_id": cloud.ids["bob"]}]


def test_a_member_lists_their_own_groups_but_cannot_manage_groups(cloud):
    alice = cloud.ids["alice"]
    assert cloud.get(f"/v3/users/{alice}/groups", as_="alice").status_code == 200
    assert cloud.get(f"/v3/users/{cloud.ids['bob']}/groups", as_="alice").status_code == 403
    assert cloud.get("/v3/groups", as_="alice").status_code == 403
    assert cloud.post("/v3/groups", json={"group": {"name": "x"}},
                      as_="alice").status_code == 403
