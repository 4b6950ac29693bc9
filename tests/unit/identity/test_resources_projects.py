"""Projects: the tree inside a domain, filters, tags, and who may see what."""
from tests.unit.identity.conftest import error


def _create(cloud, name="web", **fields):
    response = cloud.post("/v3/projects", json={"project": {"name": name, **fields}})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["project"]


def test_a_project_is_created_in_the_default_domain_as_keystone_renders_it(cloud):
    project = _create(cloud, description="Web team", tags=["blue"], owner="web@example.com")
    assert project["domain_id"] == "default" and project["parent_id"] == "default"
    assert project["is_domain"] is False and project["enabled"] is True
    assert project["tags"] == ["blue"] and project["options"] == {}
    assert project["owner"] == "web@example.com"
    assert project["links"]["self"].endswith(f"/v3/projects/{project['id']}")
    assert cloud.get(f"/v3/projects/{project['id']}").get_json()["project"] == project


def test_a_duplicate_name_in_the_domain_conflicts(cloud):
    _create(cloud)
    response = cloud.post("/v3/projects", json={"project": {"name": "web"}})
    assert response.status_code == 409
    assert "name is web" in error(response)["message"]


def test_an_unknown_domain_or_parent_is_a_400(cloud):
    response = cloud.post("/v3/projects", json={"project": {"name": "x", "domain_id": "nope"}})
    assert response.status_code == 400
    assert error(response)["message"] == "Could not find domain: nope."
    response = cloud.post("/v3/projects", json={"project": {"name": "x", "parent_id": "nope"}})
    assert response.status_code == 400
    assert error(response)["message"] == "Could not find project: nope."


def test_children_block_deletion_and_disabling(cloud):
    parent = _create(cloud, "parent")
    child = _create(cloud, "child", parent_id=parent["id"])
    assert child["parent_id"] == parent["id"] and child["domain_id"] == "default"

    response = cloud.delete(f"/v3/projects/{parent['id']}")
    assert response.status_code == 403
    assert "not a leaf in the hierarchy" in error(response)["message"]
    response = cloud.patch(f"/v3/projects/{parent['id']}", json={"project": {"enabled": False}})
    assert response.status_code == 403

    listed = cloud.get(f"/v3/projects?parent_id={parent['id']}").get_json()["projects"]
    assert [p["id"] for p in listed] == [child["id"]]
    shown = cloud.get(f"/v3/projects/{parent['id']}?subtree_as_ids").get_json()["project"]
    assert shown["subtree"] == {child["id"]: None}
    shown = cloud.get(f"/v3/projects/{child['id']}?parents_as_ids").get_json()["project"]
    assert shown["parents"] == {parent["id"]: {"default": None}}

    assert cloud.delete(f"/v3/projects/{child['id']}").status_code == 204
    assert cloud.delete(f"/v3/projects/{parent['id']}").status_code == 204
    assert {"project_id": parent["id"]} in cloud.revoked


def test_the_parent_may_not_change_and_a_disabled_branch_takes_no_children(cloud):
    parent = _create(cloud, "parent", enabled=False)
    response = cloud.post("/v3/projects", json={"project": {"name": "c",
                                                             "parent_id": parent["id"]}})
    assert response.status_code == 400
    other = _create(cloud, "other")
    response = cloud.patch(f"/v3/projects/{other['id']}",
                           json={"project": {"parent_id": parent["id"]}})
    assert response.status_code == 403
    assert error(response)["message"] == "Update of `parent_id` is not allowed."


def test_disabling_a_project_revokes_its_tokens(cloud):
    project_a = cloud.ids["project_a"]
    response = cloud.patch(f"/v3/projects/{project_a}", json={"project": {"enabled": False}})
    assert response.status_code == 200
    assert response.get_json()["project"]["enabled"] is False
    assert cloud.revoked == [{"project_id": project_a}]


