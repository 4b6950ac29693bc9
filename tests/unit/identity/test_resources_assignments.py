"""Role grants and GET /v3/role_assignments (direct, effective, names, subtree)."""
from tests.unit.identity.conftest import error


def _assignments(cloud, query="", as_="admin"):
    response = cloud.get(f"/v3/role_assignments?{query}", as_=as_)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["role_assignments"]


def _summary(assignments):
    """(actor name or id, role id, scope id, inherited) for easy comparison."""
    found = set()
    for a in assignments:
        actor = a.get("user", a.get("group"))["id"]
        scope = a["scope"]
        target = (scope.get("project") or scope.get("domain") or {"id": "system"})["id"]
        found.add((actor, a["role"]["id"], target, "OS-INHERIT:inherited_to" in scope))
    return found


def test_a_grant_is_added_checked_listed_and_removed(cloud):
    ids = cloud.ids
    path = f"/v3/projects/{ids['project_b']}/users/{ids['alice']}/roles/{ids['role_reader']}"
    response = cloud.head(path)
    assert response.status_code == 404
    response = cloud.get(path)
    assert error(response)["message"] == (
        f"Could not find role assignment with role: {ids['role_reader']}, user or group: "
        f"{ids['alice']}, project, domain, or system: {ids['project_b']}.")

    assert cloud.put(path).status_code == 204
    assert cloud.put(path).status_code == 204  # granting twice changes nothing
    assert cloud.head(path).status_code == 204
    roles = cloud.get(f"/v3/projects/{ids['project_b']}/users/{ids['alice']}/roles").get_json()
    assert [r["name"] for r in roles["roles"]] == ["reader"]

    assert cloud.delete(path).status_code == 204
    assert cloud.revoked == [{"user_id": ids["alice"], "project_id": ids["project_b"]}]
    assert cloud.delete(path).status_code == 404


def test_grants_to_unknown_things_are_404(cloud):
    ids = cloud.ids
    for path, message in (
            (f"/v3/projects/nope/users/{ids['alice']}/roles/{ids['role_reader']}",
             "Could not find project: nope."),
            (f"/v3/projects/{ids['project_a']}/users/nope/roles/{ids['role_reader']}",
             "Could not find user: nope."),
            (f"/v3/projects/{ids['project_a']}/users/{ids['alice']}/roles/nope",
             "Could not find role: nope."),
            (f"/v3/domains/nope/groups/{ids['alice']}/roles/{ids['role_reader']}",
             "Could not find group: " + ids["alice"] + ".")):
        response = cloud.put(path)
        assert response.status_code == 404, path
        assert error(response)["message"] == message


def test_a_domain_role_only_goes_to_projects_of_its_domain(cloud):
    domain = cloud.post("/v3/domains", json={"domain": {"name": "acme"}}).get_json()["domain"]
    role = cloud.post("/v3/roles", json={"role": {"name": "local",
                                                   "domain_id": domain["id"]}}).get_json()["role"]
    response = cloud.put(f"/v3/projects/{cloud.ids['project_a']}/users/{cloud.ids['alice']}"
                         f"/roles/{role['id']}")
    assert response.status_code == 403
    assert "must be in the same domain" in error(response)["message"]


def test_the_direct_list_filters_by_user_project_and_role(cloud):
    ids = cloud.ids
    everything = _summary(_assignments(cloud))
    assert (ids["alice"], ids["role_member"], ids["project_a"], False) in everything
    assert (ids["admin"], ids["role_admin"], "system", False) in everything

    alice = _assignments(cloud, f"user.id={ids['alice']}")
    assert _summary(alice) == {(ids["alice"], ids["role_member"], ids["project_a"], False)}
    assert alice[0]["links"]["assignment"].endswith(
        f"/v3/projects/{ids['project_a']}/users/{ids['alice']}/roles/{ids['role_member']}")
    on_b = _assignments(cloud, f"scope.project.id={ids['project_b']}")
    assert _summary(on_b) == {(ids["bob"], ids["role_member"], ids["project_b"], False)}
    admins = _assignments(cloud, f"role.id={ids['role_admin']}&scope.system=all")
    assert _summary(admins) == {(ids["admin"], ids["role_admin"], "system", False)}
    assert admins[0]["scope"] == {"system": {"all": True}}


