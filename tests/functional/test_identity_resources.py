"""The identity resource APIs as an operator drives them: the real `openstack` CLI.

One identity-only undercloud for the module; each test makes its own names so
they can run in any order. The member a test needs, and its tokens, come from openstacksdk
in-process.
"""
import json
import urllib.error
import urllib.request
import uuid

import pytest
import yaml

from tests.fixtures.undercloud import issue_token, start

pytestmark = [pytest.mark.functional, pytest.mark.clients]


@pytest.fixture(scope="module")
def undercloud(tmp_path_factory):
    """Identity alone is enough here, and starts faster than every service."""
    serve = start(tmp_path_factory.mktemp("identity"), services=["identity"])
    yield serve
    serve.stop()


def _silent(*args) -> tuple:
    """A command that prints nothing (`... set`): the leading global option keeps the
    `openstack` fixture from appending `-f json`, which such commands refuse."""
    return ("--os-identity-api-version", "3", *args)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _call(undercloud, method, path, token, body=None):
    """A raw API call; returns (status, parsed body or None)."""
    request = urllib.request.Request(
        f"{undercloud.endpoint('identity')}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"X-Auth-Token": token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, json.loads(text) if text else None


@pytest.fixture
def member_cloud(undercloud, sdk, tmp_path):
    """A user who is a member of one project, and a clouds.yaml to act as them."""
    project = sdk.identity.create_project(name=_name("team"), domain_id="default")
    password = "Member-pw-" + uuid.uuid4().hex[:6]
    user = sdk.identity.create_user(name=_name("carol"), domain_id="default",
                                    password=password, default_project_id=project.id)
    sdk.identity.assign_project_role_to_user(project, user, sdk.identity.find_role("member"))
    clouds = yaml.safe_load(undercloud.clouds_yaml.read_text())
    auth = dict(clouds["clouds"]["stackbox"]["auth"], username=user.name,
                password=password, project_name=project.name)
    clouds["clouds"]["member"] = {**clouds["clouds"]["stackbox"], "auth": auth}
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds))
    return {"project": project, "user": user, "password": password, "clouds_yaml": path,
            "env": {"OS_CLIENT_CONFIG_FILE": str(path)}}

def test_domains_are_created_listed_shown_set_and_deleted(openstack):
    name = _name("acme")
    domain = openstack("domain", "create", "--description", "Acme Inc", name)
    assert domain["name"] == name and domain["enabled"] is True
    assert name in [d["Name"] for d in openstack("domain", "list")]
    assert openstack("domain", "show", name)["id"] == domain["id"]
    openstack(*_silent("domain", "set", "--disable", "--description", "gone soon", name))
    shown = openstack("domain", "show", domain["id"])
    assert shown["enabled"] is False and shown["description"] == "gone soon"
    openstack("domain", "delete", domain["id"])
    assert openstack("domain", "show", domain["id"], check=False).returncode != 0


def test_an_enabled_domain_cannot_be_deleted(openstack):
    name = _name("keep")
    openstack("domain", "create", name)
    result = openstack("domain", "delete", name, check=False)
    assert result.returncode != 0
    assert "disable it first" in result.stderr


def test_projects_are_created_listed_shown_set_and_deleted(openstack):
    name = _name("web")
    project = openstack("project", "create", "--domain", "default", "--description", "Web",
                        "--tag", "blue", name)
    assert project["name"] == name and project["domain_id"] == "default"
    assert project["parent_id"] == "default" and project["tags"] == ["blue"]
    child = openstack("project", "create", "--parent", name, _name("child"))
    assert child["parent_id"] == project["id"]
    assert name in [p["Name"] for p in openstack("project", "list")]

    result = openstack("project", "create", "--domain", "default", name, check=False)
    assert result.returncode != 0 and "409" in result.stderr
    result = openstack("project", "delete", name, check=False)
    assert result.returncode != 0 and "not a leaf" in result.stderr

    openstack(*_silent("project", "set", "--description", "Web team", name))
    assert openstack("project", "show", name)["description"] == "Web team"
    openstack("project", "delete", child["id"])
    openstack("project", "delete", name)
    assert name not in [p["Name"] for p in openstack("project", "list")]


