"""The token and application credential APIs through Flask's test client, with real tokens.

Same `identity` as test_tokens.py (bootstrap + alice on project-a, bob on project-b);
requests go through the identity app with its real validator.
"""
import datetime
import json

import pytest

from undercloud import db, services
from undercloud.common import wsgi
from undercloud.identity import bootstrap, tokens
from undercloud.identity.models import (DEFAULT_DOMAIN_ID, ApplicationCredential,
                                        CatalogService, Domain, Endpoint, Project,
                                        RevocationEvent, RoleAssignment, User)
from tests.unit.identity.test_tokens import PASSWORD, grant, make_identity


class Api:
    def __init__(self, identity):
        self.identity, self.ids = identity, identity.ids
        self.client = wsgi.create_app(identity.config,
                                      services.SERVICES["identity"]).test_client()

    def auth(self, user="alice", password=PASSWORD, scope=None, query="", **kw):
        who = {"name": user, "domain": {"name": "Default"}} if "user_id" not in kw \
            else {"id": kw.pop("user_id")}
        body = {"auth": {"identity": {"methods": ["password"],
                                      "password": {"user": {**who, "password": password}}}}}
        if scope is not None:
            body["auth"]["scope"] = scope
        return self.client.post("/v3/auth/tokens" + query, json=body)

    def token(self, user="alice", scope=None) -> str:
        response = self.auth(user, scope=scope)
        assert response.status_code == 201, response.get_json()
        return response.headers["X-Subject-Token"]

    def scoped(self, user="alice", project="project-a") -> str:
        return self.token(user, {"project": {"id": self.ids[project]}})

    def call(self, method, path, token=None, subject=None, **kw):
        headers = {}
        if token:
            headers["X-Auth-Token"] = token
        if subject:
            headers["X-Subject-Token"] = subject
        return self.client.open(path, method=method, headers=headers, **kw)


@pytest.fixture
def api(tmp_path):
    return Api(make_identity(tmp_path))


def message(response) -> str:
    body = response.get_json()
    assert set(body["error"]) == {"code", "title", "message"} and \
        body["error"]["code"] == response.status_code
    return body["error"]["message"]


# Issuing.
def test_password_auth_by_name_and_project_name(api):
    response = api.auth(scope={"project": {"name": "project-a", "domain": {"id": "default"}}})
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert token["project"]["id"] == api.ids["project-a"]
    assert token["methods"] == ["password"] and token["is_domain"] is False
    assert {r["name"] for r in token["roles"]} == {"member", "reader"}
    assert {s["type"] for s in token["catalog"]} == {"identity", "compute", "block-storage"}
    assert response.headers["X-Subject-Token"] and response.content_type == "application/json"


def test_password_auth_by_user_id_without_scope_is_unscoped(api):
    response = api.auth(user_id=api.ids["alice"])
    token = response.get_json()["token"]
    assert response.status_code == 201
    assert not {"project", "roles", "catalog", "domain", "system"} & set(token)


def test_the_default_project_scopes_an_unscoped_request(api):
    with db.transaction():
        User.update(default_project_id=api.ids["project-a"]).where(
            User.id == api.ids["alice"]).execute()
    assert api.auth().get_json()["token"]["project"]["id"] == api.ids["project-a"]
    assert "project" not in api.auth(scope="unscoped").get_json()["token"]
    assert "project" not in api.auth(scope={"unscoped": {}}).get_json()["token"]
    with db.transaction():   # a default project without a role: unscoped, as Keystone
        User.update(default_project_id=api.ids["project-b"]).where(
            User.id == api.ids["alice"]).execute()
    assert "project" not in api.auth().get_json()["token"]


def test_domain_and_system_scopes(api):
    token = api.auth("admin", scope={"system": {"all": True}}).get_json()["token"]
    assert token["system"] == {"all": True} and "catalog" in token
    grant(api.ids["alice"], api.ids["role_member"], "default", RoleAssignment.USER_DOMAIN)
    token = api.auth(scope={"domain": {"name": "Default"}}).get_json()["token"]
    assert token["domain"] == {"id": "default", "name": "Default"}
    # A domain token's catalog leaves out endpoints that need a project id.
    urls = [e["url"] for s in token["catalog"] for e in s["endpoints"]]
    assert urls and not any("$(" in url or "%(" in url for url in urls)
    assert not [s for s in token["catalog"] if s["type"] == "block-storage"][0]["endpoints"]


def test_nocatalog(api):
    response = api.auth(scope={"project": {"id": api.ids["project-a"]}}, query="?nocatalog")
    assert "catalog" not in response.get_json()["token"]


