"""Tokens as the identity service makes and checks them: payload, keys, expiry, revocation.

`identity` is a fresh SQLite identity database after bootstrap (the Default domain, the
admin/member/reader roles, the admin project and user, the catalog) plus alice, a member
of project-a, and bob, a member of project-b. The bus is off: revocations reach the
process's index directly, and "another process" is played by writing to the table.
"""
import dataclasses
import json
import time

import pytest

from undercloud import db
from undercloud.common import config as configuration
from undercloud.common import secrets
from undercloud.common.context import RequestContext
from undercloud.common.errors import Unauthorized
from undercloud.common.files import write_secret
from undercloud.identity import bootstrap, effective, keys, passwords, revocation, tokens
from undercloud.identity.models import (
    DEFAULT_DOMAIN_ID,
    ApplicationCredential,
    CatalogService,
    Domain,
    Endpoint,
    Group,
    GroupMembership,
    ImpliedRole,
    Project,
    RevocationEvent,
    Role,
    RoleAssignment,
    User,
)

PASSWORD = "secret-Passw0rd"
A = RoleAssignment


@dataclasses.dataclass
class Identity:
    config: configuration.Config
    ids: dict

    def issue(self, user="alice", **scope):
        text, _ = tokens.issue(self.config, user_id=self.ids[user],
                               methods=scope.pop("methods", ["password"]), **scope)
        return text


def grant(actor_id, role_id, target_id, kind=A.USER_PROJECT, inherited=False):
    with db.transaction():
        A.create(type=kind, actor_id=actor_id, target_id=target_id, role=role_id,
                 inherited=inherited)


def make_identity(tmp_path, database_url=None, **identity_settings) -> Identity:
    """A bootstrapped identity database with alice on project-a and bob on project-b."""
    config = configuration.load(environ={}, overrides={
        "data_dir": str(tmp_path), "services": ["identity", "compute"],
        "database": {"url": database_url},
        "identity": {"password_hash_rounds": 4, **identity_settings}})
    write_secret(secrets.admin_password_file(config), PASSWORD)
    keys.initialize(secrets.token_keys_dir(config))
    db.connect(config)
    db.migrate(config, ["identity"])
    bootstrap.bootstrap(config)
    revocation.configure(config, bus=False)
    tokens.configure(config)
    hashed = passwords.hash_password(config, PASSWORD)
    ids = {f"role_{r.name}": r.id for r in Role.select()}
    ids["admin"] = User.get(User.name == "admin").id
    ids["admin_project"] = Project.get(Project.name == "admin").id
    with db.transaction():
        # An entry whose URL holds the project, as an admin may add (block storage does).
        volume = CatalogService.create(type="block-storage", name="cinder")
        Endpoint.create(service=volume.id, interface="public", region_id=config["region"],
                        url=config.endpoint("volume") + "/v3/$(project_id)s")
        for user, project in (("alice", "project-a"), ("bob", "project-b")):
            ids[project] = Project.create(name=project, domain=DEFAULT_DOMAIN_ID).id
            ids[user] = User.create(name=user, domain=DEFAULT_DOMAIN_ID).id
            passwords.store_password(config, User.get_by_id(ids[user]), hashed)
            grant(ids[user], ids["role_member"], ids[project])
    return Identity(config, ids)


@pytest.fixture
def identity(tmp_path):
    return make_identity(tmp_path)


# The payload.
@pytest.mark.parametrize("scope", [
    {}, {"project_id": "9f3c2b1a0e4d4c5b8a7f6e5d4c3b2a19"}, {"domain_id": "default"},
    {"system": True},
    {"project_id": "not-hex-project", "app_cred_id": "0123456789abcdef0123456789abcdef"}])
def test_a_payload_survives_packing(scope):
    payload = tokens.Payload("0123456789abcdef0123456789abcdef", ["password", "token"],
                             1_900_000_000, 1_899_996_400_123_456,
                             [tokens.new_audit_id(), tokens.new_audit_id()], **scope)
    assert tokens.unpack(tokens.pack(payload)) == payload