def test_effective_expands_groups_inheritance_and_implied_roles(cloud):
    ids = cloud.ids
    group = cloud.post("/v3/groups", json={"group": {"name": "ops"}}).get_json()["group"]
    cloud.put(f"/v3/groups/{group['id']}/users/{ids['bob']}")
    cloud.put(f"/v3/projects/{ids['project_a']}/groups/{group['id']}/roles/{ids['role_member']}")
    child = cloud.post("/v3/projects", json={"project": {
        "name": "child", "parent_id": ids["project_a"]}}).get_json()["project"]
    assert cloud.put(f"/v3/OS-INHERIT/projects/{ids['project_a']}/users/{ids['alice']}/roles/"
                     f"{ids['role_member']}/inherited_to_projects").status_code == 204

    direct = _summary(_assignments(cloud, f"user.id={ids['alice']}"))
    assert (ids["alice"], ids["role_member"], ids["project_a"], True) in direct

    bob = _assignments(cloud, f"user.id={ids['bob']}&effective")
    assert _summary(bob) == {
        (ids["bob"], ids["role_member"], ids["project_b"], False),
        (ids["bob"], ids["role_reader"], ids["project_b"], False),
        (ids["bob"], ids["role_member"], ids["project_a"], False),
        (ids["bob"], ids["role_reader"], ids["project_a"], False)}
    via_group = [a for a in bob if "membership" in a["links"] and a["role"]["id"] ==
                 ids["role_member"]]
    assert via_group[0]["links"]["membership"].endswith(
        f"/v3/groups/{group['id']}/users/{ids['bob']}")
    implied = [a for a in bob if "prior_role" in a["links"]]
    assert {a["role"]["id"] for a in implied} == {ids["role_reader"]}

    alice = _summary(_assignments(cloud, f"user.id={ids['alice']}&effective"))
    assert (ids["alice"], ids["role_member"], child["id"], True) in alice
    assert (ids["alice"], ids["role_reader"], child["id"], True) in alice

    response = cloud.get(f"/v3/role_assignments?group.id={group['id']}&effective")
    assert response.status_code == 400


def test_include_names_shows_who_and_where_by_name(cloud):
    ids = cloud.ids
    [assignment] = _assignments(cloud, f"user.id={ids['alice']}&include_names=True")
    assert assignment["user"] == {"id": ids["alice"], "name": "alice",
                                  "domain": {"id": "default", "name": "Default"}}
    assert assignment["scope"]["project"] == {"id": ids["project_a"], "name": "project-a",
                                              "domain": {"id": "default", "name": "Default"}}
    assert assignment["role"] == {"id": ids["role_member"], "name": "member"}


def test_include_subtree_needs_a_project(cloud):
    ids = cloud.ids
    child = cloud.post("/v3/projects", json={"project": {
        "name": "child", "parent_id": ids["project_a"]}}).get_json()["project"]
    cloud.put(f"/v3/projects/{child['id']}/users/{ids['bob']}/roles/{ids['role_reader']}")
    found = _summary(_assignments(cloud, f"scope.project.id={ids['project_a']}"
                                         "&include_subtree=true"))
    assert found == {(ids["alice"], ids["role_member"], ids["project_a"], False),
                     (ids["bob"], ids["role_reader"], child["id"], False)}
    response = cloud.get("/v3/role_assignments?include_subtree=true")
    assert response.status_code == 400


def test_conflicting_filters_are_400(cloud):
    response = cloud.get("/v3/role_assignments?scope.project.id=a&scope.domain.id=b")
    assert error(response)["message"] == "Specify a domain or project, not both"
    response = cloud.get("/v3/role_assignments?user.id=a&group.id=b")
    assert response.status_code == 400


def test_domain_and_system_grants(cloud):
    ids = cloud.ids
    path = f"/v3/domains/default/users/{ids['bob']}/roles/{ids['role_reader']}"
    assert cloud.put(path).status_code == 204
    assert cloud.get(f"/v3/domains/default/users/{ids['bob']}/roles").get_json()["roles"][0][
        "name"] == "reader"
    assert cloud.delete(path).status_code == 204
    assert cloud.revoked == [{"user_id": ids["bob"], "domain_id": "default"}]

    system = f"/v3/system/users/{ids['bob']}/roles/{ids['role_reader']}"
    assert cloud.put(system).status_code == 204
    assert cloud.get(system).status_code == 204
    assert [r["name"] for r in cloud.get(f"/v3/system/users/{ids['bob']}/roles")
            .get_json()["roles"]] == ["reader"]
    assert cloud.delete(system).status_code == 204

    inherited = (f"/v3/OS-INHERIT/domains/default/users/{ids['bob']}/roles/"
                 f"{ids['role_reader']}/inherited_to_projects")
    assert cloud.put(inherited).status_code == 204
    listed = cloud.get(f"/v3/OS-INHERIT/domains/default/users/{ids['bob']}/roles/"
                       "inherited_to_projects").get_json()["roles"]
    assert [r["name"] for r in listed] == ["reader"]
    effective = _summary(_assignments(cloud, f"user.id={ids['bob']}&effective"))
    assert (ids["bob"], ids["role_reader"], ids["project_a"], True) in effective


def test_a_member_cannot_grant_or_list_assignments(cloud):
    ids = cloud.ids
    response = cloud.put(f"/v3/projects/{ids['project_a']}/users/{ids['bob']}/roles/"
                         f"{ids['role_member']}", as_="alice")
    assert response.status_code == 403
    assert cloud.get("/v3/role_assignments", as_="alice").status_code == 403