@pytest.mark.parametrize("user,password", [("alice", "wrong"), ("nobody", PASSWORD)])
def test_bad_credentials_are_a_generic_401(api, user, password):
    response = api.auth(user, password)
    assert response.status_code == 401
    assert message(response) == "The request you have made requires authentication."
    assert response.headers["WWW-Authenticate"].startswith("Keystone uri=")


def test_a_disabled_user_or_domain_cannot_authenticate(api):
    with db.transaction():
        User.update(enabled=False).where(User.id == api.ids["alice"]).execute()
    assert api.auth().status_code == 401
    with db.transaction():
        User.update(enabled=True).where(User.id == api.ids["alice"]).execute()
        Domain.update(enabled=False).where(Domain.id == DEFAULT_DOMAIN_ID).execute()
    assert api.auth().status_code == 401


def test_no_role_or_a_disabled_project_on_the_scope_is_401(api):
    response = api.auth(scope={"project": {"id": api.ids["project-b"]}})
    assert response.status_code == 401 and "has no access to project" in message(response)
    with db.transaction():
        Project.update(enabled=False).where(Project.id == api.ids["project-a"]).execute()
    response = api.auth(scope={"project": {"id": api.ids["project-a"]}})
    assert response.status_code == 401 and "disabled" in message(response)
    response = api.auth(scope={"project": {"name": "missing", "domain": {"id": "default"}}})
    assert response.status_code == 401


def test_lockout_after_repeated_failures(tmp_path):
    api = Api(make_identity(tmp_path, lockout_failure_attempts=2, lockout_duration=60))
    for _ in range(2):
        assert api.auth(password="wrong").status_code == 401
    response = api.auth()
    assert response.status_code == 401 and "locked" in message(response)


@pytest.mark.parametrize("body", [
    None, {}, {"auth": {}}, {"auth": "x"}, {"auth": {"identity": {}}},
    {"auth": {"identity": {"methods": "password"}}},
    {"auth": {"identity": {"methods": ["password"]}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "alice",
                                                                          "password": "x"}}}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {"password": "x"}}}}},
    {"auth": {"identity": {"methods": ["token"], "token": {}}}},
    {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "id": "x", "password": "x"}}}, "scope": {"project": {"name": "p"}}}},
])
def test_malformed_requests_are_400(api, body):
    response = api.client.post("/v3/auth/tokens", data=json.dumps(body) if body is not None
                               else b"", content_type="application/json")
    assert response.status_code in (400, 401), body
    if response.status_code == 401:   # the user "x" does not exist: auth fails first
        assert body["auth"]["identity"]["password"]["user"].get("id") == "x"
    else:
        assert message(response)


def test_an_unsupported_method_is_401(api):
    response = api.client.post("/v3/auth/tokens", json={"auth": {"identity": {
        "methods": ["totp"], "totp": {}}}})
    assert response.status_code == 401 and "unsupported method" in message(response)


# Rescoping.
def test_rescoping_keeps_the_expiry_user_and_audit_chain(api):
    first = api.auth()
    original = first.get_json()["token"]
    response = api.client.post("/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": first.headers["X-Subject-Token"]}},
        "scope": {"project": {"name": "project-a", "domain": {"id": "default"}}}}})
    assert response.status_code == 201
    token = response.get_json()["token"]
    assert token["expires_at"] == original["expires_at"]
    assert token["user"] == original["user"]
    assert set(token["methods"]) == {"password", "token"}
    assert token["audit_ids"][1] == original["audit_ids"][0]
    assert token["audit_ids"][0] != original["audit_ids"][0]


def test_a_revoked_or_bogus_token_cannot_be_rescoped(api):
    text = api.token()
    api.call("DELETE", "/v3/auth/tokens", token=api.scoped(), subject=text)
    for bad in (text, "bogus"):
        response = api.client.post("/v3/auth/tokens", json={"auth": {"identity": {
            "methods": ["token"], "token": {"id": bad}}}})
        assert response.status_code == 404


def test_a_system_token_cannot_become_a_project_token(api):
    system = api.token("admin", {"system": {"all": True}})
    response = api.client.post("/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["token"], "token": {"id": system}},
        "scope": {"project": {"id": api.ids["admin_project"]}}}})
    assert response.status_code == 403