def test_odd_ids_and_audit_ids_survive_packing():
    payload = tokens.Payload("Ünïcode-user", ["application_credential"], 1, 2,
                             ["not-an-audit-id", "ABCDEFGHIJKLMNOPQRSTUV"],
                             project_id="0123456789ABCDEF0123456789ABCDEF")
    assert tokens.unpack(tokens.pack(payload)) == payload


def test_a_token_is_compact(identity):
    text = identity.issue(project_id=identity.ids["project-a"], methods=["password", "token"],
                          audit_chain_id=tokens.new_audit_id())
    assert len(text) <= 250
    assert "=" not in text and text.startswith("gAAAAA")


def test_garbage_and_tampered_tokens_are_refused(identity):
    text = identity.issue()
    tampered = text[:60] + ("A" if text[60] != "A" else "B") + text[61:]
    for bad in ("", "x" * 2000, "not a token", tampered, text + "A", 42, "gAAAAAé"):
        with pytest.raises(tokens.InvalidToken):
            tokens.decode(bad)


def test_a_malformed_payload_under_a_good_key_is_refused(identity):
    from cryptography.fernet import MultiFernet
    fernet: MultiFernet = tokens._fernet()
    for payload in (b"", b"\x01", b"\x09" + b"\x00" * 40, tokens.pack(tokens.Payload(
            "u", ["password"], 1, 2, ["a"])) + b"trailing"):
        text = fernet.encrypt(payload).decode().rstrip("=")
        with pytest.raises(tokens.InvalidToken, match="malformed"):
            tokens.decode(text)


# Issuing and validating.
def test_an_issued_token_validates_to_the_callers_context(identity):
    text = identity.issue(project_id=identity.ids["project-a"])
    context = tokens.validator(identity.config)(text)
    assert isinstance(context, RequestContext)
    assert (context.user_id, context.user_name, context.user_domain_id) == \
        (identity.ids["alice"], "alice", "default")
    assert (context.project_id, context.project_name, context.project_domain_id) == \
        (identity.ids["project-a"], "project-a", "default")
    assert sorted(context.roles) == ["member", "reader"]
    assert context.methods == ["password"] and len(context.audit_ids) == 1
    assert context.token == text and context.expires_at.endswith("Z")
    # Each request gets its own copy: the app writes request_id on it.
    again = tokens.validator(identity.config)(text)
    assert again is not context and again.roles is not context.roles


def test_the_validator_answers_401_for_a_bad_token(identity):
    validate = tokens.validator(identity.config)
    with pytest.raises(Unauthorized):
        validate("nonsense")


def test_scopes_carry_their_roles(identity):
    ids = identity.ids
    admin_domain = tokens.lookup(identity.issue("admin", system=True))
    assert admin_domain.payload.system and {r["name"] for r in admin_domain.roles} == \
        {"admin", "member", "reader"}
    grant(ids["alice"], ids["role_reader"], "default", kind=A.USER_DOMAIN)
    on_domain = tokens.lookup(identity.issue(domain_id="default"))
    assert on_domain.domain == {"id": "default", "name": "Default"}
    assert [r["name"] for r in on_domain.roles] == ["reader"]
    unscoped = tokens.lookup(identity.issue())
    assert unscoped.roles == [] and not unscoped.payload.scoped


def test_a_scope_without_a_role_is_no_access(identity):
    with pytest.raises(tokens.NoAccess, match="has no access to project"):
        identity.issue(project_id=identity.ids["project-b"])
    with pytest.raises(tokens.NoAccess, match="has no access to the system"):
        identity.issue(system=True)
    with pytest.raises(tokens.NoAccess, match="has no access to domain"):
        identity.issue(domain_id="default")
    with pytest.raises(tokens.ScopeUnusable, match="Could not find project"):
        identity.issue(project_id="nope")


def test_expired_tokens_are_refused_unless_allowed(identity):
    text, _ = tokens.issue(identity.config, user_id=identity.ids["alice"], methods=["password"],
                           expires_at=int(time.time()) - 10)
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.lookup(text)
    assert tokens.lookup(text, allow_expired_seconds=3600).payload.user_id == identity.ids["alice"]


