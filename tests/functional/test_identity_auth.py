"""Tokens as a user meets them: the real `openstack` CLI against a real `stackbox serve`.

Issue and revoke tokens, make and use an application credential, stay inside one's own
project, and rotate the token keys while tokens are in use. The admin's own token and the
projects and users a test needs come from openstacksdk in-process.
"""
import http.client
import json
import subprocess
import time
import uuid
from urllib.parse import urlsplit

import pytest
import yaml

from tests.fixtures.processes import wait_for
from tests.fixtures.undercloud import issue_token, stackbox_argv

pytestmark = [pytest.mark.functional, pytest.mark.clients]


def call(undercloud, method, path, token=None, subject=None, body=None):
    """One request on a fresh connection (so requests spread over the API's workers)."""
    url = urlsplit(undercloud.endpoint("identity"))
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token:
        headers["X-Auth-Token"] = token
    if subject:
        headers["X-Subject-Token"] = subject
    try:
        connection.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = connection.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), json.loads(data) if data else None
    finally:
        connection.close()


def admin_password(undercloud) -> str:
    return yaml.safe_load(undercloud.clouds_yaml.read_text())["clouds"]["stackbox"]["auth"][
        "password"]


def bare_env(undercloud) -> dict:
    """The CLI without the clouds.yaml cloud, for auth types that take other options."""
    return {"OS_CLOUD": "", "OS_AUTH_URL": undercloud.endpoint("identity") + "/v3",
            "OS_IDENTITY_API_VERSION": "3", "OS_INTERFACE": "public",
            "OS_REGION_NAME": undercloud.config["region"]}


def test_token_issue_gives_a_project_token(openstack, undercloud):
    token = openstack("token", "issue")
    assert set(token) >= {"id", "expires", "project_id", "user_id"}
    status, headers, body = call(undercloud, "GET", "/v3/auth/tokens", token["id"], token["id"])
    assert status == 200 and headers["X-Subject-Token"] == token["id"]
    assert body["token"]["project"]["id"] == token["project_id"]
    assert body["token"]["project"]["name"] == "admin"
    assert {"admin", "member", "reader"} <= {role["name"] for role in body["token"]["roles"]}
    identity = [s for s in body["token"]["catalog"] if s["type"] == "identity"][0]
    assert {e["url"] for e in identity["endpoints"]} == {undercloud.endpoint("identity") + "/v3"}


def test_a_revoked_token_fails_everywhere_at_once(openstack, undercloud):
    admin = issue_token(undercloud)
    issued = openstack("token", "issue")
    token = issued["id"]
    assert call(undercloud, "GET", "/v3/auth/projects", token)[0] == 200
    with_token = ("--os-auth-type", "token", "--os-token", token,
                  "--os-project-id", issued["project_id"])
    assert openstack(*with_token, "project", "list", env=bare_env(undercloud))
    openstack("token", "revoke", token)
    # Every worker process knows at once: the endpoint asks the database.
    for _ in range(20):
        assert call(undercloud, "GET", "/v3/auth/tokens", admin, token)[0] == 404
        assert call(undercloud, "HEAD", "/v3/auth/tokens", admin, token)[0] == 404
    # The middleware of every service hears of it on the bus.
    assert wait_for(lambda: all(call(undercloud, "GET", "/v3/auth/projects", token)[0] == 401
                                for _ in range(10)), 3)
    result = openstack(*with_token, "project", "list", check=False, env=bare_env(undercloud))
    assert result.returncode != 0 and "404" in result.stderr