# Validating and revoking.
def test_get_returns_the_same_body_as_post(api):
    response = api.auth(scope={"project": {"id": api.ids["project-a"]}})
    text = response.headers["X-Subject-Token"]
    got = api.call("GET", "/v3/auth/tokens", token=text, subject=text)
    assert got.status_code == 200 and got.get_json() == response.get_json()
    assert got.headers["X-Subject-Token"] == text
    assert api.call("HEAD", "/v3/auth/tokens", token=text, subject=text).status_code == 200
    nocatalog = api.call("GET", "/v3/auth/tokens?nocatalog", token=text, subject=text)
    assert "catalog" not in nocatalog.get_json()["token"]


def test_an_invalid_subject_is_404(api):
    admin = api.scoped("admin", "admin_project")
    for subject in ("bogus", None):
        response = api.call("GET", "/v3/auth/tokens", token=admin, subject=subject)
        assert response.status_code == 404 and message(response) == "Could not find token."
    assert api.call("HEAD", "/v3/auth/tokens", token=admin, subject="bogus").status_code == 404
    assert api.call("GET", "/v3/auth/tokens", subject="bogus").status_code == 401


def test_a_user_may_validate_only_their_own_tokens_unless_admin(api):
    alice, bob = api.scoped(), api.scoped("bob", "project-b")
    admin = api.scoped("admin", "admin_project")
    assert api.call("GET", "/v3/auth/tokens", token=alice, subject=alice).status_code == 200
    assert api.call("GET", "/v3/auth/tokens", token=bob, subject=alice).status_code == 403
    assert api.call("GET", "/v3/auth/tokens", token=admin, subject=alice).status_code == 200
    assert api.call("DELETE", "/v3/auth/tokens", token=bob, subject=alice).status_code == 403


def test_delete_revokes_the_token_everywhere(api):
    text, admin = api.scoped(), api.scoped("admin", "admin_project")
    audit_id = tokens.decode(text).audit_ids[0]
    assert api.call("DELETE", "/v3/auth/tokens", token=text, subject=text).status_code == 204
    assert api.call("GET", "/v3/auth/tokens", token=admin, subject=text).status_code == 404
    assert api.call("DELETE", "/v3/auth/tokens", token=admin, subject=text).status_code == 404
    assert api.call("GET", "/v3/auth/projects", token=text).status_code == 401
    # Stored, for the other processes.
    assert [e.audit_id for e in RevocationEvent.select()] == [audit_id]


def test_allow_expired(api):
    text, _ = tokens.issue(api.identity.config, user_id=api.ids["alice"], methods=["password"],
                           expires_at=int(datetime.datetime.now().timestamp()) - 5)
    admin = api.scoped("admin", "admin_project")
    assert api.call("GET", "/v3/auth/tokens", token=admin, subject=text).status_code == 404
    response = api.call("GET", "/v3/auth/tokens?allow_expired=1", token=admin, subject=text)
    assert response.status_code == 200


# Where a token may scope.
def test_auth_projects_domains_system_and_catalog(api):
    grant(api.ids["alice"], api.ids["role_reader"], "default", RoleAssignment.USER_DOMAIN)
    text = api.scoped()
    projects = api.call("GET", "/v3/auth/projects", token=text).get_json()["projects"]
    assert [p["id"] for p in projects] == [api.ids["project-a"]]
    domains = api.call("GET", "/v3/auth/domains", token=text).get_json()["domains"]
    assert [d["id"] for d in domains] == ["default"]
    assert api.call("GET", "/v3/auth/system", token=text).get_json()["system"] == []
    admin = api.scoped("admin", "admin_project")
    assert api.call("GET", "/v3/auth/system", token=admin).get_json()["system"] == \
        [{"all": True}]
    catalog = api.call("GET", "/v3/auth/catalog", token=text).get_json()["catalog"]
    assert {s["type"] for s in catalog} == {"identity", "compute", "block-storage"}
    unscoped = api.token()
    assert api.call("GET", "/v3/auth/catalog", token=unscoped).status_code == 403


# Application credentials.
def make_app_cred(api, token, user="alice", **fields):
    return api.call("POST", f"/v3/users/{api.ids[user]}/application_credentials", token=token,
                    json={"application_credential": {"name": "ci", **fields}})


def app_cred_auth(api, **credential):
    return api.client.post("/v3/auth/tokens", json={"auth": {"identity": {
        "methods": ["application_credential"], "application_credential": credential}}})