def test_a_cached_token_still_expires(identity, monkeypatch):
    text, _ = tokens.issue(identity.config, user_id=identity.ids["alice"], methods=["password"],
                           expires_at=int(time.time()) + 60)
    tokens.lookup(text)
    monkeypatch.setattr(tokens.time, "time", lambda: time.monotonic() + 10 ** 10)
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.lookup(text)


def test_a_disabled_user_or_project_invalidates_tokens_once_the_cache_ages(identity, monkeypatch):
    text = identity.issue(project_id=identity.ids["project-a"])
    tokens.lookup(text)
    with db.transaction():
        Project.update(enabled=False).where(Project.id == identity.ids["project-a"]).execute()
    monkeypatch.setattr(tokens, "CACHE_SECONDS", 0)
    with pytest.raises(tokens.InvalidToken, match="disabled"):
        tokens.lookup(text)
    with db.transaction():
        Project.update(enabled=True).where(Project.id == identity.ids["project-a"]).execute()
        User.update(enabled=False).where(User.id == identity.ids["alice"]).execute()
    with pytest.raises(tokens.InvalidToken, match="disabled"):
        tokens.lookup(text)


def test_losing_the_role_on_the_project_invalidates_the_token(identity, monkeypatch):
    text = identity.issue(project_id=identity.ids["project-a"])
    with db.transaction():
        A.delete().where(A.actor_id == identity.ids["alice"]).execute()
    revocation.flush_token_cache()   # what the assignment routes do
    with pytest.raises(tokens.NoAccess):
        tokens.lookup(text)


# Keys.
def test_a_token_survives_one_rotation_until_its_key_is_pruned(identity, monkeypatch):
    monkeypatch.setattr(keys, "CHECK_SECONDS", 0)
    text = identity.issue(project_id=identity.ids["project-a"])
    assert tokens.lookup(text)   # cached now
    directory = secrets.token_keys_dir(identity.config)
    keys.rotate(directory)
    assert tokens.lookup(text).payload.user_id == identity.ids["alice"]
    newer = identity.issue()
    assert tokens.decode(newer)
    keys.rotate(directory)   # prunes key 1, which sealed the first token: the cache lets go
    with pytest.raises(tokens.InvalidToken, match="active key"):
        tokens.lookup(text)
    assert tokens.lookup(newer).payload.user_id == identity.ids["alice"]


# Revocation.
@pytest.mark.parametrize("by", ["user_id", "project_id", "audit_id", "audit_chain_id",
                                "domain_id", "role_id"])
def test_revocation_by_each_field(identity, by):
    ids = identity.ids
    text = identity.issue(project_id=ids["project-a"])
    other = identity.issue("bob", project_id=ids["project-b"])
    token = tokens.lookup(text)
    value = {"user_id": ids["alice"], "project_id": ids["project-a"],
             "audit_id": token.payload.audit_ids[0],
             "audit_chain_id": token.payload.audit_chain_id,
             "domain_id": "default", "role_id": ids["role_member"]}[by]
    revocation.revoke(**{by: value})
    with pytest.raises(tokens.InvalidToken, match="revoked"):
        tokens.lookup(text)
    if by not in ("domain_id", "role_id"):
        assert tokens.lookup(other).payload.user_id == ids["bob"]
    # A token issued after the event is not revoked by it.
    assert tokens.lookup(identity.issue(project_id=ids["project-a"]))


def test_revoking_a_chain_revokes_the_rescoped_tokens(identity):
    ids = identity.ids
    first = tokens.lookup(identity.issue())
    rescoped = identity.issue(project_id=ids["project-a"], methods=["password", "token"],
                              expires_at=first.payload.expires_at,
                              audit_chain_id=first.payload.audit_chain_id)
    assert tokens.lookup(rescoped).payload.audit_chain_id == first.payload.audit_ids[0]
    revocation.revoke(audit_id=first.payload.audit_ids[0])
    assert tokens.lookup(rescoped)          # revoking one token leaves its rescopes
    revocation.revoke(audit_chain_id=first.payload.audit_ids[0])
    with pytest.raises(tokens.InvalidToken, match="revoked"):
        tokens.lookup(rescoped)