def test_filters_by_name_enabled_and_inexact_name(cloud):
    _create(cloud, "web-1")
    _create(cloud, "web-2", enabled=False)
    names = lambda q: sorted(p["name"] for p in cloud.get(f"/v3/projects?{q}")  # noqa: E731
                             .get_json()["projects"])
    assert names("name=web-1") == ["web-1"]
    assert names("enabled=false") == ["web-2"]
    assert names("name__startswith=web") == ["web-1", "web-2"]
    assert names("domain_id=default&enabled=true") == ["admin", "project-a", "project-b",
                                                       "web-1"]


def test_tags_api_and_tag_filters(cloud):
    project = _create(cloud, tags=["a"])
    base = f"/v3/projects/{project['id']}/tags"
    assert cloud.put(f"{base}/b").status_code == 201
    assert cloud.get(base).get_json()["tags"] == ["a", "b"]
    assert cloud.get(f"{base}/b").status_code == 204
    assert cloud.get(f"{base}/zzz").status_code == 404
    assert cloud.put(base, json={"tags": ["x", "y"]}).get_json()["tags"] == ["x", "y"]
    found = cloud.get("/v3/projects?tags=x,y").get_json()["projects"]
    assert [p["id"] for p in found] == [project["id"]]
    assert cloud.get("/v3/projects?tags-any=y,q").get_json()["projects"][0]["id"] == project["id"]
    assert project["id"] not in [p["id"] for p in
                                 cloud.get("/v3/projects?not-tags=x").get_json()["projects"]]
    assert cloud.delete(f"{base}/x").status_code == 204
    assert cloud.delete(base).status_code == 204
    assert cloud.get(base).get_json()["tags"] == []
    response = cloud.put(f"{base}/bad,tag")
    assert response.status_code == 400


def test_a_member_sees_their_project_but_not_others_nor_the_list(cloud):
    assert cloud.get(f"/v3/projects/{cloud.ids['project_a']}", as_="alice").status_code == 200
    response = cloud.get(f"/v3/projects/{cloud.ids['project_b']}", as_="alice")
    assert response.status_code == 403
    assert cloud.get("/v3/projects", as_="alice").status_code == 403
    response = cloud.post("/v3/projects", json={"project": {"name": "mine"}}, as_="alice")
    assert response.status_code == 403
    assert "identity:create_project" in error(response)["message"]


def test_a_system_reader_lists_but_cannot_create(cloud):
    assert cloud.get("/v3/projects", as_="system-reader").status_code == 200
    response = cloud.post("/v3/projects", json={"project": {"name": "x"}}, as_="system-reader")
    assert response.status_code == 403


def test_a_project_acting_as_a_domain_is_a_domain(cloud):
    project = _create(cloud, "acme", is_domain=True, domain_id=None)
    assert project["is_domain"] is True and project["domain_id"] is None
    assert project["parent_id"] is None
    domains = cloud.get("/v3/domains").get_json()["domains"]
    assert project["id"] in [d["id"] for d in domains]
    acting = cloud.get("/v3/projects?is_domain=true").get_json()["projects"]
    assert project["id"] in [p["id"] for p in acting]
    assert project["id"] not in [p["id"] for p in
                                 cloud.get("/v3/projects").get_json()["projects"]]
    assert cloud.get(f"/v3/projects/{project['id']}").get_json()["project"] == project

    response = cloud.delete(f"/v3/projects/{project['id']}")
    assert response.status_code == 400
    assert "Please disable the project" in error(response)["message"]
    disabled = cloud.patch(f"/v3/projects/{project['id']}", json={"project": {"enabled": False}})
    assert disabled.get_json()["project"]["enabled"] is False
    assert cloud.delete(f"/v3/projects/{project['id']}").status_code == 204
    assert cloud.get(f"/v3/domains/{project['id']}").status_code == 404

    response = cloud.post("/v3/projects", json={"project": {
        "name": "x", "is_domain": True, "parent_id": cloud.ids["project_a"]}})
    assert response.status_code == 400