def test_application_credential_lifecycle(api):
    text = api.scoped()
    created = make_app_cred(api, text, description="for CI")
    assert created.status_code == 201
    app_cred = created.get_json()["application_credential"]
    assert app_cred["secret"] and app_cred["project_id"] == api.ids["project-a"]
    assert {r["name"] for r in app_cred["roles"]} == {"member", "reader"}
    assert app_cred["unrestricted"] is False and app_cred["expires_at"] is None
    base = f"/v3/users/{api.ids['alice']}/application_credentials"
    shown = api.call("GET", f"{base}/{app_cred['id']}", token=text).get_json()
    assert "secret" not in shown["application_credential"]
    assert api.call("GET", f"{base}?name=ci", token=text).get_json()[
        "application_credentials"][0]["id"] == app_cred["id"]
    assert api.call("GET", f"{base}?name=other", token=text).get_json()[
        "application_credentials"] == []
    assert make_app_cred(api, text).status_code == 409

    by_id = app_cred_auth(api, id=app_cred["id"], secret=app_cred["secret"])
    assert by_id.status_code == 201
    token = by_id.get_json()["token"]
    assert token["project"]["id"] == api.ids["project-a"]
    assert token["methods"] == ["application_credential"]
    assert token["application_credential"] == {"id": app_cred["id"], "name": "ci",
                                               "restricted": True}
    by_name = app_cred_auth(api, name="ci", secret=app_cred["secret"],
                            user={"name": "alice", "domain": {"id": "default"}})
    assert by_name.status_code == 201
    assert app_cred_auth(api, id=app_cred["id"], secret="wrong").status_code == 401

    # A restricted credential's token may not manage credentials.
    app_token = by_id.headers["X-Subject-Token"]
    assert make_app_cred(api, app_token, name="another").status_code == 403

    assert api.call("DELETE", f"{base}/{app_cred['id']}", token=text).status_code == 204
    assert api.call("GET", "/v3/auth/projects", token=app_token).status_code == 401
    assert app_cred_auth(api, id=app_cred["id"], secret=app_cred["secret"]).status_code == 401
    assert api.call("GET", f"{base}/{app_cred['id']}", token=text).status_code == 404


def test_an_application_credential_cannot_ask_for_a_scope(api):
    secret = make_app_cred(api, api.scoped(), secret="my-own-secret").get_json()[
        "application_credential"]
    assert secret["secret"] == "my-own-secret"
    response = api.client.post("/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["application_credential"],
                     "application_credential": {"id": secret["id"], "secret": "my-own-secret"}},
        "scope": {"project": {"id": api.ids["project-a"]}}}})
    assert response.status_code == 401


def test_application_credential_roles_and_expiry(api):
    text = api.scoped()
    only_reader = make_app_cred(api, text, roles=[{"name": "reader"}]).get_json()[
        "application_credential"]
    assert [r["name"] for r in only_reader["roles"]] == ["reader"]
    token = app_cred_auth(api, id=only_reader["id"], secret=only_reader["secret"]).get_json()
    assert [r["name"] for r in token["token"]["roles"]] == ["reader"]
    # Asking for member brings reader along (member implies reader).
    member = make_app_cred(api, text, name="m", roles=[{"id": api.ids["role_member"]}])
    assert {r["name"] for r in member.get_json()["application_credential"]["roles"]} == \
        {"member", "reader"}
    response = make_app_cred(api, text, name="x", roles=[{"name": "admin"}])
    assert response.status_code == 400 and "unassigned role" in message(response)
    assert make_app_cred(api, text, name="y", roles=[{"name": "nope"}]).status_code == 404
    past = make_app_cred(api, text, name="z", expires_at="2000-01-01T00:00:00Z")
    assert past.status_code == 400
    assert make_app_cred(api, text, name="z", expires_at="soon").status_code == 400
    later = datetime.datetime.utcnow() + datetime.timedelta(minutes=5)
    made = make_app_cred(api, text, name="z", expires_at=later.isoformat()).get_json()[
        "application_credential"]
    assert made["expires_at"] == later.strftime("%Y-%m-%dT%H:%M:%S.%f")
    token = app_cred_auth(api, id=made["id"], secret=made["secret"]).get_json()["token"]
    assert token["expires_at"] <= later.strftime("%Y-%m-%dT%H:%M:%S.999999Z")
    with db.transaction():
        ApplicationCredential.update(expires_at=datetime.datetime(2001, 1, 1)).where(
            ApplicationCredential.id == made["id"]).execute()
    assert app_cred_auth(api, id=made["id"], secret=made["secret"]).status_code == 401