def test_users_are_created_listed_shown_set_and_deleted(openstack):
    name = _name("dave")
    user = openstack("user", "create", "--domain", "default", "--password", "Dave-pw-1",
                     "--email", "dave@example.com", "--description", "QA", name)
    assert user["name"] == name and user["email"] == "dave@example.com"
    assert "password" not in user
    assert name in [u["Name"] for u in openstack("user", "list")]
    openstack(*_silent("user", "set", "--email", "d@example.com", "--disable", name))
    shown = openstack("user", "show", name)
    assert shown["email"] == "d@example.com" and shown["enabled"] is False
    result = openstack("user", "create", "--domain", "default", name, check=False)
    assert result.returncode != 0 and "409" in result.stderr
    openstack("user", "delete", name)
    assert openstack("user", "show", user["id"], check=False).returncode != 0


def test_groups_and_membership(openstack):
    group, user = _name("ops"), _name("erin")
    openstack("group", "create", "--description", "Operators", group)
    openstack("user", "create", "--domain", "default", user)
    openstack("group", "add", "user", group, user)
    contains = openstack("group", "contains", "user", group, user)
    assert contains.strip() == f"{user} in group {group}"
    assert [u["Name"] for u in openstack("user", "list", "--group", group)] == [user]
    assert group in [g["Name"] for g in openstack("group", "list", "--user", user)]
    openstack("group", "remove", "user", group, user)
    contains = openstack("group", "contains", "user", group, user, check=False)
    assert f"{user} not in group {group}" in contains.stdout + contains.stderr
    openstack(*_silent("group", "set", "--name", group + "-x", group))
    openstack("group", "delete", group + "-x")
    openstack("user", "delete", user)


def test_roles_grants_and_assignment_list_with_names(openstack):
    role, project, user = _name("auditor"), _name("audit"), _name("fay")
    created = openstack("role", "create", "--description", "Reads logs", role)
    assert created["name"] == role
    assert role in [r["Name"] for r in openstack("role", "list")]
    openstack("project", "create", "--domain", "default", project)
    openstack("user", "create", "--domain", "default", user)

    openstack("role", "add", "--project", project, "--user", user, role)
    listed = openstack("role", "assignment", "list", "--names", "--user", user)
    assert listed == [{"Role": role, "User": f"{user}@Default", "Group": "",
                       "Project": f"{project}@Default", "Domain": "", "System": "",
                       "Inherited": False}]
    effective = openstack("role", "assignment", "list", "--names", "--effective",
                          "--user", user)
    assert [a["Role"] for a in effective] == [role]

    openstack("implied", "role", "create", "--implied-role", "reader", role)
    implied = openstack("implied", "role", "list")
    assert any(r["Prior Role Name"] == role and r["Implied Role Name"] == "reader"
               for r in implied)
    effective = openstack("role", "assignment", "list", "--names", "--effective",
                          "--user", user)
    assert sorted(a["Role"] for a in effective) == sorted([role, "reader"])

    openstack("role", "remove", "--project", project, "--user", user, role)
    assert openstack("role", "assignment", "list", "--user", user) == []
    openstack("implied", "role", "delete", "--implied-role", "reader", role)
    openstack(*_silent("role", "set", "--name", role + "-x", role))
    openstack("role", "delete", role + "-x")
    openstack("user", "delete", user)
    openstack("project", "delete", project)


