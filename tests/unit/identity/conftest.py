"""The identity app's resource APIs through Flask's test client, and the `cloud` fixture.

`cloud` is a fresh SQLite identity database with Keystone's bootstrap shape (the
Default domain, admin/member/reader roles with admin implying member implying
reader, an admin) plus project-a with alice as member and project-b with bob.
Tokens are faked: `cloud.get(path, as_="alice")` sends alice's token, whose
RequestContext the fake validator returns. Revocations are recorded in
`cloud.revoked` instead of being stored.
"""
import dataclasses

import pytest
from flask.testing import FlaskClient

from undercloud import db
from undercloud.common import config as configuration
from undercloud.common import errors, wsgi
from undercloud.common.context import RequestContext
from undercloud.identity import passwords, revocation
from undercloud.identity.models import (DEFAULT_DOMAIN_ID, Domain, ImpliedRole, Project, Role,
                                        RoleAssignment, User)
from undercloud.services import SERVICES

PASSWORD = "secret-Passw0rd"


@dataclasses.dataclass
class Cloud:
    client: FlaskClient
    config: configuration.Config
    contexts: dict
    revoked: list
    ids: dict

    def call(self, method, path, as_="admin", json=None, data=None, headers=None):
        headers = dict(headers or {})
        if as_ is not None:
            headers["X-Auth-Token"] = as_
        return self.client.open(path, method=method, json=json, data=data, headers=headers)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def head(self, path, **kw):
        return self.call("HEAD", path, **kw)

    def post(self, path, json=None, **kw):
        return self.call("POST", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.call("PUT", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.call("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def login(self, name, user_id, project_id=None, roles=(), domain_id=None, system=False):
        """A token for the user with these (already effective) roles."""
        self.contexts[name] = RequestContext(
            user_id=user_id, user_domain_id=DEFAULT_DOMAIN_ID, project_id=project_id,
            project_domain_id=DEFAULT_DOMAIN_ID if project_id else None, domain_id=domain_id,
            system_scope="all" if system else None, roles=list(roles))
        return name


def _grant(user, role, project=None, domain=None, system=False):
    kind = (RoleAssignment.USER_SYSTEM if system else
            RoleAssignment.USER_DOMAIN if domain else RoleAssignment.USER_PROJECT)
    target = "system" if system else (domain or project).id
    RoleAssignment.create(type=kind, actor_id=user.id, target_id=target, role=role)


def _seed(config) -> dict:
    hashed = passwords.hash_password(config, PASSWORD)
    with db.transaction():
        Domain.create(id=DEFAULT_DOMAIN_ID, name="Default", description="The default domain")
        roles = {name: Role.create(name=name) for name in ("admin", "member", "reader")}
        ImpliedRole.create(prior_role=roles["admin"], implied_role=roles["member"])
        ImpliedRole.create(prior_role=roles["member"], implied_role=roles["reader"])
        admin_project = Project.create(name="admin", domain=DEFAULT_DOMAIN_ID)
        project_a = Project.create(name="project-a", domain=DEFAULT_DOMAIN_ID)
        project_b = Project.create(name="project-b", domain=DEFAULT_DOMAIN_ID)
        users = {}
        for name in ("admin", "alice", "bob"):
            users[name] = User.create(name=name, domain=DEFAULT_DOMAIN_ID)
            passwords.store_password(config, users[name], hashed)
        _grant(users["admin"], roles["admin"], project=admin_project)
        _grant(users["admin"], roles["admin"], system=True)
        _grant(users["alice"], roles["member"], project=project_a)
        _grant(users["bob"], roles["member"], project=project_b)
    return {"admin": users["admin"].id, "alice": users["alice"].id, "bob": users["bob"].id,
            "admin_project": admin_project.id, "project_a": project_a.id,
            "project_b": project_b.id, **{f"role_{n}": r.id for n, r in roles.items()}}


def make_cloud(tmp_path, monkeypatch, database_url=None, **identity_settings) -> Cloud:
    config = configuration.load(environ={}, overrides={
        "data_dir": str(tmp_path), "database": {"url": database_url},
        "identity": {"password_hash_rounds": 4, **identity_settings}})
    db.connect(config)
    db.migrate(config, ["identity"])
    ids = _seed(config)
    contexts: dict = {}

    def validate(token):
        if token not in contexts:
            raise errors.Unauthorized("The request you have made requires authentication.")
        return dataclasses.replace(contexts[token])

    revoked: list = []
    monkeypatch.setattr(revocation, "revoke", lambda **fields: revoked.append(fields))
    monkeypatch.setattr(revocation, "flush_token_cache", lambda: None)
    app = wsgi.create_app(config, SERVICES["identity"], validate_token=validate)
    cloud = Cloud(app.test_client(), config, contexts, revoked, ids)
    cloud.login("admin", ids["admin"], ids["admin_project"], ["admin", "member", "reader"])
    cloud.login("alice", ids["alice"], ids["project_a"], ["member", "reader"])
    cloud.login("bob", ids["bob"], ids["project_b"], ["member", "reader"])
    cloud.login("system-reader", ids["bob"], roles=["reader"], system=True)
    return cloud


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def cloud(request, tmp_path, monkeypatch) -> Cloud:
    """The cloud on SQLite, and again on a real PostgreSQL server."""
    url = request.getfixturevalue("postgres_migrated_url") if request.param == "postgresql" \
        else None
    return make_cloud(tmp_path, monkeypatch, database_url=url)


@pytest.fixture
def compliant_cloud(tmp_path, monkeypatch):
    """make(**security_compliance) -> a new Cloud with those [identity] settings."""
    made = []

    def make(**settings):
        made.append(settings)
        return make_cloud(tmp_path / f"cloud-{len(made)}", monkeypatch, **settings)
    return make


def error(response) -> dict:
    """The Keystone error body, checked for its shape."""
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "title", "message"}, body
    assert body["error"]["code"] == response.status_code
    return body["error"]
