"""Users: create, list, show, update, delete; a user's projects; changing one's own password."""
from tests.unit.identity.conftest import PASSWORD, error
from undercloud.identity import passwords
from undercloud.identity.models import User


def _create(cloud, name="carol", **fields):
    response = cloud.post("/v3/users", json={"user": {"name": name, **fields}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["user"]


def test_a_user_is_created_with_extra_attributes_and_never_shows_a_password(cloud):
    user = _create(cloud, password="Carol-pw-1", email="carol@example.com",
                   default_project_id=cloud.ids["project_a"], description="QA",
                   options={"ignore_lockout_failure_attempts": True})
    assert user["domain_id"] == "default" and user["enabled"] is True
    assert user["email"] == "carol@example.com" and user["description"] == "QA"
    assert user["default_project_id"] == cloud.ids["project_a"]
    assert user["options"] == {"ignore_lockout_failure_attempts": True}
    assert user["password_expires_at"] is None
    assert "password" not in user and "password_hash" not in user
    assert user["links"]["self"].endswith(f"/v3/users/{user['id']}")
    stored = User.get_by_id(user["id"])
    assert passwords.verify_password("Carol-pw-1", stored.password_hash)

    shown = cloud.get(f"/v3/users/{user['id']}").get_json()["user"]
    assert shown == user


def test_a_duplicate_user_name_in_the_domain_conflicts(cloud):
    response = cloud.post("/v3/users", json={"user": {"name": "alice"}})
    assert response.status_code == 409
    assert error(response)["message"] == ("Conflict occurred attempting to store user - "
                                          "Duplicate entry found with name alice at domain ID "
                                          "default.")


def test_unknown_options_and_domain_defaults_are_refused(cloud):
    response = cloud.post("/v3/users", json={"user": {"name": "x", "options": {"bogus": 1}}})
    assert response.status_code == 400
    response = cloud.post("/v3/users", json={"user": {"name": "x", "domain_id": "nope"}})
    assert response.status_code == 404
    assert error(response)["message"] == "Could not find domain: nope."
    response = cloud.post("/v3/users", json={"user": {"name": "x",
                                                       "default_project_id": "default"}})
    assert response.status_code == 400


def test_filters_name_domain_and_enabled(cloud):
    _create(cloud, "dave", enabled=False)
    names = lambda q: sorted(u["name"] for u in cloud.get(f"/v3/users?{q}")  # noqa: E731
                             .get_json()["users"])
    assert names("name=dave") == ["dave"]
    assert names("enabled=false") == ["dave"]
    assert names("domain_id=default") == ["admin", "alice", "bob", "dave"]
    assert names("name__icontains=AL") == ["alice"]


def test_disabling_a_password_change_and_deletion_revoke_the_users_tokens(cloud):
    user = _create(cloud, password="First-pw-1")
    response = cloud.patch(f"/v3/users/{user['id']}", json={"user": {"enabled": False}})
    assert response.get_json()["user"]["enabled"] is False
    assert cloud.revoked == [{"user_id": user["id"]}]

    response = cloud.patch(f"/v3/users/{user['id']}", json={"user": {"password": "Second-pw-2",
                                                                       "team": "blue"}})
    assert response.status_code == 200 and response.get_json()["user"]["team"] == "blue"
    assert passwords.verify_password("Second-pw-2", User.get_by_id(user["id"]).password_hash)
    assert len(cloud.revoked) == 2

    assert cloud.delete(f"/v3/users/{user['id']}").status_code == 204
    assert cloud.revoked[-1] == {"user_id": user["id"]}
    assert cloud.get(f"/v3/users/{user['id']}").status_code == 404


def test_a_user_reads_themselves_but_not_others_nor_the_list(cloud):
    assert cloud.get(f"/v3/users/{cloud.ids['alice']}", as_="alice").status_code == 200
    response = cloud.get(f"/v3/users/{cloud.ids['bob']}", as_="alice")
    assert response.status_code == 403
    assert "identity:get_user" in error(response)["message"]
    assert cloud.get("/v3/users", as_="alice").status_code == 403
    assert cloud.patch(f"/v3/users/{cloud.ids['alice']}", json={"user": {"name": "x"}},
                       as_="alice").status_code == 403


def test_a_member_lists_only_their_own_projects(cloud):
    response = cloud.get(f"/v3/users/{cloud.ids['alice']}/projects", as_="alice")
    assert response.status_code == 200
    assert [p["name"] for p in response.get_json()["projects"]] == ["project-a"]
    assert cloud.get(f"/v3/users/{cloud.ids['bob']}/projects", as_="alice").status_code == 403
    as_admin = cloud.get(f"/v3/users/{cloud.ids['bob']}/projects").get_json()["projects"]
    assert [p["name"] for p in as_admin] == ["project-b"]


def _change(cloud, user_id, original, new, as_=None):
    return cloud.post(f"/v3/users/{user_id}/password", as_=as_,
                      json={"user": {"original_password": original, "password": new}})


def test_a_user_changes_their_own_password_without_a_token(cloud):
    alice = cloud.ids["alice"]
    response = _change(cloud, alice, PASSWORD, "New-passw0rd")
    assert response.status_code == 204 and response.data == b""
    assert passwords.verify_password("New-passw0rd", User.get_by_id(alice).password_hash)
    assert cloud.revoked == [{"user_id": alice}]


def test_a_wrong_original_password_is_401(cloud):
    response = _change(cloud, cloud.ids["alice"], "wrong", "New-passw0rd")
    assert response.status_code == 401
    assert error(response)["message"] == ("Error when changing user password: Invalid user / "
                                          "password")
    assert _change(cloud, "nobody", "wrong", "x").status_code == 401
    assert cloud.revoked == []


def test_password_rules_history_and_minimum_age(compliant_cloud):
    cloud = compliant_cloud(password_regex="^.{8,}$",
                            password_regex_description="at least 8 characters",
                            unique_last_password_count=2)
    alice = cloud.ids["alice"]
    response = _change(cloud, alice, PASSWORD, "short")
    assert response.status_code == 400
    assert "at least 8 characters" in error(response)["message"]
    assert _change(cloud, alice, PASSWORD, "Second-pw-2").status_code == 204
    response = _change(cloud, alice, "Second-pw-2", PASSWORD)
    assert response.status_code == 400
    assert "previous password" in error(response)["message"]

    aged = compliant_cloud(minimum_password_age=1)
    response = _change(aged, aged.ids["bob"], PASSWORD, "Another-pw-3")
    assert response.status_code == 400
    assert "minimum password age" in error(response)["message"]


def test_an_admin_set_password_expires_at_once_when_first_use_changes_are_required(
        compliant_cloud):
    cloud = compliant_cloud(change_password_upon_first_use=True)
    user = _create(cloud, password="Initial-pw-1")
    assert user["password_expires_at"] is not None
    ignoring = _create(cloud, "erin", password="Initial-pw-1",
                       options={"ignore_change_password_upon_first_use": True})
    assert ignoring["password_expires_at"] is None
    # The user may still change the expired password, which then stops expiring.
    assert _change(cloud, user["id"], "Initial-pw-1", "Chosen-pw-2").status_code == 204
    assert cloud.get(f"/v3/users/{user['id']}").get_json()["user"]["password_expires_at"] is None


def test_a_disabled_user_cannot_change_their_password(cloud):
    cloud.patch(f"/v3/users/{cloud.ids['bob']}", json={"user": {"enabled": False}})
    response = _change(cloud, cloud.ids["bob"], PASSWORD, "New-passw0rd")
    assert response.status_code == 401
    assert "disabled" in error(response)["message"]


def test_get_on_the_password_url_is_405(cloud):
    assert cloud.get(f"/v3/users/{cloud.ids['alice']}/password").status_code == 405