def test_revocation_needs_a_field():
    with pytest.raises(ValueError):
        revocation.revoke()


def test_an_event_written_by_another_process_is_seen_by_sync(identity):
    text = identity.issue()
    payload = tokens.lookup(text).payload
    with db.transaction():
        RevocationEvent.create(audit_id=payload.audit_ids[0], issued_before=db.utcnow())
    tokens.lookup(text)   # still cached: this process has not looked yet
    revocation.sync()
    with pytest.raises(tokens.InvalidToken, match="revoked"):
        tokens.lookup(text)


def test_the_index_refreshes_by_itself(identity, monkeypatch):
    text = identity.issue()
    with db.transaction():
        RevocationEvent.create(user_id=identity.ids["alice"], issued_before=db.utcnow())
    monkeypatch.setattr(revocation, "REFRESH_SECONDS", 0)
    with pytest.raises(tokens.InvalidToken, match="revoked"):
        tokens.lookup(text)


def test_an_announced_event_applies_at_once(identity):
    text = identity.issue()
    payload = tokens.lookup(text).payload
    event = revocation.Event("from-elsewhere", revocation.to_micros(db.utcnow()),
                             audit_id=payload.audit_ids[0])
    revocation._on_message({"event_type": revocation.REVOKED, "payload": event.to_message()})
    with pytest.raises(tokens.InvalidToken, match="revoked"):
        tokens.lookup(text)


def test_revocation_state_is_remade_after_fork(identity, monkeypatch):
    state = revocation._current()
    monkeypatch.setattr(revocation.os, "getpid", lambda: state.pid + 1)
    assert revocation._current() is not state


def test_revoke_prunes_events_no_token_can_match(identity):
    with db.transaction():
        RevocationEvent.create(user_id="old", issued_before=db.utcnow().replace(year=2000))
    revocation.revoke(user_id="new")
    assert [e.user_id for e in RevocationEvent.select()] == ["new"]


# Roles: the one-query version agrees with effective.roles.
def test_token_roles_match_effective_roles(identity):
    ids = identity.ids
    with db.transaction():
        parent = Project.create(name="parent", domain=DEFAULT_DOMAIN_ID)
        child = Project.create(name="child", domain=DEFAULT_DOMAIN_ID, parent=parent)
        grandchild = Project.create(name="grandchild", domain=DEFAULT_DOMAIN_ID, parent=child)
        other = Domain.create(name="other")
        group = Group.create(name="ops", domain=DEFAULT_DOMAIN_ID)
        GroupMembership.create(group=group, user=ids["alice"])
        special = Role.create(name="special", domain_id=other.id)
        auditor = Role.create(name="auditor")
        ImpliedRole.create(prior_role=special, implied_role=auditor)
    grant(group.id, ids["role_admin"], parent.id, A.GROUP_PROJECT, inherited=True)
    grant(ids["alice"], ids["role_reader"], "default", A.USER_DOMAIN, inherited=True)
    grant(ids["alice"], special.id, child.id)
    grant(group.id, ids["role_member"], other.id, A.GROUP_DOMAIN)
    grant(ids["alice"], ids["role_reader"], "system", A.USER_SYSTEM)
    grant(ids["bob"], ids["role_admin"], child.id)
    targets = [{"project_id": p} for p in (parent.id, child.id, grandchild.id, ids["project-a"],
                                           ids["project-b"], "missing")]
    targets += [{"domain_id": d} for d in ("default", other.id)] + [{"system": True}]
    for user in ("alice", "bob", "admin"):
        for target in targets:
            expected = sorted(r.name for r in effective.roles(ids[user], **target)
                              if r.domain_id is None)
            found = sorted(r["name"] for r in tokens.role_list(ids[user], **target))
            assert found == expected, (user, target)
    assert {r["name"] for r in tokens.role_list(ids["alice"], project_id=child.id)} == \
        {"admin", "member", "reader", "auditor"}