def test_regions_services_and_endpoints(openstack):
    region, service = _name("Region"), _name("svc")
    openstack("region", "create", "--description", "Second site", region)
    assert openstack("region", "show", region)["description"] == "Second site"
    created = openstack("service", "create", "--name", service, "--description", "Test",
                        "test-" + service)
    assert created["name"] == service and created["enabled"] is True
    endpoint = openstack("endpoint", "create", "--region", region, service, "public",
                         "http://192.0.2.1:9999/v1")
    assert endpoint["interface"] == "public" and endpoint["region"] == region
    assert endpoint["service_name"] == service
    listed = openstack("endpoint", "list", "--service", service)
    assert [e["ID"] for e in listed] == [endpoint["id"]]

    result = openstack("endpoint", "create", "--region", region, service, "private",
                       "http://192.0.2.1:9999/v1", check=False)
    assert result.returncode != 0

    openstack(*_silent("endpoint", "set", "--disable", endpoint["id"]))
    assert openstack("endpoint", "show", endpoint["id"])["enabled"] is False
    result = openstack("region", "delete", region, check=False)
    assert result.returncode != 0
    openstack("endpoint", "delete", endpoint["id"])
    openstack(*_silent("service", "set", "--disable", service))
    openstack("service", "delete", service)
    openstack("region", "delete", region)
    assert service not in [s["Name"] for s in openstack("service", "list")]


def test_a_member_sees_only_their_project_and_cannot_administer(openstack, sdk, member_cloud):
    env, project = member_cloud["env"], member_cloud["project"]

    def as_member(*args, check=True):
        return openstack(*args, cloud="member", env=env, check=check)

    mine = as_member("project", "list", "--my-projects")
    assert [p["ID"] for p in mine] == [project.id]
    # Refused the full list (403), the CLI falls back to the member's own projects.
    assert [p["ID"] for p in as_member("project", "list")] == [project.id]
    assert as_member("project", "show", project.id)["name"] == project.name
    for args in (("user", "list"), ("project", "create", _name("x"))):
        result = as_member(*args, check=False)
        assert result.returncode != 0, args
        assert "403" in result.stderr, (args, result.stderr)

    # The API refuses the grant with 403 (the CLI's `role add` exits 0 regardless).
    user_id = member_cloud["user"].id
    admin_role = sdk.identity.find_role("admin").id  # a member cannot look roles up
    as_member("role", "add", "--project", project.id, "--user", user_id, admin_role,
              check=False)
    roles = [a.role["name"] for a in sdk.identity.role_assignments(user_id=user_id,
                                                                   include_names=True)]
    assert roles == ["member"]


def test_removing_a_grant_revokes_the_members_token(undercloud, openstack, member_cloud):
    user, project = member_cloud["user"], member_cloud["project"]
    token = issue_token(member_cloud["clouds_yaml"], "member")
    status, body = _call(undercloud, "GET", f"/v3/users/{user.id}/projects", token)
    assert status == 200 and [p["id"] for p in body["projects"]] == [project.id]

    openstack("role", "remove", "--project", project.id, "--user", user.id, "member")
    status, body = _call(undercloud, "GET", f"/v3/users/{user.id}/projects", token)
    assert status == 401, body


def test_a_user_changes_their_own_password_and_old_tokens_stop(undercloud, openstack,
                                                              member_cloud):
    user, old, env = member_cloud["user"], member_cloud["password"], member_cloud["env"]
    token = issue_token(member_cloud["clouds_yaml"], "member")
    status, body = _call(undercloud, "POST", f"/v3/users/{user.id}/password", token,
                         {"user": {"original_password": "wrong", "password": "Next-pw-123"}})
    assert status == 401, body

    openstack(*_silent("user", "password", "set", "--original-password", old, "--password",
                       "Next-pw-123"), cloud="member", env=env)
    status, _ = _call(undercloud, "GET", f"/v3/users/{user.id}", token)
    assert status == 401
    result = openstack("token", "issue", cloud="member", env=env, check=False)
    assert result.returncode != 0  # the old password no longer works
    renewed = openstack("--os-password", "Next-pw-123", "token", "issue", "-f", "json",
                        cloud="member", env=env)
    assert renewed["user_id"] == user.id