def test_an_application_credential_issues_tokens(openstack, undercloud):
    name = f"ci-{uuid.uuid4().hex[:8]}"
    credential = openstack("application", "credential", "create", name, "--role", "reader")
    assert credential["Secret"] and credential["Name"] == name
    assert [role["name"] for role in credential["Roles"]] == ["reader"]
    env = bare_env(undercloud)
    token = openstack("--os-auth-type", "v3applicationcredential",
                      "--os-application-credential-id", credential["ID"],
                      "--os-application-credential-secret", credential["Secret"],
                      "token", "issue", "-f", "json", env=env)
    status, _, body = call(undercloud, "GET", "/v3/auth/tokens", token["id"], token["id"])
    assert status == 200
    assert body["token"]["application_credential"]["id"] == credential["ID"]
    assert [role["name"] for role in body["token"]["roles"]] == ["reader"]
    assert body["token"]["methods"] == ["application_credential"]
    listed = openstack("application", "credential", "list")
    assert name in {c["Name"] for c in listed}
    openstack("application", "credential", "delete", name)
    result = openstack("--os-auth-type", "v3applicationcredential",
                       "--os-application-credential-id", credential["ID"],
                       "--os-application-credential-secret", credential["Secret"],
                       "token", "issue", "-f", "json", env=env, check=False)
    assert result.returncode != 0


def test_a_member_of_one_project_stays_out_of_another(openstack, sdk, undercloud):
    suffix = uuid.uuid4().hex[:8]
    project_a = sdk.identity.create_project(name=f"a-{suffix}", domain_id="default")
    project_b = sdk.identity.create_project(name=f"b-{suffix}", domain_id="default")
    password = f"Pw-{uuid.uuid4().hex}"
    user = sdk.identity.create_user(name=f"carol-{suffix}", password=password,
                                    domain_id="default", default_project_id=project_a.id)
    sdk.identity.assign_project_role_to_user(project_a, user, sdk.identity.find_role("member"))

    def login(project_id):
        return call(undercloud, "POST", "/v3/auth/tokens", body={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "id": user.id, "password": password}}},
            "scope": {"project": {"id": project_id}}}})

    status, headers, body = login(project_a.id)
    assert status == 201 and body["token"]["project"]["id"] == project_a.id
    token_a = headers["X-Subject-Token"]
    assert login(project_b.id)[0] == 401
    rescope = call(undercloud, "POST", "/v3/auth/tokens", body={"auth": {
        "identity": {"methods": ["token"], "token": {"id": token_a}},
        "scope": {"project": {"id": project_b.id}}}})
    assert rescope[0] == 401
    assert call(undercloud, "GET", f"/v3/projects/{project_b.id}", token_a)[0] in (401, 403)
    result = openstack("--os-username", f"carol-{suffix}", "--os-password", password,
                       "--os-project-id", project_b.id, "token", "issue", check=False)
    assert result.returncode != 0 and "401" in result.stderr


def test_key_rotation_keeps_issued_tokens_valid(openstack, undercloud):
    admin = issue_token(undercloud)
    issued = openstack("token", "issue")
    before = issued["id"]
    rotate = subprocess.run(stackbox_argv("identity", "rotate-keys", "--config",
                                          str(undercloud.config_file)),
                            capture_output=True, text=True, timeout=60)
    assert rotate.returncode == 0, rotate.stderr
    assert "is now primary" in rotate.stdout
    time.sleep(1.5)   # API processes look at the key directory once a second
    after = openstack("token", "issue")["id"]
    for token in (before, after):
        assert call(undercloud, "GET", "/v3/auth/tokens", admin, token)[0] == 200
    assert openstack("--os-auth-type", "token", "--os-token", before, "--os-project-id",
                     issued["project_id"], "project", "list", env=bare_env(undercloud))
    # A second rotation prunes the key that sealed `before` (three keys are kept).
    subprocess.run(stackbox_argv("identity", "rotate-keys", "--config",
                                 str(undercloud.config_file)), check=True,
                   capture_output=True, timeout=60)
    assert wait_for(lambda: call(undercloud, "GET", "/v3/auth/tokens", after,
                                 before)[0] == 404, 10)
    assert call(undercloud, "GET", "/v3/auth/tokens", after, after)[0] == 200