def test_application_credentials_belong_to_their_user(api):
    alice, bob = api.scoped(), api.scoped("bob", "project-b")
    app_cred = make_app_cred(api, alice).get_json()["application_credential"]
    base = f"/v3/users/{api.ids['alice']}/application_credentials"
    assert make_app_cred(api, bob, user="alice").status_code == 403
    assert api.call("GET", base, token=bob).status_code == 403
    assert api.call("GET", f"{base}/{app_cred['id']}", token=bob).status_code == 403
    assert api.call("DELETE", f"{base}/{app_cred['id']}", token=bob).status_code == 403
    bob_base = f"/v3/users/{api.ids['bob']}/application_credentials"
    assert api.call("GET", f"{bob_base}/{app_cred['id']}", token=bob).status_code == 404
    admin = api.scoped("admin", "admin_project")
    assert len(api.call("GET", base, token=admin).get_json()["application_credentials"]) == 1
    assert api.call("POST", f"/v3/users/{api.ids['alice']}/application_credentials",
                    token=api.token(), json={"application_credential": {"name": "u"}}
                    ).status_code == 400   # an unscoped token names no project


# Bootstrap.
def test_bootstrap_is_idempotent_and_follows_moved_endpoints(api):
    config = api.identity.config
    counts = (User.select().count(), CatalogService.select().count(), Endpoint.select().count())
    bootstrap.bootstrap(config)
    assert (User.select().count(), CatalogService.select().count(),
            Endpoint.select().count()) == counts
    config["ports"]["compute"] = 18774
    config["services"] = [*config["services"], "image"]
    bootstrap.bootstrap(config)
    compute = CatalogService.get(CatalogService.type == "compute")
    assert {e.url for e in compute.endpoints} == {f"http://{config.host}:18774/v2.1"}
    assert {e.interface for e in compute.endpoints} == {"public", "internal", "admin"}
    assert CatalogService.get(CatalogService.type == "image").name == "glance"
    identity = CatalogService.get(CatalogService.type == "identity")
    assert {e.url for e in identity.endpoints} == {f"{config.endpoint('identity')}/v3"}


def test_bootstrap_lists_only_services_that_answer(api):
    config = api.identity.config
    # What an earlier release left: entries for services not built, and one of an admin's.
    with db.transaction():
        for name, kind in (("volume", "block-storage"), ("telemetry", "metric")):
            stub = CatalogService.create(type=kind, name=kind,
                                         description=f"Stackbox {name} service")
            Endpoint.create(service=stub.id, interface="public", url="http://127.0.0.1:1",
                            region_id=config["region"])
        CatalogService.create(type="object-store", name="swift", description="our old Swift")
    config["services"] = [*config["services"], "volume", "telemetry"]

    bootstrap.bootstrap(config)

    left = {(s.type, s.description) for s in CatalogService.select()}
    assert not {("block-storage", "Stackbox volume service"),
                ("metric", "Stackbox telemetry service")} & left
    assert ("object-store", "our old Swift") in left   # an admin's entries stay
    assert Endpoint.select().where(Endpoint.url == "http://127.0.0.1:1").count() == 0
    config["services"] = ["identity"]
    bootstrap.bootstrap(config)
    assert {s.type for s in CatalogService.select()
            if s.description.startswith("Stackbox ")} == {"identity"}


def test_bootstrap_keeps_a_changed_admin_password(api):
    from undercloud.identity import passwords
    admin = User.get(User.name == "admin")
    passwords.store_password(api.identity.config, admin,
                             passwords.hash_password(api.identity.config, "changed-it"))
    bootstrap.bootstrap(api.identity.config)
    assert api.auth("admin", "changed-it").status_code == 201


@pytest.mark.parametrize("document", [
    {"identity": {"methods": ["password"], "password": {"user": {"name": "a", "password": "p",
                                                                 "domain": {"id": "d"}}}}},
    {"identity": {"methods": ["token"], "token": {"id": "t"}}, "scope": "unscoped"},
    {"identity": {"methods": ["token"], "token": {"id": "t"}},
     "scope": {"system": {"all": True}}},
    {"identity": {"methods": ["password"], "password": {"user": {"name": 1}}}},
    {"identity": {"methods": []}},
    {"identity": {"methods": [1]}},
    {"identity": {"methods": ["token"], "token": {}}},
    {"identity": {"methods": ["token"], "token": {"id": "t"}}, "scope": {"system": {"all": 1}}},
    {"identity": {"methods": ["token"], "token": {"id": True}}},
    {"identity": {"methods": ["token"], "token": {"id": "t"}}, "scope": 5},
    {"scope": {}},
])
def test_the_quick_schema_check_agrees_with_jsonschema(document):
    import jsonschema
    from undercloud.identity.routes import auth
    expected = jsonschema.Draft202012Validator(auth.AUTH_SCHEMA).is_valid(document)
    assert auth._fits(document, auth.AUTH_SCHEMA) == expected