# Application credentials.
def test_an_application_credential_token_carries_its_roles_only(identity):
    ids = identity.ids
    grant(ids["alice"], ids["role_admin"], ids["project-a"])
    with db.transaction():
        app_cred = ApplicationCredential.create(
            name="ci", user=ids["alice"], project_id=ids["project-a"], secret_hash="x",
            roles=[{"id": ids["role_reader"], "name": "reader", "domain_id": None}])
    token = tokens.lookup(identity.issue(project_id=ids["project-a"], app_cred_id=app_cred.id,
                                         methods=["application_credential"]))
    assert [r["name"] for r in token.roles] == ["reader"]
    assert token.body()["token"]["application_credential"] == \
        {"id": app_cred.id, "name": "ci", "restricted": True}
    text = token.text
    with db.transaction():
        ApplicationCredential.delete().execute()
    revocation.flush_token_cache()
    with pytest.raises(tokens.InvalidToken, match="application credential"):
        tokens.lookup(text)


def test_the_body_matches_keystone(identity):
    ids = identity.ids
    token = tokens.lookup(identity.issue(project_id=ids["project-a"]))
    body = token.body()["token"]
    assert list(body) == ["methods", "user", "audit_ids", "expires_at", "issued_at", "project",
                          "is_domain", "roles", "catalog"]
    assert body["user"] == {"domain": {"id": "default", "name": "Default"},
                            "id": ids["alice"], "name": "alice", "password_expires_at": None}
    assert body["project"] == {"domain": {"id": "default", "name": "Default"},
                               "id": ids["project-a"], "name": "project-a"}
    assert body["expires_at"].endswith(".000000Z") and len(body["issued_at"]) == 27
    volume = next(s for s in body["catalog"] if s["type"] == "block-storage")
    assert {e["url"] for e in volume["endpoints"]} == \
        {f"{identity.config.endpoint('volume')}/v3/{ids['project-a']}"}
    assert json.loads(token.json()) == {"token": body}
    assert "catalog" not in json.loads(token.json(include_catalog=False))["token"]
    unscoped = tokens.lookup(identity.issue()).body()["token"]
    assert not {"catalog", "roles", "project"} & set(unscoped)


def test_configuring_another_database_forgets_the_cache(identity, tmp_path):
    tokens.lookup(identity.issue())
    assert tokens._cache
    make_identity(tmp_path / "other")
    assert not tokens._cache


@pytest.mark.postgres
def test_the_plain_sql_runs_on_postgresql(tmp_path, postgres_db_url):
    identity = make_identity(tmp_path, postgres_db_url)
    ids = identity.ids
    with db.transaction():
        group = Group.create(name="ops", domain=DEFAULT_DOMAIN_ID)
        GroupMembership.create(group=group, user=ids["alice"])
        child = Project.create(name="child", domain=DEFAULT_DOMAIN_ID, parent=ids["project-a"])
    grant(group.id, ids["role_admin"], ids["project-a"], A.GROUP_PROJECT, inherited=True)
    grant(ids["alice"], ids["role_reader"], "default", A.USER_DOMAIN)
    token = tokens.lookup(identity.issue(project_id=child.id))
    assert {r["name"] for r in token.roles} == {"admin", "member", "reader"}
    assert token.body()["token"]["catalog"]
    assert tokens.lookup(identity.issue(domain_id="default")).roles[0]["name"] == "reader"
    assert tokens.lookup(identity.issue("admin", system=True)).roles
    with db.transaction():
        User.update(password_expires_at=db.utcnow().replace(year=2100)).where(
            User.id == ids["alice"]).execute()
        app_cred = ApplicationCredential.create(
            name="ci", user=ids["alice"], project_id=ids["project-a"], secret_hash="x",
            roles=[{"id": ids["role_member"], "name": "member", "domain_id": None}])
    revocation.flush_token_cache()
    text = identity.issue(project_id=ids["project-a"], app_cred_id=app_cred.id,
                          methods=["application_credential"])
    token = tokens.lookup(text)
    assert [r["name"] for r in token.roles] == ["member"]
    assert token.user["password_expires_at"].startswith("2100-")
    revocation.revoke(user_id=ids["alice"])
    revocation.sync()
    with pytest.raises(tokens.InvalidToken, match="revoked"):
        tokens.lookup(text)
